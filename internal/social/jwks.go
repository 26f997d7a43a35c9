package social

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// keySource is one provider's JWKS: a jwk.Cache that fetches it on first
// use, refreshes it as the provider's Cache-Control allows (at least every
// 15 minutes apart), and refetches it at once when a token names a kid it
// does not hold, at most once per cooldown.
type keySource struct {
	ctx    context.Context // lives as long as the Verifier
	url    string
	client *http.Client
	cfg    Config
	now    func() time.Time

	once  sync.Once
	cache *jwk.Cache
	err   error

	primed      atomic.Bool // fetched at least once (successfully or not)
	mu          sync.Mutex  // serializes forced fetches
	lastRefresh time.Time   // of the last forced fetch
}

func newKeySource(ctx context.Context, url string, client *http.Client, cfg Config, now func() time.Time) *keySource {
	return &keySource{ctx: ctx, url: url, client: client, cfg: cfg, now: now}
}

// start creates the cache on first use, so a server whose apps never use a
// provider runs no refresher for it.
func (s *keySource) start() error {
	s.once.Do(func() {
		s.cache = jwk.NewCache(s.ctx)
		s.err = s.cache.Register(s.url, jwk.WithHTTPClient(s.client), jwk.WithMinRefreshInterval(15*time.Minute))
	})
	return s.err
}

// key returns the RSA key kid names. The first call fetches the set; later
// ones read the cache, which jwk.Cache refreshes in the background. A kid
// the set lacks triggers one refresh before it is refused, unless the set
// was fetched within the cooldown: then it is refused at once, so made-up
// kids cannot make us hammer the provider.
func (s *keySource) key(ctx context.Context, kid string) (jwk.Key, error) {
	if err := s.start(); err != nil {
		return nil, s.unavailable(err)
	}
	if s.primed.Load() {
		if set, err := s.cache.Get(ctx, s.url); err == nil {
			if k, ok := set.LookupKeyID(kid); ok {
				return usable(k, kid)
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var set jwk.Set
	err := errors.New("never fetched")
	if s.primed.Load() {
		// Another caller may have refreshed while we waited for the lock.
		if set, err = s.cache.Get(ctx, s.url); err == nil {
			if k, ok := set.LookupKeyID(kid); ok {
				return usable(k, kid)
			}
		}
	}
	now := s.now()
	if !s.lastRefresh.IsZero() && now.Sub(s.lastRefresh) < s.cfg.RefreshCooldown {
		if err != nil { // the last fetch failed: no keys to check against
			return nil, s.unavailable(err)
		}
		return nil, invalid(fmt.Sprintf("unknown signing key %q", kid), nil)
	}
	s.lastRefresh = now
	set, err = s.cache.Refresh(ctx, s.url)
	s.primed.Store(true)
	if err != nil {
		return nil, s.unavailable(err)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return usable(k, kid)
	}
	return nil, invalid(fmt.Sprintf("unknown signing key %q", kid), nil)
}

func (s *keySource) unavailable(err error) error {
	return &Error{Kind: ErrUnavailable, Detail: "the provider's signing keys could not be fetched; try again", Err: fmt.Errorf("%s: %w", s.url, err)}
}

// usable refuses keys that are not RSA signing keys for RS256.
func usable(k jwk.Key, kid string) (jwk.Key, error) {
	if k.KeyType() != jwa.RSA {
		return nil, invalid(fmt.Sprintf("signing key %q is not an RSA key", kid), nil)
	}
	if alg := k.Algorithm(); alg != nil && alg.String() != "" && alg.String() != jwa.RS256.String() {
		return nil, invalid(fmt.Sprintf("signing key %q is for %s, not RS256", kid, alg), nil)
	}
	if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return nil, invalid(fmt.Sprintf("signing key %q is not for signatures", kid), nil)
	}
	return k, nil
}
