// Package sms sends text messages through an application's own Twilio
// account, with twilio-go's Messages API client.
//
// Each message is bounded by a timeout and by the caller's context:
// twilio-go's CreateMessage takes no context, so the HTTP client it is
// given carries one. Failures come back as *Error with a Kind that tells a
// caller whether to blame the account's settings, the message, or the
// network.
package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Account is the Twilio account an application sends from; the domain
// declares it (identity.SMSAccount) with the failure types below, so the
// flows that text speak no type of this package.
type Account = identity.SMSAccount

// Kind says what a failed send means for the caller.
type Kind = identity.SMSFailureKind

// The kinds of failure (see identity.SMSFailureKind).
const (
	Unavailable    = identity.SMSUnavailable
	BadCredentials = identity.SMSBadCredentials
	Rejected       = identity.SMSRejected
)

// Error is a failed send.
type Error = identity.SMSError

// DefaultTimeout bounds one message when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures a Twilio sender. The zero value sends to Twilio itself
// with its own HTTP client and a 10-second timeout.
type Config struct {
	// BaseURL replaces https://api.twilio.com (a test server, a proxy).
	// Empty means Twilio, honoring TWILIO_EDGE and TWILIO_REGION.
	BaseURL string
	// HTTPClient makes the requests; its Transport is used and its
	// redirects are not followed. nil (or a nil Transport) gets a
	// transport of its own.
	HTTPClient *http.Client
	// Timeout bounds each message; zero means DefaultTimeout.
	Timeout time.Duration
}

// Twilio sends messages through Twilio's Messages API. It is safe for
// concurrent use.
type Twilio struct {
	base      *url.URL // nil: Twilio's own URL
	baseErr   error    // a BaseURL that did not parse
	transport http.RoundTripper
	timeout   time.Duration
}

// New returns a Twilio sender. It never fails, so wiring stays one line: a
// BaseURL that is not an absolute http(s) URL makes every Send fail
// instead (the server's configuration refuses such a URL at start).
func New(cfg Config) *Twilio {
	t := &Twilio{timeout: cfg.Timeout, transport: defaultTransport}
	if t.timeout <= 0 {
		t.timeout = DefaultTimeout
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		t.transport = cfg.HTTPClient.Transport
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.baseErr = fmt.Errorf("sms: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
		}
		t.base = u
	}
	return t
}

// defaultTransport is the transport of a Twilio without an HTTP client:
// connections and handshakes fail fast rather than use up the timeout.
var defaultTransport = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	return t
}()

// Send texts body to the E.164 number to from account a and returns the
// message SID Twilio assigned. Errors are *Error.
func (t *Twilio) Send(ctx context.Context, a Account, to, body string) (string, error) {
	if t.baseErr != nil {
		return "", &Error{Kind: Unavailable, Err: t.baseErr}
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	hc := &http.Client{
		Transport:     ctxTransport{ctx: ctx, next: t.transport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &client.Client{Credentials: client.NewCredentials(a.SID, a.AuthToken), HTTPClient: hc}
	c.SetAccountSid(a.SID)
	var base client.BaseClient = c
	if t.base != nil {
		base = rebased{Client: c, base: t.base}
	}
	params := (&twapi.CreateMessageParams{}).SetTo(to).SetBody(body)
	if a.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(a.MessagingServiceSID)
	} else {
		params.SetFrom(a.From)
	}
	msg, err := twapi.NewApiServiceWithClient(base).CreateMessage(params)
	if err != nil {
		return "", classify(ctx, err)
	}
	if msg.Sid == nil {
		return "", &Error{Kind: Unavailable, Err: errors.New("twilio answered without a message sid")}
	}
	return *msg.Sid, nil
}

// classify turns what twilio-go returned into an *Error.
func classify(ctx context.Context, err error) *Error {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		e := &Error{Status: rest.Status, Code: rest.Code, Message: rest.Message, Err: err}
		switch {
		case rest.Status == http.StatusUnauthorized || rest.Status == http.StatusForbidden || rest.Code == 20003,
			rest.Code == 21222 || rest.Code == 21224: // twilio-go's own check: illegal characters in SID or token
			e.Kind = BadCredentials
		case rest.Status == http.StatusTooManyRequests || rest.Status >= 500:
			e.Kind = Unavailable
		case rest.Status >= 400:
			e.Kind = Rejected
		}
		return e
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Not %w: our timeout is Twilio being unavailable, not a deadline
		// of the caller's to report as such.
		return &Error{Kind: Unavailable, Err: fmt.Errorf("no answer from Twilio: %v", err)}
	}
	// A network failure, or an error status whose body was not Twilio's JSON
	// (a proxy's 502 page): nothing says the request itself was wrong.
	return &Error{Kind: Unavailable, Err: err}
}

// ctxTransport attaches a context to each request: twilio-go builds its
// requests with context.Background.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r.WithContext(t.ctx))
}

// rebased points twilio-go, whose API URLs are fixed, at another server by
// rewriting the scheme and host of every request it sends.
type rebased struct {
	*client.Client
	base *url.URL
}

func (r rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.base.Scheme, r.base.Host
	u.Path = strings.TrimRight(r.base.Path, "/") + u.Path
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}

var _ identity.SMSSender = (*Twilio)(nil)
