package notify_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/templates"
)

// signupMessage renders the default signup-code mail for to.
func signupMessage(tb testing.TB, to, code string) notify.Message {
	tb.Helper()
	tmpl, ok := templates.Default(templates.KindSignupCode, "en")
	if !ok {
		tb.Fatal("no default signup_code template")
	}
	r, err := templates.Render(tmpl, templates.Vars{AppName: "Acme", Handle: to, Code: code, ExpiresIn: "15 minutes"})
	if err != nil {
		tb.Fatalf("Render: %v", err)
	}
	return notify.Message{AppID: "app1", To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
}

func TestSMTPSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []smtptest.Option
	}{
		{"insecure with auth", []smtptest.Option{smtptest.WithAuth("mailer", "p@ss:word")}},
		{"insecure without auth", nil},
		{"starttls with auth", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithAuth("mailer", "secret")}},
		{"implicit tls with auth", []smtptest.Option{smtptest.WithImplicitTLS(), smtptest.WithAuth("mailer", "secret")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tt.opts...)
			s, err := notify.NewSMTP(notify.SMTPConfig{
				URL:     srv.URL(),
				From:    "Acme <no-reply@acme.example>",
				RootCAs: srv.RootCAs(),
			})
			if err != nil {
				t.Fatalf("NewSMTP(%q): %v", srv.URL(), err)
			}
			if err := s.Send(t.Context(), signupMessage(t, "jane@example.com", "482913")); err != nil {
				t.Fatalf("Send: %v", err)
			}

			got := srv.WaitFor(t, "jane@example.com")
			if want := "Your Acme code: 482913"; got.Subject != want {
				t.Errorf("Subject = %q, want %q", got.Subject, want)
			}
			if !strings.Contains(got.Text, "482913") || !strings.Contains(got.Text, "15 minutes") {
				t.Errorf("Text = %q, want the code and expiry", got.Text)
			}
			if !strings.Contains(got.HTML, "482913") || !strings.Contains(got.HTML, "<h1") {
				t.Errorf("HTML = %q, want HTML with the code", got.HTML)
			}
			if got.From != "no-reply@acme.example" {
				t.Errorf("envelope From = %q, want %q", got.From, "no-reply@acme.example")
			}
			if len(got.To) != 1 || got.To[0] != "jane@example.com" {
				t.Errorf("envelope To = %q, want [jane@example.com]", got.To)
			}
			if from := got.Header.Get("From"); !strings.Contains(from, "Acme") || !strings.Contains(from, "<no-reply@acme.example>") {
				t.Errorf("From header = %q, want the display name and address", from)
			}
			if to := got.Header.Get("To"); !strings.Contains(to, "jane@example.com") {
				t.Errorf("To header = %q, want jane@example.com", to)
			}
			if id := got.Header.Get("Message-Id"); !strings.HasSuffix(id, "@acme.example>") {
				t.Errorf("Message-ID = %q, want one in the sender's domain", id)
			}
			if _, err := got.Header.Date(); err != nil {
				t.Errorf("Date header: %v", err)
			}
			if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Errorf("Content-Type = %q, want multipart/alternative", ct)
			}
			if ua := got.Header.Get("User-Agent") + got.Header.Get("X-Mailer"); ua != "" {
				t.Errorf("User-Agent/X-Mailer = %q, want none", ua)
			}
		})
	}
}

func TestSMTPSendSinglePart(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: srv.URL()})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	tests := []struct {
		name      string
		m         notify.Message
		text, htm string
	}{
		{"text only", notify.Message{To: "text@example.com", Subject: "t", Text: "only text: 111111"}, "only text: 111111", ""},
		{"html only", notify.Message{To: "html@example.com", Subject: "h", HTML: "<p>only html: 222222</p>"}, "", "<p>only html: 222222</p>"},
		{"unicode", notify.Message{To: "uni@example.com", Subject: "Código für dich ✓", Text: "Grüße: 333333"}, "Grüße: 333333", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := s.Send(t.Context(), tt.m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.WaitFor(t, tt.m.To)
			if got.Subject != tt.m.Subject || strings.TrimSpace(got.Text) != tt.text || strings.TrimSpace(got.HTML) != tt.htm {
				t.Errorf("received subject %q text %q html %q; want %q %q %q", got.Subject, got.Text, got.HTML, tt.m.Subject, tt.text, tt.htm)
			}
			if got.From != "no-reply@localhost" {
				t.Errorf("envelope From = %q, want the default sender", got.From)
			}
		})
	}
}

func TestSMTPSendErrors(t *testing.T) {
	t.Parallel()
	const password = "correct-horse"
	authSrv := smtptest.Start(t, smtptest.WithAuth("mailer", password))
	plainSrv := smtptest.Start(t)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name string
		url  string
		ctx  context.Context
		m    notify.Message
		kind apperr.Kind
	}{
		{"wrong password", "smtp+insecure://mailer:wrong-" + password + "@" + authSrv.Addr(), nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"no credentials where required", "smtp+insecure://" + authSrv.Addr(), nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"credentials where none offered", "smtp+insecure://mailer:" + password + "@" + plainSrv.Addr(), nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"starttls required but not offered", "smtp://mailer:" + password + "@" + authSrv.Addr(), nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"implicit tls to a plain server", "smtps://mailer:" + password + "@" + authSrv.Addr(), nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"nothing listening", "smtp+insecure://127.0.0.1:1", nil, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"cancelled context", plainSrv.URL(), cancelled, signupMessage(t, "a@example.com", "1"), apperr.Unavailable},
		{"no recipient", plainSrv.URL(), nil, notify.Message{Subject: "s", Text: "t"}, apperr.Invalid},
		{"bad recipient", plainSrv.URL(), nil, notify.Message{To: "not an address", Subject: "s", Text: "t"}, apperr.Invalid},
		{"no body", plainSrv.URL(), nil, notify.Message{To: "a@example.com", Subject: "s"}, apperr.Invalid},
		{"header injection", plainSrv.URL(), nil, notify.Message{To: "a@example.com", Subject: "s\r\nBcc: x@example.com", Text: "t"}, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := notify.NewSMTP(notify.SMTPConfig{URL: tt.url, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			err = s.Send(ctx, tt.m)
			if err == nil {
				t.Fatal("Send = nil, want error")
			}
			if got := apperr.KindOf(err); got != tt.kind {
				t.Errorf("Send = %v, kind %v; want kind %v", err, got, tt.kind)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Send = %q: leaks the password", err)
			}
		})
	}
	if n := len(authSrv.Messages()) + len(plainSrv.Messages()); n != 0 {
		t.Errorf("servers received %d messages, want 0", n)
	}
}

func TestSMTPSendTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts the connection and never greets.
	srv := silentListener(t)
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: "smtp+insecure://" + srv, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	// The caller's context allows far longer than the timeout; the send
	// must end on its own timeout first, whatever the machine's load (timers
	// fire in order), which is told apart without reading a clock.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err = s.Send(ctx, signupMessage(t, "a@example.com", "1"))
	if err == nil || apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("Send = %v, want an unavailable error", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Send = %v ended with the caller's deadline, want its own 200ms timeout", err)
	}
}

func TestSMTPSendConcurrent(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithAuth("mailer", "secret"))
	s, err := notify.NewSMTP(notify.SMTPConfig{URL: srv.URL()})
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	const n = 8
	msgs := make([]notify.Message, n)
	for i := range msgs {
		msgs[i] = signupMessage(t, fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("%06d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, m := range msgs {
		wg.Go(func() { errs <- s.Send(t.Context(), m) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	for i := range n {
		got := srv.WaitFor(t, fmt.Sprintf("user%d@example.com", i))
		if code := fmt.Sprintf("%06d", i); !strings.Contains(got.Text, code) {
			t.Errorf("message %d Text = %q, want code %s", i, got.Text, code)
		}
	}
}
