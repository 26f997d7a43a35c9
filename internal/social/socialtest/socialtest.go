// Package socialtest is a local stand-in for Sign in with Apple and Sign in
// with Google: an IdP publishes a JWKS over HTTP, as the real ones do, and
// mints ID tokens shaped like theirs (Apple's string booleans and hashed
// nonce, Google's raw nonce and name claims), signed with its test keys.
// Tests point the server's JWKS settings at it; cmd/testidp serves two of
// them for trying the API by hand.
package socialtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/cosync/cosync-auth/internal/social"
)

// IdP is one provider's keys and token mint. It is safe for concurrent use.
type IdP struct {
	// Provider is whose tokens it mints.
	Provider social.Provider
	// Issuer is the iss of its tokens: the real provider's by default, so
	// only the server's JWKS URL setting has to change.
	Issuer string
	// Now is the mint's clock (default time.Now); set it before use.
	Now func() time.Time
	// URL is the JWKS URL once served by Start (empty with NewIdP).
	URL string

	mu        sync.Mutex
	keys      []signingKey // published, newest last
	hidden    *rsa.PrivateKey
	fetches   atomic.Int64
	unhealthy atomic.Bool
}

type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// NewIdP returns an IdP for provider with one published key.
func NewIdP(provider social.Provider) (*IdP, error) {
	i := &IdP{Provider: provider, Issuer: social.DefaultAppleIssuer, Now: time.Now}
	if provider == social.Google {
		i.Issuer = "https://accounts.google.com"
	}
	if _, err := i.Rotate(); err != nil {
		return nil, err
	}
	hidden, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	i.hidden = hidden
	return i, nil
}

// Start serves a new IdP for provider over real HTTP until tb ends.
func Start(tb testing.TB, provider social.Provider) *IdP {
	tb.Helper()
	i, err := NewIdP(provider)
	if err != nil {
		tb.Fatalf("socialtest: %v", err)
	}
	srv := httptest.NewServer(i)
	tb.Cleanup(srv.Close)
	i.URL = srv.URL + "/keys"
	return i
}

// ServeHTTP answers every GET with the JWKS, as Apple's /auth/keys and
// Google's /oauth2/v3/certs do, and counts it.
func (i *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	i.fetches.Add(1)
	if i.unhealthy.Load() {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	b, err := i.JWKS()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// Fetches returns how many times the JWKS was fetched.
func (i *IdP) Fetches() int { return int(i.fetches.Load()) }

// SetDown makes the JWKS endpoint answer 503 (true) or serve again (false).
func (i *IdP) SetDown(down bool) { i.unhealthy.Store(down) }

// Rotate publishes a new key, which signs from now on, and returns its kid.
// The older keys stay published, as providers do during a rotation.
func (i *IdP) Rotate() (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	kid := fmt.Sprintf("%s-test-%d", i.Provider, len(i.keys)+1)
	i.keys = append(i.keys, signingKey{kid: kid, priv: priv})
	return kid, nil
}

// KeyID returns the kid that signs now.
func (i *IdP) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keys[len(i.keys)-1].kid
}

// JWKS returns the published keys as a JWK set.
func (i *IdP) JWKS() ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jwk.NewSet()
	for _, k := range i.keys {
		pub, err := jwk.FromRaw(k.priv.Public())
		if err != nil {
			return nil, err
		}
		for name, v := range map[string]any{jwk.KeyIDKey: k.kid, jwk.AlgorithmKey: jwa.RS256, jwk.KeyUsageKey: "sig"} {
			if err := pub.Set(name, v); err != nil {
				return nil, err
			}
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return json.Marshal(set)
}

// Token is what to put in a minted ID token. The zero value is a valid
// token except for Subject and Audience, which tests always set.
type Token struct {
	Subject  string
	Audience string
	Email    string
	// EmailUnverified sets email_verified false (Google only: Apple's
	// addresses are always verified).
	EmailUnverified bool
	// PrivateEmail marks an Apple private-relay address (is_private_email).
	PrivateEmail bool
	// Nonce is the raw nonce the app generated: Apple tokens carry its
	// SHA-256 in hex, Google tokens the value itself.
	Nonce string
	// GivenName and FamilyName go in Google tokens (Apple never puts the
	// name in the token).
	GivenName, FamilyName string
	// IssuedAt is iat; zero: the mint's now.
	IssuedAt time.Time
	// Lifetime is exp - iat; zero: Apple's 10 minutes, Google's hour.
	Lifetime time.Duration
	// Issuer overrides the IdP's iss.
	Issuer string
	// KeyID overrides the kid header (an unknown key).
	KeyID string
	// Forged signs with a key the JWKS does not publish, under the current kid.
	Forged bool
}

// Mint returns a signed ID token shaped like the provider's.
func (i *IdP) Mint(t Token) (string, error) {
	i.mu.Lock()
	key := i.keys[len(i.keys)-1]
	i.mu.Unlock()
	priv := key.priv
	if t.Forged {
		priv = i.hidden
	}
	kid := key.kid
	if t.KeyID != "" {
		kid = t.KeyID
	}
	iat := t.IssuedAt
	if iat.IsZero() {
		iat = i.Now()
	}
	life := t.Lifetime
	if life == 0 {
		life = 10 * time.Minute
		if i.Provider == social.Google {
			life = time.Hour
		}
	}
	iss := i.Issuer
	if t.Issuer != "" {
		iss = t.Issuer
	}
	claims := map[string]any{
		"iss": iss, "aud": t.Audience, "sub": t.Subject,
		"iat": iat.Unix(), "exp": iat.Add(life).Unix(),
	}
	switch i.Provider {
	case social.Apple:
		claims["auth_time"] = iat.Unix()
		claims["nonce_supported"] = true
		if t.Email != "" {
			claims["email"] = t.Email
			claims["email_verified"] = "true"
			if t.PrivateEmail {
				claims["is_private_email"] = "true"
			}
		}
		if t.Nonce != "" {
			sum := sha256.Sum256([]byte(t.Nonce))
			claims["nonce"] = hex.EncodeToString(sum[:])
		}
	case social.Google:
		claims["azp"] = t.Audience
		if t.Email != "" {
			claims["email"] = t.Email
			claims["email_verified"] = !t.EmailUnverified
		}
		if t.GivenName != "" || t.FamilyName != "" {
			claims["given_name"], claims["family_name"] = t.GivenName, t.FamilyName
			claims["name"] = t.GivenName + " " + t.FamilyName
		}
		if t.Nonce != "" {
			claims["nonce"] = t.Nonce
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	for name, v := range map[string]any{jws.KeyIDKey: kid, jws.TypeKey: "JWT"} {
		if err := hdr.Set(name, v); err != nil {
			return "", err
		}
	}
	b, err := jws.Sign(payload, jws.WithKey(jwa.RS256, priv, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

// MustMint is Mint that fails tb on error.
func (i *IdP) MustMint(tb testing.TB, t Token) string {
	tb.Helper()
	raw, err := i.Mint(t)
	if err != nil {
		tb.Fatalf("socialtest: mint: %v", err)
	}
	return raw
}
