package templates_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// violationField returns the field of the single violation of an Invalid
// apperr, or "" when err is not one.
func violationField(err error) string {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid || len(e.Violations()) != 1 {
		return ""
	}
	return e.Violations()[0].Field
}

func TestDefaultsRender(t *testing.T) {
	t.Parallel()
	const handle = "<b>x</b>@example.com"
	v := templates.Vars{
		AppName:   "Acme",
		Handle:    handle,
		Code:      "482913",
		Link:      "https://auth.example.com/apps/acme/link?token=abc&x=1",
		ExpiresIn: "15 minutes",
	}
	// What each kind must show: the code, the link, the expiry.
	tests := []struct {
		kind              templates.Kind
		code, link, until bool
	}{
		{templates.KindSignupCode, true, false, true},
		{templates.KindSignupLink, true, true, true},
		{templates.KindLinkLanding, false, false, false},
		{templates.KindWelcome, false, false, false},
		{templates.KindPasswordReset, true, false, true},
		{templates.KindInvite, true, true, true},
		{templates.KindTOTPQR, true, true, false},
		{templates.KindSMS, true, false, false},
		{templates.KindAccountExists, false, false, false},
	}
	var covered []templates.Kind
	for _, tt := range tests {
		covered = append(covered, tt.kind)
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			tmpl, ok := templates.Default(tt.kind, "en")
			if !ok {
				t.Fatalf("Default(%q, en) missing", tt.kind)
			}
			if tmpl.Kind != tt.kind || tmpl.Locale != "en" {
				t.Errorf("Default(%q, en) = kind %q locale %q", tt.kind, tmpl.Kind, tmpl.Locale)
			}
			if err := templates.Check(tmpl); err != nil {
				t.Errorf("Check(default %q) = %v, want nil", tt.kind, err)
			}
			r, err := templates.Render(tmpl, v)
			if err != nil {
				t.Fatalf("Render(default %q): %v", tt.kind, err)
			}

			if tt.kind == templates.KindSMS {
				if want := "482913 is your Acme code"; r.Text != want || r.Subject != "" || r.HTML != "" {
					t.Errorf("sms = %+v, want text %q only", r, want)
				}
				return
			}
			if r.Subject == "" || strings.Contains(r.Subject, "\n") || !strings.Contains(r.Subject, "Acme") {
				t.Errorf("Subject = %q, want one line naming the app", r.Subject)
			}
			if strings.Contains(r.HTML, "<b>x</b>") || !strings.Contains(r.HTML, "&lt;b&gt;x&lt;/b&gt;@example.com") {
				t.Errorf("HTML does not escape the handle:\n%s", r.HTML)
			}
			if !strings.Contains(r.Text, handle) {
				t.Errorf("Text = %q, want the handle as is", r.Text)
			}
			for _, part := range []struct{ name, s string }{{"Text", r.Text}, {"HTML", r.HTML}} {
				if !strings.Contains(part.s, "Acme") {
					t.Errorf("%s does not name the app:\n%s", part.name, part.s)
				}
				if tt.code && !strings.Contains(part.s, "482913") {
					t.Errorf("%s lacks the code:\n%s", part.name, part.s)
				}
				if tt.until && !strings.Contains(part.s, "15 minutes") {
					t.Errorf("%s lacks the expiry:\n%s", part.name, part.s)
				}
				if strings.Contains(part.s, "{{") || strings.Contains(part.s, "<no value>") {
					t.Errorf("%s has an unfilled macro:\n%s", part.name, part.s)
				}
			}
			if tt.link {
				if !strings.Contains(r.Text, v.Link) {
					t.Errorf("Text lacks the link:\n%s", r.Text)
				}
				if !strings.Contains(r.HTML, `="https://auth.example.com/apps/acme/link?token=abc&amp;x=1"`) {
					t.Errorf("HTML lacks the link as an attribute:\n%s", r.HTML)
				}
			}
			if strings.Contains(strings.ToLower(r.HTML), "<table") {
				t.Errorf("HTML uses tables")
			}
		})
	}
	if !slices.Equal(covered, templates.Kinds()) {
		t.Errorf("test covers %q, Kinds() = %q", covered, templates.Kinds())
	}
}

func TestDefaultLookup(t *testing.T) {
	t.Parallel()
	if got := templates.DefaultLocales(); !slices.Equal(got, []string{"en"}) {
		t.Errorf("DefaultLocales() = %q, want [en]", got)
	}
	tests := []struct {
		kind   templates.Kind
		locale string
		ok     bool
	}{
		{templates.KindWelcome, "en", true},
		{templates.KindWelcome, "fr", false},
		{templates.KindWelcome, "", false},
		{"nope", "en", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.locale, func(t *testing.T) {
			t.Parallel()
			if _, ok := templates.Default(tt.kind, tt.locale); ok != tt.ok {
				t.Errorf("Default(%q, %q) ok = %v, want %v", tt.kind, tt.locale, ok, tt.ok)
			}
		})
	}
}

func TestInviteWithoutLink(t *testing.T) {
	t.Parallel()
	tmpl, _ := templates.Default(templates.KindInvite, "en")
	r, err := templates.Render(tmpl, templates.Vars{AppName: "Acme", Handle: "jane@example.com", Code: "777777", ExpiresIn: "7 days"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if strings.Contains(r.HTML, "<a ") || strings.Contains(r.Text, "Accept the invitation") {
		t.Errorf("invite without a link shows one:\ntext %s\nhtml %s", r.Text, r.HTML)
	}
	if !strings.Contains(r.Text, "777777") || !strings.Contains(r.HTML, "777777") {
		t.Errorf("invite lacks the code")
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	v := templates.SampleVars("Acme")
	tests := []struct {
		name string
		tmpl templates.Template
		want templates.Rendered
		part string // the failing part, "" for success
	}{
		{"all parts", templates.Template{Subject: "Hi {{.Handle}}", Text: "code {{.Code}}", HTML: "<p>{{.AppName}}</p>"},
			templates.Rendered{Subject: "Hi jane@example.com", Text: "code 123456", HTML: "<p>Acme</p>"}, ""},
		{"empty parts", templates.Template{Text: "only"}, templates.Rendered{Text: "only"}, ""},
		{"subject on one line", templates.Template{Subject: "Hello\n  {{.AppName}}\r\n"}, templates.Rendered{Subject: "Hello Acme"}, ""},
		{"conditional", templates.Template{Text: "{{if .Link}}{{.Link}}{{else}}none{{end}}"}, templates.Rendered{Text: v.Link}, ""},
		{"unsafe link neutralized", templates.Template{HTML: `<a href="{{.Link}}">x</a>`}, templates.Rendered{HTML: `<a href="#ZgotmplZ">x</a>`}, "html-js"},
		{"unknown macro in subject", templates.Template{Subject: "{{.Nope}}"}, templates.Rendered{}, "subject"},
		{"unknown macro in text", templates.Template{Text: "{{.Password}}"}, templates.Rendered{}, "text"},
		{"unknown macro in html", templates.Template{HTML: "<p>{{.Token}}</p>"}, templates.Rendered{}, "html"},
		{"parse error in subject", templates.Template{Subject: "{{.Code"}, templates.Rendered{}, "subject"},
		{"parse error in text", templates.Template{Text: "{{if .Code}}x"}, templates.Rendered{}, "text"},
		{"parse error in html", templates.Template{HTML: "{{end}}"}, templates.Rendered{}, "html"},
		{"unknown function", templates.Template{Text: "{{exec .Code}}"}, templates.Rendered{}, "text"},
		{"range", templates.Template{Text: "{{range 1000000000}}x{{end}}"}, templates.Rendered{}, "text"},
		{"template call", templates.Template{HTML: `{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`}, templates.Rendered{}, "html"},
		{"block", templates.Template{Subject: `{{block "b" .}}x{{end}}`}, templates.Rendered{}, "subject"},
		{"huge printf width", templates.Template{Text: `{{printf "%01000000d" 1}}`}, templates.Rendered{}, "text"},
		{"huge printf precision", templates.Template{Subject: `{{printf "%.1000000f" 1.0}}`}, templates.Rendered{}, "subject"},
		{"printf star width", templates.Template{Text: `{{printf "%*d" 1000000 1}}`}, templates.Rendered{}, "text"},
		{"printf argument index", templates.Template{HTML: `{{printf "%[1]s%[1]s%[1]s" .Link}}`}, templates.Rendered{}, "html"},
		{"small printf width", templates.Template{Text: `{{printf "%08d|%-6s|%.2f" 42 .Code 1.5}}`}, templates.Rendered{Text: "00000042|123456|1.50"}, ""},
		{"call", templates.Template{Text: `{{call .Code}}`}, templates.Rendered{}, "text"},
		{"call nested", templates.Template{Text: `{{if (call .Code)}}x{{end}}`}, templates.Rendered{}, "text"},
		{"escapers", templates.Template{Text: `{{html "<b>"}} {{js "'"}} {{urlquery "a b"}} {{len .Code}} {{slice .Code 0 2}}`},
			templates.Rendered{Text: `&lt;b&gt; \' a+b 6 12`}, ""},
		{"huge output", templates.Template{Text: strings.Repeat("{{.Link}}", 30000)}, templates.Rendered{}, "text"},
		{"doubling by print", templates.Template{Text: `{{$a := print .Link .Link}}` + strings.Repeat(`{{$a = print $a $a}}`, 40) + `{{len $a}}`}, templates.Rendered{}, "text"},
		{"doubling by printf", templates.Template{HTML: `{{$a := printf "%064d" 0}}` + strings.Repeat(`{{$a = printf "%s%s" $a $a}}`, 40)}, templates.Rendered{}, "html"},
		{"many arguments", templates.Template{Text: `{{$a := printf "%064d" 0}}{{$a = print $a $a $a $a $a $a $a $a}}{{$a = print $a $a $a $a $a $a $a $a}}{{$a = print $a $a $a $a $a $a $a $a}}{{$a = print $a $a $a $a $a $a $a $a}}`}, templates.Rendered{}, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := tt.tmpl
			vars := v
			if tt.part == "html-js" {
				vars.Link = "javascript:alert(1)"
				tt.part = ""
			}
			got, err := templates.Render(tmpl, vars)
			if tt.part != "" {
				if err == nil {
					t.Fatalf("Render(%+v) = %+v, want an error in %s", tmpl, got, tt.part)
				}
				if f := violationField(err); f != tt.part {
					t.Errorf("Render(%+v) = %v (field %q), want an invalid error in %q", tmpl, err, f, tt.part)
				}
				if !strings.Contains(err.Error(), tt.part) {
					t.Errorf("Render error %q does not name %q", err, tt.part)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render(%+v): %v", tmpl, err)
			}
			if got != tt.want {
				t.Errorf("Render(%+v) = %+v, want %+v", tmpl, got, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	mail := func(subject, text, html string) templates.Template {
		return templates.Template{Kind: templates.KindWelcome, Locale: "en", Subject: subject, Text: text, HTML: html}
	}
	tests := []struct {
		name  string
		tmpl  templates.Template
		field string // "" when the template is fine
	}{
		{"good mail", mail("Hi", "Welcome to {{.AppName}}", "<p>{{.AppName}}</p>"), ""},
		{"text only mail", mail("Hi", "Welcome", ""), ""},
		{"html only mail", mail("Hi", "", "<p>Welcome</p>"), ""},
		{"good sms", templates.Template{Kind: templates.KindSMS, Text: "{{.Code}}"}, ""},
		{"landing page without subject", templates.Template{Kind: templates.KindLinkLanding, HTML: "<p>Done</p>"}, ""},
		{"unknown kind", templates.Template{Kind: "newsletter", Subject: "s", Text: "t"}, "kind"},
		{"mail without subject", mail(" ", "Welcome", ""), "subject"},
		{"mail without body", mail("Hi", "", "  "), "text"},
		{"sms without text", templates.Template{Kind: templates.KindSMS, HTML: "<p>{{.Code}}</p>"}, "text"},
		{"landing page without html", templates.Template{Kind: templates.KindLinkLanding, Text: "Done"}, "html"},
		{"bad subject", mail("{{.AppName", "Welcome", ""), "subject"},
		{"bad html", mail("Hi", "Welcome", "<p>{{.Code}</p>"), "html"},
		{"unknown macro in text", mail("Hi", "{{.FirstName}}", ""), "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := templates.Check(tt.tmpl)
			if tt.field == "" {
				if err != nil {
					t.Errorf("Check(%+v) = %v, want nil", tt.tmpl, err)
				}
				return
			}
			if f := violationField(err); f != tt.field {
				t.Errorf("Check(%+v) = %v (field %q), want an invalid error in %q", tt.tmpl, err, f, tt.field)
			}
		})
	}
}
