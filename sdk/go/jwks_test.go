package cosync

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// jwksServer serves one RSA key as a JWKS under /apps/app/.well-known/jwks.json.
type jwksServer struct {
	*httptest.Server
	key *rsa.PrivateKey
}

func newJWKSServer(tb testing.TB) *jwksServer {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	s := &jwksServer{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apps/app/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		err := json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
		if err != nil {
			tb.Errorf("encoding the JWKS: %v", err)
		}
	}))
	tb.Cleanup(s.Close)
	return s
}

// sign returns an RS256 JWT of claims with the given kid.
func (s *jwksServer) sign(tb testing.TB, kid string, claims map[string]any) string {
	tb.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"})
	p, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// While the server is unreachable, the keys fetched last keep verifying,
// and the Verifier retries at most once per interval.
func TestVerifierKeepsKeysWhileServerIsDown(t *testing.T) {
	ctx := context.Background()
	srv := newJWKSServer(t)
	clock := &manualClock{now: time.Unix(1_800_000_000, 0)}
	v, err := NewVerifier(srv.URL, "app", WithClock(clock.Now), WithJWKSCache(10*time.Minute, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	token := srv.sign(t, "k1", map[string]any{
		"iss": srv.URL + "/apps/app", "aud": "app", "sub": "u1",
		"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Hour).Unix(), "team": "blue",
	})
	c, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if c.Subject != "u1" || c.Audience[0] != "app" || c.Metadata["team"] != "blue" {
		t.Errorf("claims = %+v", c)
	}

	srv.Close()
	clock.Add(11 * time.Minute) // the cache is stale, and the server is gone
	for i := range 2 {
		if _, err := v.Verify(ctx, token); err != nil {
			t.Errorf("Verify #%d with the server down = %v, want the stale key to work", i, err)
		}
	}
	// One failed attempt, then nothing until the interval passes.
	v.jwks.mu.Lock()
	attempted, lastErr := v.jwks.attemptedAt, v.jwks.lastErr
	v.jwks.mu.Unlock()
	if !attempted.Equal(clock.Now()) || lastErr == nil {
		t.Errorf("last fetch at %v with %v; want one failed attempt at %v", attempted, lastErr, clock.Now())
	}

	unknown := srv.sign(t, "k2", map[string]any{"iss": srv.URL + "/apps/app", "aud": "app", "sub": "u1", "exp": clock.Now().Add(time.Hour).Unix()})
	if _, err := v.Verify(ctx, unknown); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(unknown kid, server down) = %v, want ErrInvalidToken", err)
	}
}

// A server that was never reached makes Verify fail with its error, not
// ErrInvalidToken: the token may be fine.
func TestVerifierFirstFetchFails(t *testing.T) {
	srv := newJWKSServer(t)
	token := srv.sign(t, "k1", map[string]any{"iss": srv.URL + "/apps/app", "aud": "app", "sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})
	srv.Close()
	v, err := NewVerifier(srv.URL, "app")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), token)
	if err == nil || errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "JWKS") {
		t.Errorf("Verify with the server down = %v, want a JWKS fetch error", err)
	}
}

func TestNewVerifierRefusesBadArguments(t *testing.T) {
	for _, tt := range []struct{ base, app string }{
		{"auth.example.com", "app"}, {"ftp://auth.example.com", "app"}, {"https://auth.example.com", ""},
	} {
		if _, err := NewVerifier(tt.base, tt.app); err == nil {
			t.Errorf("NewVerifier(%q, %q) = nil error", tt.base, tt.app)
		}
	}
	if _, err := NewVerifier("https://auth.example.com", "app", WithAudience()); err == nil {
		t.Errorf("NewVerifier with WithAudience() = nil error")
	}
}
