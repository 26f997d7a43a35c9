package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	gomail "github.com/wneessen/go-mail"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// DefaultFrom is the sender of mail whose Message and SMTPConfig name none.
const DefaultFrom = "CoSync Auth <no-reply@localhost>"

// DefaultSMTPTimeout bounds one send when SMTPConfig.Timeout is zero.
const DefaultSMTPTimeout = 10 * time.Second

// SMTPConfig configures real delivery. The zero value is not usable: URL is
// required.
type SMTPConfig struct {
	// URL names the server, its security and the credentials:
	//
	//	smtp://user:pass@host:587        STARTTLS required (port defaults to 587)
	//	smtps://user:pass@host:465       implicit TLS (port defaults to 465)
	//	smtp+insecure://host:25          no TLS: local relays and tests only (port defaults to 25)
	//
	// User and password are URL-decoded (write "@" as %40) and optional; with
	// a user the password is required. Over TLS the client authenticates with
	// PLAIN or LOGIN, whichever the server offers; smtp+insecure uses PLAIN.
	URL string
	// From is the default sender; empty means DefaultFrom.
	From string
	// Timeout bounds one Send: dialing, TLS, authentication and delivery.
	// Zero means DefaultSMTPTimeout.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system roots.
	// For relays behind a private CA, and for tests.
	RootCAs *x509.CertPool
}

// LogValue logs the config with the URL's password replaced by "xxxxx", so
// the config can be logged at start-up.
func (c SMTPConfig) LogValue() slog.Value {
	redacted := "(malformed)"
	if u, err := url.Parse(c.URL); err == nil {
		redacted = u.Redacted()
	}
	return slog.GroupValue(
		slog.String("url", redacted),
		slog.String("from", c.From),
		slog.Duration("timeout", c.Timeout),
	)
}

// SMTP is the Mailer that delivers over SMTP with go-mail. It dials a fresh
// connection per Send, so it holds no connection state and is safe for
// concurrent use.
type SMTP struct {
	ep      endpoint
	from    string
	domain  string // of the default sender, for Message-IDs
	timeout time.Duration
	roots   *x509.CertPool
}

var _ Mailer = (*SMTP)(nil)

// security is how a connection is protected.
type security int

const (
	startTLS security = iota
	implicitTLS
	plaintext
)

// endpoint is a parsed SMTP URL.
type endpoint struct {
	sec        security
	host       string
	port       int
	user, pass string
}

// ValidateSMTPURL reports whether raw is a usable SMTPConfig.URL. The error
// names the problem and never contains the password, so it can be printed at
// start-up as is.
func ValidateSMTPURL(raw string) error {
	_, err := parseSMTPURL(raw)
	return err
}

func parseSMTPURL(raw string) (endpoint, error) {
	var ep endpoint
	if strings.TrimSpace(raw) == "" {
		return ep, errors.New("smtp url: empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole URL, password included; say only what kind
		// of mistake it is.
		return ep, errors.New("smtp url: malformed (a user or password with reserved characters such as @ : / must be percent-encoded)")
	}
	defaultPort := 0
	switch u.Scheme {
	case "smtp":
		ep.sec, defaultPort = startTLS, 587
	case "smtps":
		ep.sec, defaultPort = implicitTLS, 465
	case "smtp+insecure":
		ep.sec, defaultPort = plaintext, 25
	case "":
		return ep, errors.New("smtp url: missing scheme (want smtp://, smtps:// or smtp+insecure://)")
	default:
		return ep, fmt.Errorf("smtp url: unsupported scheme %q (want smtp, smtps or smtp+insecure)", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return ep, errors.New("smtp url: missing host")
	}
	if u.Path != "" && u.Path != "/" {
		return ep, errors.New("smtp url: unexpected path")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return ep, errors.New("smtp url: unexpected query or fragment")
	}
	ep.host, ep.port = u.Hostname(), defaultPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ep, fmt.Errorf("smtp url: bad port %q", p)
		}
		ep.port = n
	}
	if u.User != nil {
		ep.user = u.User.Username()
		ep.pass, _ = u.User.Password()
		if ep.user == "" {
			return ep, errors.New("smtp url: password without user")
		}
		if ep.pass == "" {
			return ep, errors.New("smtp url: user without password")
		}
	}
	return ep, nil
}

// NewSMTP returns an SMTP Mailer for cfg. It checks the URL and the sender but
// does not connect; a bad password shows at the first Send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	ep, err := parseSMTPURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	from := cfg.From
	if from == "" {
		from = DefaultFrom
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("smtp from: %q is not an email address", from)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	return &SMTP{ep: ep, from: from, domain: domainOf(addr.Address), timeout: timeout, roots: cfg.RootCAs}, nil
}

// Send delivers m as one multipart/alternative mail (text and HTML parts, or
// the one given) with Date and Message-ID headers. The context and the
// configured timeout both bound the whole exchange.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	const op = "notify.SMTP.Send"
	if err := validate(op, m); err != nil {
		return err
	}
	msg, err := s.message(m)
	if err != nil {
		return apperr.Wrap(err, apperr.Invalid, op)
	}

	sendCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	d := &dialer{ep: s.ep, ctx: sendCtx, tls: s.tlsConfig()}
	defer d.close()

	opts := []gomail.Option{
		gomail.WithPort(s.ep.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(d.dial),
		gomail.WithTLSConfig(d.tls),
	}
	switch s.ep.sec {
	case startTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case implicitTLS:
		// The dialer does the handshake; WithSSL keeps go-mail from trying
		// STARTTLS on top.
		opts = append(opts, gomail.WithSSL())
	case plaintext:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.ep.user != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&loginOrPlain{
			user: s.ep.user, pass: s.ep.pass, host: s.ep.host,
			allowPlaintext: s.ep.sec == plaintext,
		}))
	}
	c, err := gomail.NewClient(s.ep.host, opts...)
	if err != nil {
		return apperr.Wrap(fmt.Errorf("smtp client: %w", err), apperr.Internal, op)
	}
	if err := c.DialAndSendWithContext(sendCtx, msg); err != nil {
		addr := net.JoinHostPort(s.ep.host, strconv.Itoa(s.ep.port))
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("smtp %s: %w (%v)", addr, ctx.Err(), err)
		case sendCtx.Err() != nil:
			err = fmt.Errorf("smtp %s: timed out after %v: %w", addr, s.timeout, err)
		default:
			err = fmt.Errorf("smtp %s: %w", addr, err)
		}
		return apperr.Wrap(err, apperr.Unavailable, op)
	}
	return nil
}

// message builds the go-mail message for m.
func (s *SMTP) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from, domain := s.from, s.domain
	if m.From != "" {
		from = m.From
		if a, err := mail.ParseAddress(m.From); err == nil {
			domain = domainOf(a.Address)
		}
	}
	if err := msg.From(from); err != nil {
		return nil, err
	}
	if err := msg.To(m.To); err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(uuid.NewString() + "@" + domain)
	// RFC 3834: tells autoresponders not to answer codes and links.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.ep.host, RootCAs: s.roots, MinVersion: tls.VersionTLS12}
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

var _ identity.Mailer = (*SMTP)(nil)
