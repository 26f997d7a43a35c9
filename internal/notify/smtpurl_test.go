package notify

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		want endpoint
	}{
		{"starttls", "smtp://user:s3cret@mail.example.com:2587", endpoint{startTLS, "mail.example.com", 2587, "user", "s3cret"}},
		{"starttls default port", "smtp://user:s3cret@mail.example.com", endpoint{startTLS, "mail.example.com", 587, "user", "s3cret"}},
		{"implicit tls default port", "smtps://user:s3cret@mail.example.com", endpoint{implicitTLS, "mail.example.com", 465, "user", "s3cret"}},
		{"insecure default port", "smtp+insecure://relay.local", endpoint{plaintext, "relay.local", 25, "", ""}},
		{"insecure with credentials", "smtp+insecure://u:p@127.0.0.1:2525", endpoint{plaintext, "127.0.0.1", 2525, "u", "p"}},
		{"no credentials", "smtp://mail.example.com:587/", endpoint{startTLS, "mail.example.com", 587, "", ""}},
		{"escaped credentials", "smtps://apikey%40example.com:p%40ss%3Aw%2Frd@smtp.example.com", endpoint{implicitTLS, "smtp.example.com", 465, "apikey@example.com", "p@ss:w/rd"}},
		{"scheme case", "SMTPS://u:p@Mail.Example.com", endpoint{implicitTLS, "Mail.Example.com", 465, "u", "p"}},
		{"ipv6", "smtp+insecure://[::1]:2525", endpoint{plaintext, "::1", 2525, "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseSMTPURL(tt.url)
			if err != nil {
				t.Fatalf("parseSMTPURL(%q) error: %v", tt.url, err)
			}
			if got != tt.want {
				t.Errorf("parseSMTPURL(%q) = %+v, want %+v", tt.url, got, tt.want)
			}
			if err := ValidateSMTPURL(tt.url); err != nil {
				t.Errorf("ValidateSMTPURL(%q) = %v, want nil", tt.url, err)
			}
		})
	}
}

func TestValidateSMTPURLRejects(t *testing.T) {
	t.Parallel()
	const password = "s3cr%zzet" // what must never show, in raw and decoded forms
	tests := []struct {
		name string
		url  string
		want string // a word the error must contain
	}{
		{"empty", "", "empty"},
		{"no scheme", "user:s3cret@mail.example.com:587", "scheme"},
		{"http scheme", "http://user:s3cret@mail.example.com", "scheme"},
		{"submission scheme", "submission://user:s3cret@mail.example.com", "scheme"},
		{"missing host", "smtp://user:s3cret@", "host"},
		{"missing host with port", "smtps://user:s3cret@:465", "host"},
		{"opaque", "smtp:mail.example.com", "host"},
		{"port zero", "smtp://user:s3cret@mail.example.com:0", "port"},
		{"port too big", "smtp://user:s3cret@mail.example.com:70000", "port"},
		{"port not a number", "smtp://user:s3cret@mail.example.com:abc", "malformed"},
		{"bad escape in password", "smtp://user:" + password + "@mail.example.com", "malformed"},
		{"unescaped slash in password", "smtp://user:s3c/ret@mail.example.com", "malformed"},
		{"user without password", "smtp://user@mail.example.com", "password"},
		{"password without user", "smtp://:s3cret@mail.example.com", "user"},
		{"path", "smtp://user:s3cret@mail.example.com/inbox", "path"},
		{"query", "smtp://user:s3cret@mail.example.com?tls=off", "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateSMTPURL(tt.url)
			if err == nil {
				t.Fatalf("ValidateSMTPURL(%q) = nil, want error", tt.url)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("ValidateSMTPURL(%q) = %q, want it to mention %q", tt.url, msg, tt.want)
			}
			for _, secret := range []string{"s3cret", "s3c/ret", password, "zzet"} {
				if strings.Contains(msg, secret) {
					t.Errorf("ValidateSMTPURL(%q) = %q: leaks the password", tt.url, msg)
				}
			}
			if _, err := NewSMTP(SMTPConfig{URL: tt.url}); err == nil {
				t.Errorf("NewSMTP(URL: %q) error = nil, want error", tt.url)
			}
		})
	}
}

func TestNewSMTPDefaults(t *testing.T) {
	t.Parallel()
	s, err := NewSMTP(SMTPConfig{URL: "smtp+insecure://relay.local"})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	if s.from != DefaultFrom || s.domain != "localhost" || s.timeout != DefaultSMTPTimeout {
		t.Errorf("NewSMTP defaults = from %q, domain %q, timeout %v; want %q, %q, %v",
			s.from, s.domain, s.timeout, DefaultFrom, "localhost", DefaultSMTPTimeout)
	}
	if _, err := NewSMTP(SMTPConfig{URL: "smtp+insecure://relay.local", From: "not an address"}); err == nil {
		t.Errorf("NewSMTP(From: %q) error = nil, want error", "not an address")
	}
}

func TestSMTPConfigLogValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"smtps://user:s3cret@mail.example.com", "smtps://user:xxxxx@mail.example.com"},
		{"smtp+insecure://relay.local:25", "smtp+insecure://relay.local:25"},
		{"smtp://user:s3c%zzret@mail.example.com", "(malformed)"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			var buf strings.Builder
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp", SMTPConfig{URL: tt.url})
			if out := buf.String(); !strings.Contains(out, "smtp.url="+tt.want) || strings.Contains(out, "s3c") {
				t.Errorf("logged %q, want url %q and no password", out, tt.want)
			}
		})
	}
}
