package templates_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// maxFuzzSource bounds each fuzzed template part; the server's own bound on
// a saved template is of the same order, and longer sources only slow the
// fuzzer down.
const maxFuzzSource = 4 << 10

// wantPartError fails tb unless err is Invalid naming one of the parts.
func wantPartError(tb testing.TB, what string, err error, parts ...string) {
	tb.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
		tb.Fatalf("%s = %v (%T), want an apperr Invalid", what, err, err)
	}
	if f := violationField(err); !slices.Contains(parts, f) {
		tb.Fatalf("%s = %v names %q, want one of %v", what, err, f, parts)
	}
}

// FuzzRender renders developer-written template sources with the sample
// values. A refusal is Invalid naming the part; a rendering has a one-line
// subject, parts within the output cap, and is the same when done again;
// a template Check accepts renders.
func FuzzRender(f *testing.F) {
	for _, k := range templates.Kinds() {
		if d, ok := templates.Default(k, "en"); ok {
			f.Add(string(k), d.Subject, d.Text, d.HTML)
		}
	}
	for _, s := range [][3]string{
		{"Hi {{.AppName}}", "{{.Code}}", "<a href=\"{{.Link}}\">go</a>"},
		{"{{.Nope}}", "", ""},
		{"{{range 10}}x{{end}}", "", ""},
		{"s", "{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}", ""},
		{"s", "{{block \"b\" .}}x{{end}}", ""},
		{"s", `{{printf "%0999999d" 0}}{{printf "%0999999d" 0}}`, ""},
		{"s", "", `<a href="javascript:alert(1)">x</a><script>{{.Handle}}</script>`},
		{"line\r\nBcc: evil@example.com", "t", ""},
		{"{{if .Code}}{{else}}{{.Missing}}{{end}}", "t", ""},
		{"{{with $x := .AppName}}{{$x}}{{end}}", "{{len .Handle}} {{index .Code 0}} {{slice .Link 0 5}}", ""},
		{"{{", "}}", "<{{"},
		{"{{call .AppName}}", "{{js .Handle}}{{urlquery .Link}}{{html .Code}}", "<style>{{.AppName}}</style>"},
	} {
		f.Add(string(templates.KindWelcome), s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, kind, subject, text, html string) {
		if len(subject)+len(text)+len(html) > maxFuzzSource {
			return
		}
		tpl := templates.Template{Kind: templates.Kind(kind), Locale: "en", Subject: subject, Text: text, HTML: html}
		r, err := templates.Render(tpl, templates.SampleVars(""))
		checkErr := templates.Check(tpl)
		if err != nil {
			wantPartError(t, "Render", err, "subject", "text", "html")
			if checkErr == nil {
				t.Fatalf("Check accepted %+v, which does not render: %v", tpl, err)
			}
			return
		}
		if checkErr != nil {
			wantPartError(t, "Check", checkErr, "kind", "subject", "text", "html")
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Fatalf("Render(%q) subject %q is not one line", subject, r.Subject)
		}
		for _, part := range []string{r.Subject, r.Text, r.HTML} {
			if len(part) > 1<<20 {
				t.Fatalf("Render made a part of %d bytes, past the 1 MiB cap", len(part))
			}
		}
		again, err := templates.Render(tpl, templates.SampleVars(""))
		if err != nil || again != r {
			t.Fatalf("Render(%+v) twice = %+v, %v; first %+v", tpl, again, err, r)
		}
	})
}

// FuzzRenderVars renders every built-in template with hostile values (an
// app name, handle and link an attacker chose): the defaults always render,
// the subject stays one line, and a value adds no markup to the HTML.
func FuzzRenderVars(f *testing.F) {
	f.Add("Acme", "ann@example.com", "https://auth.example.com/l?t=1")
	f.Add("<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>@x.com", "javascript:alert(1)")
	f.Add("Line\nBreak\r\nBcc: x@y", "{{.Code}}", "data:text/html,<b>x</b>")
	f.Add("\x00\xff\xfe", "ann@example.com\u2028", "https://x/\u202e")
	f.Fuzz(func(t *testing.T, app, handle, link string) {
		v := templates.Vars{AppName: app, Handle: handle, Code: "123456", Link: link, ExpiresIn: "15 minutes"}
		for _, k := range templates.Kinds() {
			d, ok := templates.Default(k, "en")
			if !ok {
				continue
			}
			r, err := templates.Render(d, v)
			if err != nil {
				if len(app)+len(handle)+len(link) > 1<<19 {
					continue // the output cap, fairly reached
				}
				t.Fatalf("Render(default %s, %+v) = %v", k, v, err)
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Fatalf("Render(default %s) subject %q is not one line", k, r.Subject)
			}
			// A value is escaped wherever it lands, so it adds no markup:
			// the HTML has as many "<" as with the sample values.
			sample, err := templates.Render(d, templates.SampleVars("Acme"))
			if err != nil {
				t.Fatalf("Render(default %s, sample) = %v", k, err)
			}
			if app != "" && handle != "" && link != "" && strings.Count(r.HTML, "<") != strings.Count(sample.HTML, "<") {
				t.Fatalf("Render(default %s, %+v) HTML has %d \"<\", want %d: a value added markup:\n%s",
					k, v, strings.Count(r.HTML, "<"), strings.Count(sample.HTML, "<"), r.HTML)
			}
		}
	})
}
