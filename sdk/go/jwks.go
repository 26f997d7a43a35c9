package cosync

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// minRSABits is the smallest RSA key the Verifier trusts.
const minRSABits = 2048

// maxJWKSBytes bounds a JWKS response.
const maxJWKSBytes = 1 << 20

// jwksCache holds an application's public keys by kid. It fetches the
// JWKS when the cached copy is older than cacheFor, and when a token names
// an unknown kid, but never sooner than refreshInterval after the last
// attempt: a rotation is picked up at once, forged kids cost one fetch per
// interval at most, and while the server cannot be reached the keys last
// fetched keep working. One fetch runs at a time; concurrent callers wait
// for it.
type jwksCache struct {
	url             string
	client          *http.Client
	cacheFor        time.Duration
	refreshInterval time.Duration
	now             func() time.Time

	fetchMu sync.Mutex // held while fetching: one fetch at a time

	mu          sync.Mutex
	keys        map[string]*rsa.PublicKey // nil until a fetch succeeds
	fetchedAt   time.Time                 // of the last fetch that succeeded
	attemptedAt time.Time                 // of the last fetch, successful or not
	lastErr     error                     // of the last fetch
}

// key returns the public key named kid.
func (c *jwksCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := c.fresh(kid); ok {
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	// Another caller may have fetched while this one waited.
	if k, ok := c.fresh(kid); ok {
		return k, nil
	}

	c.mu.Lock()
	old, known := c.keys[kid]
	tooSoon := !c.attemptedAt.IsZero() && c.now().Sub(c.attemptedAt) < c.refreshInterval
	lastErr, haveKeys := c.lastErr, c.keys != nil
	c.mu.Unlock()
	switch {
	case tooSoon && known:
		return old, nil // stale, and the last fetch failed: keep using it
	case tooSoon && !haveKeys && lastErr != nil:
		return nil, lastErr
	case tooSoon:
		return nil, fmt.Errorf("%w: unknown key %q", ErrInvalidToken, kid)
	}

	keys, err := c.fetch(ctx)
	c.mu.Lock()
	c.attemptedAt, c.lastErr = c.now(), err
	if err == nil {
		c.keys, c.fetchedAt = keys, c.attemptedAt
	}
	c.mu.Unlock()
	switch {
	case err != nil && known:
		return old, nil
	case err != nil:
		return nil, err
	}
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown key %q", ErrInvalidToken, kid)
}

// fresh returns the cached key named kid while the cache is younger than
// cacheFor.
func (c *jwksCache) fresh(kid string) (*rsa.PublicKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || !c.now().Before(c.fetchedAt.Add(c.cacheFor)) {
		return nil, false
	}
	k, ok := c.keys[kid]
	return k, ok
}

// jwk is the part of a JSON Web Key the Verifier reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// fetch downloads and parses the JWKS, keeping the RSA signing keys usable
// with RS256.
func (c *jwksCache) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("cosync: fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cosync: fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cosync: fetch JWKS %s: %s", c.url, res.Status)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("cosync: fetch JWKS %s: %w", c.url, err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		if pub, err := k.rsaKey(); err == nil {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}

func (k jwk) rsaKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, err
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("key %q: bad exponent", k.Kid)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
		return nil, fmt.Errorf("key %q: weak RSA key", k.Kid)
	}
	return pub, nil
}
