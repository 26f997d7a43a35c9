package config_test

import (
	"slices"
	"testing"
)

func TestMailFromDomains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
		bad  []string // variables named in the error
	}{
		{"default", nil, nil, []string{"localhost"}, nil},
		{"domain of the server's sender", map[string]string{"COSYNC_MAIL_FROM": "Acme <No-Reply@Acme.Example>"}, nil, []string{"acme.example"}, nil},
		{"sender from a flag", nil, []string{"--mail-from", "a@b.example"}, []string{"b.example"}, nil},
		{"a list", map[string]string{"COSYNC_MAIL_FROM_DOMAINS": " acme.example, Mail.Acme.Example ,,"}, nil, []string{"acme.example", "mail.acme.example"}, nil},
		{"flag wins", map[string]string{"COSYNC_MAIL_FROM_DOMAINS": "a.example"}, []string{"--mail-from-domains", "b.example"}, []string{"b.example"}, nil},
		{"not a domain", map[string]string{"COSYNC_MAIL_FROM_DOMAINS": "acme.example,no-reply@acme.example"}, nil, nil, []string{"COSYNC_MAIL_FROM_DOMAINS"}},
		{"wildcard", map[string]string{"COSYNC_MAIL_FROM_DOMAINS": "*.acme.example"}, nil, nil, []string{"COSYNC_MAIL_FROM_DOMAINS"}},
		{"no sender to take it from", map[string]string{"COSYNC_MAIL_FROM": "nobody"}, nil, nil, []string{"COSYNC_MAIL_FROM_DOMAINS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.env, tt.args...)
			if got := badVars(err); !slices.Equal(got, tt.bad) {
				t.Fatalf("Load(%v %v) = %v, want errors for %q", tt.env, tt.args, err, tt.bad)
			}
			if err == nil && !slices.Equal(c.MailFromDomains, tt.want) {
				t.Errorf("MailFromDomains = %q, want %q", c.MailFromDomains, tt.want)
			}
		})
	}
}
