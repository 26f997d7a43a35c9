package cosync

import (
	"net/http"
	"time"

	"connectrpc.com/connect"
)

// A ClientOption configures a Client made by NewClient.
type ClientOption interface {
	applyClient(*clientConfig)
}

// A VerifierOption configures a Verifier made by NewVerifier.
type VerifierOption interface {
	applyVerifier(*verifierConfig)
}

// An Option configures both a Client and a Verifier.
type Option interface {
	ClientOption
	VerifierOption
}

type clientConfig struct {
	httpClient    *http.Client
	store         SessionStore
	refreshBefore time.Duration
	now           func() time.Time
	connectOpts   []connect.ClientOption
}

type verifierConfig struct {
	httpClient      *http.Client
	issuer          string
	audience        []string
	leeway          time.Duration
	cacheFor        time.Duration
	refreshInterval time.Duration
	now             func() time.Time
}

type clientOptionFunc func(*clientConfig)

func (f clientOptionFunc) applyClient(c *clientConfig) { f(c) }

type verifierOptionFunc func(*verifierConfig)

func (f verifierOptionFunc) applyVerifier(c *verifierConfig) { f(c) }

type bothOption struct {
	client   func(*clientConfig)
	verifier func(*verifierConfig)
}

func (o bothOption) applyClient(c *clientConfig)     { o.client(c) }
func (o bothOption) applyVerifier(c *verifierConfig) { o.verifier(c) }

// defaultHTTPClient bounds every call; http.DefaultClient has no timeout.
func defaultHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// WithHTTPClient makes the Client or Verifier send its requests with c
// (its transport, timeouts, proxies). The default is a client with a
// 30-second timeout. A nil c keeps the default.
func WithHTTPClient(c *http.Client) Option {
	return bothOption{
		client: func(cfg *clientConfig) {
			if c != nil {
				cfg.httpClient = c
			}
		},
		verifier: func(cfg *verifierConfig) {
			if c != nil {
				cfg.httpClient = c
			}
		},
	}
}

// WithClock replaces time.Now: the Client uses it to decide when a session
// is about to expire, the Verifier to check exp, nbf and iat and to pace
// JWKS fetches. Meant for tests; nil keeps time.Now.
func WithClock(now func() time.Time) Option {
	return bothOption{
		client: func(cfg *clientConfig) {
			if now != nil {
				cfg.now = now
			}
		},
		verifier: func(cfg *verifierConfig) {
			if now != nil {
				cfg.now = now
			}
		},
	}
}

// WithSessionStore makes the Client keep its session in s (say, a file or
// the platform's keychain) so that it outlives the process. The default
// keeps it in memory. A nil s keeps the default.
func WithSessionStore(s SessionStore) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) {
		if s != nil {
			cfg.store = s
		}
	})
}

// WithConnectOptions passes options to the Client's Connect clients: the
// protocol or codec (connect.WithGRPC, connect.WithProtoJSON), compression,
// or interceptors, which run inside the Client's own (after the app id and
// bearer are set).
func WithConnectOptions(opts ...connect.ClientOption) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.connectOpts = append(cfg.connectOpts, opts...) })
}

// WithRefreshBefore sets how long before its expiry the Client refreshes
// an access token; default one minute. Values below zero count as zero.
func WithRefreshBefore(d time.Duration) ClientOption {
	return clientOptionFunc(func(cfg *clientConfig) { cfg.refreshBefore = max(d, 0) })
}

// WithIssuer sets the iss the Verifier requires. The default is
// baseURL + "/apps/" + appID, which is right when baseURL is the server's
// COSYNC_PUBLIC_URL; set it when the backend reaches the server by another
// URL.
func WithIssuer(iss string) VerifierOption {
	return verifierOptionFunc(func(cfg *verifierConfig) { cfg.issuer = iss })
}

// WithAudience sets the aud values the Verifier accepts: a token passes if
// its aud names any of them. The default is the application id, which is
// what the server puts in aud unless the application sets an audience
// (such as an Atlas App ID); then pass that.
func WithAudience(aud ...string) VerifierOption {
	return verifierOptionFunc(func(cfg *verifierConfig) { cfg.audience = aud })
}

// WithLeeway sets the clock skew the Verifier tolerates on exp, nbf and
// iat; default 5 seconds, as the server's own check.
func WithLeeway(d time.Duration) VerifierOption {
	return verifierOptionFunc(func(cfg *verifierConfig) { cfg.leeway = max(d, 0) })
}

// WithJWKSCache sets how long the Verifier uses a fetched JWKS before it
// fetches it again (default 10 minutes) and the least time between two
// fetches caused by tokens naming an unknown key (default 30 seconds), so
// that forged kids cannot make it hammer the server.
func WithJWKSCache(cacheFor, refreshInterval time.Duration) VerifierOption {
	return verifierOptionFunc(func(cfg *verifierConfig) {
		if cacheFor > 0 {
			cfg.cacheFor = cacheFor
		}
		if refreshInterval > 0 {
			cfg.refreshInterval = refreshInterval
		}
	})
}
