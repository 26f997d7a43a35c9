// Package vault is CoSync Auth's connection to HashiCorp Vault: one
// logged-in client (a token, or an AppRole login the client repeats before
// its token expires) shared by the Transit signer (package keys) and the
// Transit secrets box (package secrets), and the one place that turns
// Vault's failures into apperr kinds: Vault unreachable, sealed, overloaded
// or refusing our token is Unavailable (retry later), anything else Internal.
package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// DefaultTimeout is Config.Timeout when it is zero. Transit answers in
// milliseconds; a Vault that has not answered in two seconds is hung
// (stopped, or behind a black hole), and the request it serves should hear
// Unavailable while its client still waits, not run into its own deadline.
const DefaultTimeout = 2 * time.Second

// Config says how to reach and log in to Vault. Addr and either Token or
// RoleID with SecretID are required.
type Config struct {
	Addr  string // e.g. https://vault.internal:8200
	Token string // a Vault token; empty to log in with AppRole
	// RoleID and SecretID log in through the AppRole auth method mounted at
	// AppRoleMount (default "approle").
	RoleID, SecretID string
	AppRoleMount     string
	// HTTPClient is the outbound client (its transport, timeouts and pool
	// are shared with the server's other outbound calls); nil means one on
	// http.DefaultTransport. The client is copied, never modified.
	HTTPClient *http.Client
	// Timeout bounds each request to Vault; zero means DefaultTimeout
	// (2 s). A Vault that does not answer in time reads as Unavailable. It
	// also caps HTTPClient's own timeout.
	Timeout time.Duration
	Log     *slog.Logger // nil discards
}

// Client is a logged-in connection to Vault. With AppRole it logs in again
// at two thirds of its token's lifetime, and at once when Vault refuses the
// token; with a renewable token it renews it at two thirds of its TTL.
// Close stops that. A Client is safe for concurrent use.
type Client struct {
	api     *api.Client
	appRole bool
	cfg     Config
	log     *slog.Logger

	loginMu sync.Mutex // one login at a time
	mu      sync.Mutex
	ttl     time.Duration // of the current token; 0: does not expire
	renewed chan struct{} // closed and replaced when the token changes

	stop context.CancelFunc
	done chan struct{}
}

// New connects to Vault as cfg says. With AppRole it logs in before it
// returns, so a wrong role or secret id fails here; a token is checked by
// the first call that uses it (see Check).
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, errors.New("vault: no address")
	}
	u, err := url.Parse(cfg.Addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("vault: address %q is not an http(s) URL", cfg.Addr)
	}
	appRole := cfg.Token == ""
	if appRole && (cfg.RoleID == "" || cfg.SecretID == "") {
		return nil, errors.New("vault: need a token, or an AppRole role id and secret id")
	}
	if cfg.AppRoleMount == "" {
		cfg.AppRoleMount = "approle"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	hc := &http.Client{Timeout: cfg.Timeout}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
		if hc.Timeout == 0 || hc.Timeout > cfg.Timeout {
			hc.Timeout = cfg.Timeout
		}
	}
	// The api package follows Vault's redirects (to the active node) itself.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ac, err := api.NewClient(&api.Config{
		Address:    cfg.Addr,
		HttpClient: hc,
		Timeout:    cfg.Timeout,
		MaxRetries: 0, // fail fast: the caller's client retries, not every hop
	})
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	ac.ClearToken() // api.NewClient reads VAULT_TOKEN from the environment; we were told
	c := &Client{api: ac, appRole: appRole, cfg: cfg, log: cfg.Log, renewed: make(chan struct{}), done: make(chan struct{})}
	if appRole {
		if err := c.login(ctx); err != nil {
			return nil, err
		}
	} else {
		ac.SetToken(cfg.Token)
		if s, err := ac.Auth().Token().LookupSelfWithContext(ctx); err == nil {
			if ttl, _ := s.TokenTTL(); ttl > 0 {
				if ok, _ := s.TokenIsRenewable(); ok {
					c.setTTL(ttl)
				}
			}
		}
		// A token we cannot look up now is reported by Check and by the
		// calls that use it; the server starts and turns ready when Vault does.
	}
	ctx, c.stop = context.WithCancel(context.WithoutCancel(ctx))
	go c.refresh(ctx)
	return c, nil
}

// Close stops renewing the token. Calls in flight finish; later calls
// still work until the token expires.
func (c *Client) Close() {
	c.stop()
	<-c.done
}

// Write sends data to path with PUT (Vault's "write"), logging in again
// once if Vault refuses an AppRole token. Errors are classified by Err.
func (c *Client) Write(ctx context.Context, path string, data map[string]any) (*api.Secret, error) {
	return c.call(ctx, "write "+path, func(ctx context.Context) (*api.Secret, error) {
		return c.api.Logical().WriteWithContext(ctx, path, data)
	})
}

// Read reads path. A path that does not exist gives a nil secret and a nil
// error.
func (c *Client) Read(ctx context.Context, path string) (*api.Secret, error) {
	return c.call(ctx, "read "+path, func(ctx context.Context) (*api.Secret, error) {
		return c.api.Logical().ReadWithContext(ctx, path)
	})
}

// Check reports whether Vault answers, is unsealed and accepts our token
// (a token lookup-self): nil, or an Unavailable error saying why.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.call(ctx, "token lookup-self", func(ctx context.Context) (*api.Secret, error) {
		return c.api.Auth().Token().LookupSelfWithContext(ctx)
	})
	return err
}

func (c *Client) call(ctx context.Context, op string, fn func(context.Context) (*api.Secret, error)) (*api.Secret, error) {
	s, err := fn(ctx)
	if err != nil && c.appRole && StatusOf(err) == http.StatusForbidden && ctx.Err() == nil {
		// The token may have expired or been revoked under us: one fresh
		// login, one retry. A second refusal is the policy's answer.
		if lerr := c.login(ctx); lerr != nil {
			return nil, lerr
		}
		s, err = fn(ctx)
	}
	if err != nil {
		return nil, Err(ctx, "vault: "+op, err)
	}
	return s, nil
}

// login logs in with AppRole and installs the new token.
func (c *Client) login(ctx context.Context) error {
	c.loginMu.Lock()
	defer c.loginMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// A login must not carry the expired token it replaces.
	lc, err := c.api.Clone()
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "vault: approle login")
	}
	lc.ClearToken()
	s, err := lc.Logical().WriteWithContext(ctx, "auth/"+c.cfg.AppRoleMount+"/login", map[string]any{
		"role_id": c.cfg.RoleID, "secret_id": c.cfg.SecretID,
	})
	if err != nil {
		return Err(ctx, "vault: approle login", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return apperr.Wrap(errors.New("the login answer has no token"), apperr.Internal, "vault: approle login")
	}
	c.api.SetToken(s.Auth.ClientToken)
	c.setTTL(time.Duration(s.Auth.LeaseDuration) * time.Second)
	c.log.InfoContext(ctx, "vault: logged in with approle", "ttl", c.ttlNow().String())
	return nil
}

func (c *Client) setTTL(ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = ttl
	close(c.renewed)
	c.renewed = make(chan struct{})
}

func (c *Client) ttlNow() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ttl
}

// refresh keeps the token alive until ctx ends: at two thirds of its TTL it
// logs in again (AppRole) or renews it (a renewable token), retrying with a
// growing pause while Vault is away.
func (c *Client) refresh(ctx context.Context) {
	defer close(c.done)
	for {
		c.mu.Lock()
		ttl, changed := c.ttl, c.renewed
		c.mu.Unlock()
		var wait <-chan time.Time
		if ttl > 0 {
			wait = time.After(ttl * 2 / 3)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			continue // a login on another path: start over with its TTL
		case <-wait:
		}
		for retry := time.Second; ; retry = min(2*retry, 30*time.Second) {
			var err error
			if c.appRole {
				err = c.login(ctx)
			} else {
				err = c.renewSelf(ctx)
			}
			if err == nil {
				break
			}
			c.log.WarnContext(ctx, "vault: refreshing the token failed; retrying", "err", err, "in", retry.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
		}
	}
}

func (c *Client) renewSelf(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	s, err := c.api.Auth().Token().RenewSelfWithContext(ctx, 0)
	if err != nil {
		return Err(ctx, "vault: token renew-self", err)
	}
	ttl := time.Duration(0)
	if s != nil && s.Auth != nil {
		ttl = time.Duration(s.Auth.LeaseDuration) * time.Second
	}
	c.setTTL(ttl)
	return nil
}

// StatusOf returns the HTTP status of a Vault error response in err's
// chain, or 0 when Vault did not answer with one.
func StatusOf(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// Messages returns the error strings of a Vault error response in err's
// chain, joined; "" when there is none.
func Messages(err error) string {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return strings.Join(re.Errors, "; ")
	}
	return ""
}

// Err classifies an error from a call to Vault made under ctx as an
// *apperr.Error of op. The caller giving up (ctx done) keeps its context
// error; Vault not answering (refused, reset, timed out), sealed or
// standby (5xx), rate limiting (429) or refusing the token (403) is
// Unavailable; any other answer (400, 404: a bug or a missing key) is
// Internal. Errors that already are *apperr.Error pass through.
func Err(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch s := StatusOf(err); {
	case s == http.StatusForbidden || s == http.StatusTooManyRequests || s >= 500:
		return apperr.Wrap(err, apperr.Unavailable, op)
	case s != 0:
		return apperr.Wrap(err, apperr.Internal, op)
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(err, apperr.Unavailable, op)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}
