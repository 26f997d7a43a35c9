package token_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/token"
)

// memStore is an in-memory keys.Store.
type memStore struct {
	mu   sync.Mutex
	keys map[string][]keys.Record // by app, newest first
}

func (s *memStore) ListSigningKeys(_ context.Context, appID string) ([]keys.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys[appID]), nil
}

// env is an Issuer over two apps with one active key each, plus a key of
// app1 that was never stored (so never published), and the private keys
// for forging tokens from outside.
type env struct {
	iss              *token.Issuer
	keyring          *keys.Keyring
	app1, app2, lost keys.Record
	priv             map[string]*rsa.PrivateKey // by kid
}

var shared struct {
	once sync.Once
	env  *env
	err  error
}

// newEnv returns the package's shared env, built once: RSA key generation
// under the race detector is slow, and an Issuer is safe to share.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	shared.once.Do(func() { shared.env, shared.err = buildEnv() })
	if shared.err != nil {
		tb.Fatalf("building the test env: %v", shared.err)
	}
	return shared.env
}

func buildEnv() (*env, error) {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	box, err := secrets.NewLocal(master)
	if err != nil {
		return nil, err
	}
	signer := keys.NewLocalSigner(box)
	e := &env{priv: make(map[string]*rsa.PrivateKey)}
	for _, k := range []struct {
		app string
		rec *keys.Record
	}{{"app1", &e.app1}, {"app2", &e.app2}, {"app1", &e.lost}} {
		if *k.rec, err = signer.Generate(ctx, k.app); err != nil {
			return nil, err
		}
		der, err := box.Open(ctx, k.rec.SealedPrivateKey, keys.SealAssociatedData(k.app, k.rec.KID))
		if err != nil {
			return nil, err
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		e.priv[k.rec.KID] = priv.(*rsa.PrivateKey)
	}
	st := &memStore{keys: map[string][]keys.Record{"app1": {e.app1}, "app2": {e.app2}}}
	e.keyring = keys.NewKeyring(st, signer, keys.KeyringConfig{}, nil)
	e.iss = token.NewIssuer(e.keyring)
	return e, nil
}

// forge signs claims with priv from outside this code base (go-jose), with
// the given header alg and kid.
func forge(tb testing.TB, priv *rsa.PrivateKey, kid string, claims any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, opts)
	if err != nil {
		tb.Fatalf("jose.NewSigner = %v", err)
	}
	raw, err := josejwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		tb.Fatalf("forging a token: %v", err)
	}
	return raw
}

// realistic returns the claims of a typical access token issued at iat.
func realistic(iat time.Time) token.Claims {
	return token.Claims{
		Issuer:    "https://auth.example.com/apps/5f0c7c1e-8a39-4f7e-9b8e-0b7c3c9d2a41",
		Subject:   "0b8f6c7e-2d4a-4e57-a2c9-6c1f0e9d8b73",
		Audience:  []string{"application-0-abcde"},
		IssuedAt:  iat,
		Expiry:    iat.Add(15 * time.Minute),
		SessionID: "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
		Email:     "ada.lovelace@example.com",
		UserName:  "ada",
		Extra: map[string]any{
			"user_data": map[string]any{"name": "Ada Lovelace", "plan": "pro", "team": "analytical-engine"},
		},
	}
}
