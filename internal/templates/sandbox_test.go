package templates_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// doubling is the attack of issue 11: each step doubles a string that no
// output ever shows, so an output cap alone never stops it.
func doubling(start string, steps int) string {
	var b strings.Builder
	b.WriteString(`{{$a := ` + start + `}}`)
	for range steps {
		b.WriteString(`{{$a = printf "%s%s" $a $a}}`)
	}
	return b.String()
}

// TestDoublingAttackMemory renders the doubling attacks and reads how much
// the process allocated meanwhile: a clear Invalid error, and a flat line
// (under 4 MiB, where the unsandboxed render reached 128 MB and kept going).
// It is not parallel: the allocation counters are the whole process's, and
// parallel tests only start once the sequential ones are done.
func TestDoublingAttackMemory(t *testing.T) {
	const limit = 4 << 20
	attacks := []struct {
		name string
		tmpl templates.Template
		part string
	}{
		{"issue 11", templates.Template{Kind: templates.KindSignupCode, Locale: "en", Subject: "s", Text: doubling(`printf "%01000000d" 0`, 30)}, "text"},
		{"no width", templates.Template{Kind: templates.KindSignupCode, Locale: "en", Subject: "s", HTML: doubling(`printf "%064d" 0`, 40)}, "html"},
		{"print", templates.Template{Kind: templates.KindWelcome, Locale: "en", Subject: `{{$a := print .Handle .Handle}}` + strings.Repeat(`{{$a = print $a $a $a $a}}`, 30), Text: "x"}, "subject"},
		{"escapers", templates.Template{Kind: templates.KindWelcome, Locale: "en", Subject: "s", Text: `{{$a := .AppName}}` + strings.Repeat(`{{$a = js (html (print $a $a))}}`, 40)}, "text"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"Render", func() error { _, err := templates.Render(a.tmpl, templates.SampleVars("")); return err }},
				{"Check", func() error { return templates.Check(a.tmpl) }},
			} {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				err := op.run()
				runtime.ReadMemStats(&after)
				if f := violationField(err); f != a.part {
					t.Errorf("%s = %v (field %q), want an invalid error in %q", op.name, err, f, a.part)
				}
				if apperr.ReasonOf(err) != apperr.ReasonInvalidArgument {
					t.Errorf("%s reason = %q, want %q", op.name, apperr.ReasonOf(err), apperr.ReasonInvalidArgument)
				}
				t.Logf("%s: %v; allocated %d KiB", op.name, err, (after.TotalAlloc-before.TotalAlloc)>>10)
				if d := after.TotalAlloc - before.TotalAlloc; d > limit {
					t.Errorf("%s allocated %d MiB, want at most %d MiB", op.name, d>>20, limit>>20)
				}
			}
		})
	}
}

// TestRenderContext: a caller that gives up stops the render, and the error
// says so rather than blaming the template.
func TestRenderContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tmpl, _ := templates.Default(templates.KindWelcome, "en")
	_, err := templates.RenderContext(ctx, tmpl, templates.SampleVars(""))
	if !errors.Is(err, context.Canceled) || apperr.KindOf(err) == apperr.Invalid {
		t.Errorf("RenderContext(canceled) = %v, want context.Canceled", err)
	}
	if _, err := templates.RenderContext(context.Background(), tmpl, templates.SampleVars("")); err != nil {
		t.Errorf("RenderContext = %v", err)
	}
}

// TestCheckSendValues: Check refuses what the preview's sample values pass
// but a real send would not: fields the kind leaves empty, the longest values.
func TestCheckSendValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tmpl  templates.Template
		field string
	}{
		{"welcome has no code", templates.Template{Kind: templates.KindWelcome, Subject: "Hi", Text: `{{index .Code 0}}`}, "text"},
		{"invite may have no link", templates.Template{Kind: templates.KindInvite, Subject: "Hi", Text: `{{slice .Link 0 8}}`}, "text"},
		{"invite link guarded", templates.Template{Kind: templates.KindInvite, Subject: "Hi", Text: `{{if .Link}}{{slice .Link 0 8}}{{end}} {{.Code}}`}, ""},
		{"long handle", templates.Template{Kind: templates.KindWelcome, Subject: "Hi", Text: strings.Repeat("{{.Handle}}", 5000)}, "text"},
		{"long app name escaped", templates.Template{Kind: templates.KindWelcome, Subject: "Hi", HTML: strings.Repeat(`<p title="{{.AppName}}">`, 2000)}, "html"},
		{"signup code uses its code", templates.Template{Kind: templates.KindSignupCode, Subject: "{{index .Code 0}}", Text: "{{.Code}}"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The preview's values pass every one of them.
			if _, err := templates.Render(tt.tmpl, templates.SampleVars("")); err != nil {
				t.Fatalf("Render(sample) = %v, want nil", err)
			}
			err := templates.Check(tt.tmpl)
			if tt.field == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if f := violationField(err); f != tt.field {
				t.Errorf("Check = %v (field %q), want an invalid error in %q", err, f, tt.field)
			}
		})
	}
}

// TestCheckFieldsInEveryBranch: a field the values lack is refused at save
// even in a branch the sample values never take, so it cannot fail a send
// for the one recipient who takes it.
func TestCheckFieldsInEveryBranch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		ok         bool
	}{
		{"fields of the values", `{{.AppName}} {{.Handle}} {{.Code}} {{.Link}} {{.ExpiresIn}}`, true},
		{"a field through $", `{{with .Code}}{{.}} for {{$.AppName}}{{end}}`, true},
		{"else of with sees the values", `{{with .Link}}{{.}}{{else}}{{.Code}}{{end}}`, true},
		{"unknown field in an untaken branch", `{{if eq .Handle "vip@example.com"}}{{.Nope}}{{end}}hi`, false},
		{"a field of a string", `{{.Code.Digits}}`, false},
		{"a field inside with", `{{with .Code}}{{.Digits}}{{end}}`, false},
		{"a field through $ that does not exist", `{{$.Nope}}`, false},
		{"a field of a variable", `{{$c := .Code}}{{$c.Digits}}`, false},
		{"a field of a parenthesised value", `{{(.Code).Digits}}`, false},
	}
	for _, tc := range tests {
		err := templates.Check(templates.Template{Kind: templates.KindWelcome, Subject: "Hi", Text: tc.text})
		if tc.ok && err != nil {
			t.Errorf("%s: Check(%q) = %v, want nil", tc.name, tc.text, err)
		}
		if !tc.ok && (apperr.KindOf(err) != apperr.Invalid || !hasField(err, "text")) {
			t.Errorf("%s: Check(%q) = %v, want Invalid naming text", tc.name, tc.text, err)
		}
	}
}

func hasField(err error, field string) bool {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, v := range e.Violations() {
		if v.Field == field {
			return true
		}
	}
	return false
}
