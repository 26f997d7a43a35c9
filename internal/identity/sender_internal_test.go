package identity

import (
	"context"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// noTemplates is a Store whose apps have no templates of their own; any
// other call panics, which would show the test reaching further than meant.
type noTemplates struct{ Store }

func (noTemplates) GetTemplate(context.Context, string, string, string) (EmailTemplate, error) {
	return EmailTemplate{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no such template")
}

// TestMailSender: an app's own sender goes out while its domain is allowed;
// one whose domain the operator has since removed gives way to the
// server's sender, as does no sender at all.
func TestMailSender(t *testing.T) {
	t.Parallel()
	const server = "CoSync <no-reply@auth.example.com>"
	tests := []struct {
		name, from string
		domains    []string
		want       string
	}{
		{"allowed", "Notes <hello@notes.example>", []string{"notes.example"}, "Notes <hello@notes.example>"},
		{"domain removed since", "Notes <hello@notes.example>", []string{"auth.example.com"}, server},
		{"none set", "", []string{"notes.example"}, server},
		{"no list kept", "Notes <hello@notes.example>", nil, "Notes <hello@notes.example>"},
	}
	for _, tc := range tests {
		s := New(Deps{Store: noTemplates{}}, Config{MailFrom: server, MailFromDomains: tc.domains})
		a := App{ID: "app1", Name: "Notes", Settings: DefaultSettings()}
		a.Settings.EmailFrom = tc.from
		d, err := s.mail(context.Background(), a, "en", templates.KindWelcome, "ann@example.com", templates.SampleVars("Notes"))
		if err != nil {
			t.Fatalf("%s: mail = %v", tc.name, err)
		}
		if d.From != tc.want {
			t.Errorf("%s: From = %q, want %q", tc.name, d.From, tc.want)
		}
	}
}
