package identity

import (
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
)

func TestCheckSender(t *testing.T) {
	t.Parallel()
	allowed := []string{"acme.example", "Mail.Acme.Example"}
	tests := []struct {
		from    string
		domains []string
		ok      bool
	}{
		{"", nil, true},
		{"", allowed, true},
		{"no-reply@acme.example", allowed, true},
		{"Acme <no-reply@acme.example>", allowed, true},
		{`"Acme, Inc." <no-reply@ACME.example>`, allowed, true},
		{"Acme <hello@mail.acme.example>", allowed, true},
		{"=?utf-8?q?Acm=C3=A9?= <no-reply@acme.example>", allowed, true},
		{"Acmé Support <no-reply@acme.example>", allowed, true},

		{`"Google Security" <no-reply@accounts.google.com>`, allowed, false}, // the issue's
		{"no-reply@acme.example", nil, false},
		{"no-reply@sub.acme.example", allowed, false},
		{"no-reply@acme.example.evil", allowed, false},
		{"no-reply@evilacme.example", allowed, false},
		{"no-reply@acme.example, other@acme.example", allowed, false},
		{"not an address", allowed, false},
		{"Acme <no-reply@acme.example>\r\nBcc: x@evil.example", allowed, false},
		{"Acme\t<no-reply@acme.example>", allowed, false},
		{"Acme\u202e <no-reply@acme.example>", allowed, false},                // right-to-left override
		{"Ac\u200bme <no-reply@acme.example>", allowed, false},                // zero-width space
		{"=?utf-8?q?A=E2=80=AEcme?= <no-reply@acme.example>", allowed, false}, // encoded override
		{"=?utf-8?q?A=0Acme?= <no-reply@acme.example>", allowed, false},       // encoded newline
		{`"security@bank.example" <no-reply@acme.example>`, allowed, false},
		{"Acme \xff <no-reply@acme.example>", allowed, false},
	}
	for _, tt := range tests {
		err := CheckSender(tt.from, tt.domains)
		if tt.ok {
			if err != nil {
				t.Errorf("CheckSender(%q, %q) = %v, want nil", tt.from, tt.domains, err)
			}
			continue
		}
		if apperr.KindOf(err) != apperr.Invalid || apperr.ReasonOf(err) != apperr.ReasonInvalidArgument {
			t.Errorf("CheckSender(%q, %q) = %v, want Invalid", tt.from, tt.domains, err)
			continue
		}
		if got := violationFields(t, err); len(got) != 1 || got[0] != "settings.email_from" {
			t.Errorf("CheckSender(%q) names %q, want settings.email_from", tt.from, got)
		}
	}
}
