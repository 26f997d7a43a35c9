// Package smtptest runs a real SMTP server in the test process, so tests of
// notify and of the flows that send mail see what a mail server would:
// envelope, headers and decoded text and HTML parts.
//
//	srv := smtptest.Start(t, smtptest.WithAuth("user", "secret"))
//	m, _ := notify.NewSMTP(notify.SMTPConfig{URL: srv.URL()})
//	// … send …
//	got := srv.WaitFor(t, "jane@example.com")
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// waitTimeout is how long WaitFor and WaitForN poll: a give-up bound that a
// busy machine cannot reach, not a speed check.
const waitTimeout = time.Minute

// Option configures Start.
type Option func(*options)

type options struct {
	user, pass string
	tls        tlsMode
}

type tlsMode int

const (
	noTLS tlsMode = iota
	startTLS
	implicitTLS
)

// WithAuth makes the server require PLAIN authentication as user with pass
// before it accepts mail. The server allows it without TLS, since tests run
// in the clear.
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1; URL then starts with smtp:// and RootCAs trusts
// the certificate.
func WithSTARTTLS() Option {
	return func(o *options) { o.tls = startTLS }
}

// WithImplicitTLS makes the server speak TLS from the first byte, with a
// self-signed certificate for 127.0.0.1; URL then starts with smtps:// and
// RootCAs trusts the certificate.
func WithImplicitTLS() Option {
	return func(o *options) { o.tls = implicitTLS }
}

// Received is one message the server accepted. From and To are the SMTP
// envelope (MAIL FROM and RCPT TO); Header, Subject, Text and HTML come from
// parsing Raw, with RFC 2047 words and quoted-printable or base64 bodies
// decoded and line endings turned into "\n". Text and HTML are the first
// text/plain and text/html parts (or the body, for a single-part message).
type Received struct {
	From    string
	To      []string
	Raw     []byte
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
}

// Server is a real SMTP server on 127.0.0.1 at a random port, built on
// emersion/go-smtp, that keeps every message it receives. It is safe for
// concurrent use.
type Server struct {
	opts      options
	addr      string
	roots     *x509.CertPool
	tlsConfig *tls.Config

	mu       sync.Mutex
	received []Received
	stop     func() // nil while stopped
}

// Start starts a Server and closes it when the test ends (tb.Cleanup).
// Without WithAuth the server accepts mail from anyone and offers no AUTH.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.tls != noTLS {
		cert, roots := selfSigned(tb)
		s.roots = roots
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if err := s.listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop closes the server, as an outage would: connections to its address
// are refused until Restart. Messages received so far are kept.
func (s *Server) Stop() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Restart listens again on the address the server had, after Stop.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.listen(s.addr); err != nil {
		tb.Fatalf("smtptest: listen again on %s: %v", s.addr, err)
	}
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.addr = l.Addr().String()

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	switch s.opts.tls {
	case startTLS:
		srv.TLSConfig = s.tlsConfig
	case implicitTLS:
		l = tls.NewListener(l, s.tlsConfig)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // returns when Close closes the listener
	}()
	s.mu.Lock()
	s.stop = func() {
		_ = srv.Close()
		// Close only closes listeners Serve has registered; if the test ends
		// before Serve ran, closing l ourselves is what ends it.
		_ = l.Close()
		<-done
	}
	s.mu.Unlock()
	return nil
}

// URL returns the server's address as a notify.SMTPConfig URL:
// smtp+insecure://127.0.0.1:port (smtp:// with WithSTARTTLS, smtps:// with
// WithImplicitTLS), with the credentials of WithAuth when given.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp+insecure", Host: s.addr}
	switch s.opts.tls {
	case startTLS:
		u.Scheme = "smtp"
	case implicitTLS:
		u.Scheme = "smtps"
	}
	if s.opts.user != "" {
		u.User = url.UserPassword(s.opts.user, s.opts.pass)
	}
	return u.String()
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// RootCAs returns a pool trusting the server's certificate, or nil when the
// server does not use TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns the messages received so far, oldest first. The slice is
// the caller's; the messages' byte slices are shared and must not be changed.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor returns the first message received for the envelope recipient to
// (compared case-insensitively), polling for up to a minute, and fails tb
// if none arrives.
func (s *Server) WaitFor(tb testing.TB, to string) Received {
	tb.Helper()
	return s.WaitForN(tb, to, 1)[0]
}

// WaitForN returns the first n messages received for to, oldest first,
// once that many have arrived (mail leaves through a queue, so a test
// waits for what it caused before counting what comes next); it fails tb
// if they do not arrive within a minute.
func (s *Server) WaitForN(tb testing.TB, to string, n int) []Received {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if ms := s.findAll(to); len(ms) >= n {
			return ms[:n]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("smtptest: %d messages to %q within %v, want %d (received %d in all)", len(s.findAll(to)), to, waitTimeout, n, len(s.Messages()))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) findAll(to string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, m := range s.received {
		for _, rcpt := range m.To {
			if strings.EqualFold(rcpt, to) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func (s *Server) keep(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, m)
}

func (s *Server) newSession(*smtp.Conn) (smtp.Session, error) {
	return &session{srv: s}, nil
}

// session is one SMTP connection's state. go-smtp calls a session from one
// goroutine at a time.
type session struct {
	srv    *Server
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (c *session) AuthMechanisms() []string {
	if c.srv.opts.user == "" {
		return nil // AUTH not advertised
	}
	return []string{sasl.Plain}
}

func (c *session) Auth(mech string) (sasl.Server, error) {
	if c.srv.opts.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if (identity != "" && identity != user) || user != c.srv.opts.user || pass != c.srv.opts.pass {
			return smtp.ErrAuthFailed
		}
		c.authed = true
		return nil
	}), nil
}

func (c *session) allowed() error {
	if c.srv.opts.user != "" && !c.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := c.allowed(); err != nil {
		return err
	}
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := c.allowed(); err != nil {
		return err
	}
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	if err := c.allowed(); err != nil {
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		// Refuse what a real server's filters would choke on, so a sender
		// bug fails the test at Send rather than in a later assertion.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtptest: malformed message: " + err.Error()}
	}
	m.From, m.To = c.from, append([]string(nil), c.to...)
	c.srv.keep(m)
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (c *session) Logout() error { return nil }
