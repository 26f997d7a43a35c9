package smtptest

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		raw                 string
		subject, text, html string
	}{
		{
			name: "alternative, quoted-printable and base64",
			raw: `From: Acme <no-reply@acme.example>
To: jane@example.com
Subject: =?UTF-8?q?Your_code:_123456_=E2=9C=93?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe, your code is 123456. This line is long enough to be soft-=
wrapped.
--b1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

PHA+WW91ciBjb2RlIGlzIDxiPjEyMzQ1NjwvYj48L3A+
--b1--
`,
			subject: "Your code: 123456 ✓",
			text:    "Grüße, your code is 123456. This line is long enough to be soft-wrapped.",
			html:    "<p>Your code is <b>123456</b></p>",
		},
		{
			name: "single part, base64",
			raw: `Subject: plain
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

aGVsbG8K
`,
			subject: "plain",
			text:    "hello\n",
		},
		{
			name: "no content type",
			raw: `Subject: bare

just text
`,
			subject: "bare",
			text:    "just text\n",
		},
		{
			name: "mixed with nested alternative and attachment",
			raw: `Subject: nested
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain

first text
--inner
Content-Type: text/html

<p>first html</p>
--inner--
--outer
Content-Type: text/plain
Content-Disposition: attachment; filename=notes.txt

second text
--outer--
`,
			subject: "nested",
			text:    "first text",
			html:    "<p>first html</p>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := []byte(crlf(tt.raw))
			got, err := parse(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got.Subject != tt.subject || got.Text != tt.text || got.HTML != tt.html {
				t.Errorf("parse = subject %q text %q html %q; want %q %q %q",
					got.Subject, got.Text, got.HTML, tt.subject, tt.text, tt.html)
			}
			if string(got.Raw) != string(raw) {
				t.Errorf("Raw not kept")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, raw string }{
		{"no header end", "Subject: x"},
		{"bad content type", "Content-Type: text/\n\nx\n"},
		{"no text part", "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"},
		{"broken multipart", "Content-Type: multipart/alternative; boundary=b\n\n--b\nno end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parse([]byte(crlf(tt.raw))); err == nil {
				t.Errorf("parse(%q) = nil error, want error", tt.raw)
			}
		})
	}
}

const sample = "Subject: hi\r\nContent-Type: text/plain\r\n\r\nhello 123456\r\n"

// send delivers sample with go-smtp's client; smtp.SendMail insists on TLS.
func send(addr string, auth sasl.Client, to ...string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	return deliver(c, auth, to...)
}

func deliver(c *smtp.Client, auth sasl.Client, to ...string) error {
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.SendMail("sender@example.com", to, strings.NewReader(sample)); err != nil {
		return err
	}
	return c.Quit()
}

func TestServerAuth(t *testing.T) {
	t.Parallel()
	srv := Start(t, WithAuth("mailer", "p@ss word"))
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatalf("URL() = %q: %v", srv.URL(), err)
	}
	if pass, _ := u.User.Password(); u.Scheme != "smtp+insecure" || u.User.Username() != "mailer" || pass != "p@ss word" || u.Host != srv.Addr() {
		t.Errorf("URL() = %q, want smtp+insecure://mailer:p%%40ss%%20word@%s", srv.URL(), srv.Addr())
	}

	tests := []struct {
		name string
		auth sasl.Client
		ok   bool
	}{
		{"no auth", nil, false},
		{"wrong password", sasl.NewPlainClient("", "mailer", "wrong"), false},
		{"wrong user", sasl.NewPlainClient("", "other", "p@ss word"), false},
		{"right", sasl.NewPlainClient("", "mailer", "p@ss word"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			to := strings.ReplaceAll(tt.name, " ", "-") + "@example.com"
			err := send(srv.Addr(), tt.auth, to)
			if (err == nil) != tt.ok {
				t.Fatalf("SendMail(%s) = %v, want ok %v", tt.name, err, tt.ok)
			}
			if tt.ok {
				got := srv.WaitFor(t, strings.ToUpper(to))
				if got.From != "sender@example.com" || got.Text != "hello 123456\n" {
					t.Errorf("received from %q text %q", got.From, got.Text)
				}
			}
		})
	}
}

func TestServerWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	if want := "smtp+insecure://" + srv.Addr(); srv.URL() != want {
		t.Errorf("URL() = %q, want %q", srv.URL(), want)
	}
	if srv.RootCAs() != nil {
		t.Errorf("RootCAs() = non-nil without TLS")
	}
	if err := send(srv.Addr(), nil, "a@example.com", "b@example.com"); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	got := srv.WaitFor(t, "b@example.com")
	if len(got.To) != 2 || got.To[0] != "a@example.com" {
		t.Errorf("To = %q, want both recipients", got.To)
	}
}

func TestServerConcurrent(t *testing.T) {
	t.Parallel()
	srv := Start(t)
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := send(srv.Addr(), nil, fmt.Sprintf("u%d@example.com", i)); err != nil {
				t.Errorf("SendMail: %v", err)
			}
		})
	}
	wg.Wait()
	if got := len(srv.Messages()); got != n {
		t.Errorf("Messages() = %d, want %d", got, n)
	}
	for i := range n {
		srv.WaitFor(t, fmt.Sprintf("u%d@example.com", i))
	}
}

func TestServerTLSURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opt    Option
		scheme string
		dial   func(addr string, cfg *tls.Config) (*smtp.Client, error)
	}{
		{WithSTARTTLS(), "smtp://", smtp.DialStartTLS},
		{WithImplicitTLS(), "smtps://", smtp.DialTLS},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, tt.opt, WithAuth("mailer", "secret"))
			if !strings.HasPrefix(srv.URL(), tt.scheme) || srv.RootCAs() == nil {
				t.Fatalf("URL() = %q, RootCAs() = %v; want %s and a pool", srv.URL(), srv.RootCAs(), tt.scheme)
			}
			c, err := tt.dial(srv.Addr(), &tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if err := deliver(c, sasl.NewPlainClient("", "mailer", "secret"), "tls@example.com"); err != nil {
				t.Fatalf("send over TLS: %v", err)
			}
			srv.WaitFor(t, "tls@example.com")
		})
	}
}
