package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// dialer opens the connections of one Send. go-mail bounds only the dial
// with its timeout and leaves the connection open when the greeting, TLS or
// AUTH fails; the dialer puts the Send's deadline on the connection, aborts
// blocked I/O when the Send's context ends, and closes what it opened.
type dialer struct {
	ep  endpoint
	ctx context.Context // the Send's, not the dial's (go-mail cancels that after dialing)
	tls *tls.Config

	mu    sync.Mutex
	conns []net.Conn
	stops []func() bool
}

func (d *dialer) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	// Dial host and port ourselves: go-mail joins them with "%s:%d", which
	// breaks IPv6 literals.
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", net.JoinHostPort(d.ep.host, strconv.Itoa(d.ep.port)))
	if err != nil {
		return nil, err
	}
	if deadline, ok := d.ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(d.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	d.mu.Lock()
	d.conns = append(d.conns, conn)
	d.stops = append(d.stops, stop)
	d.mu.Unlock()

	if d.ep.sec != implicitTLS {
		return conn, nil
	}
	tc := tls.Client(conn, d.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err // close() closes conn
	}
	return tc, nil
}

// close releases every connection dial opened; closing one go-mail already
// closed is harmless.
func (d *dialer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, c := range d.conns {
		d.stops[i]()
		_ = c.Close()
	}
	d.conns, d.stops = nil, nil
}

// loginOrPlain authenticates with PLAIN or LOGIN, whichever the server
// offers. go-mail's own discovery only considers PLAIN and LOGIN when it
// dialed the TLS itself, and our dialer does that for smtps.
type loginOrPlain struct {
	user, pass, host string
	allowPlaintext   bool // smtp+insecure: credentials may cross in the clear
	inner            smtp.Auth
}

func (a *loginOrPlain) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.allowPlaintext {
		return "", nil, fmt.Errorf("refusing to send credentials without TLS")
	}
	switch {
	case offers(server.Auth, "PLAIN"):
		a.inner = smtp.PlainAuth("", a.user, a.pass, a.host, true)
	case offers(server.Auth, "LOGIN"):
		a.inner = smtp.LoginAuth(a.user, a.pass, a.host, true)
	case len(server.Auth) == 0:
		return "", nil, fmt.Errorf("server offers no authentication, but the URL has credentials")
	default:
		return "", nil, fmt.Errorf("server offers no PLAIN or LOGIN authentication (offers %s)", strings.Join(server.Auth, " "))
	}
	return a.inner.Start(server)
}

func offers(mechs []string, mech string) bool {
	return slices.ContainsFunc(mechs, func(m string) bool { return strings.EqualFold(m, mech) })
}

func (a *loginOrPlain) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.inner.Next(fromServer, more)
}
