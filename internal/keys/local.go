package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/secrets"

	"github.com/cosync/cosync-auth/internal/identity"
)

// BackendLocal is the Name of LocalSigner and the Record.Backend of its keys.
const BackendLocal = identity.KeyBackendLocal

// LocalSigner is the Signer that keeps RSA private keys in the database,
// as PKCS#8 DER sealed with a secrets.Box. It is the default backend and needs no
// other service.
//
// Keys are immutable, so a LocalSigner caches each parsed private key by
// app and kid after its first use: signing does not open and parse the
// sealed key again. The cache lives as long as the LocalSigner and holds
// one entry per key it has signed with.
//
// A LocalSigner is safe for concurrent use.
type LocalSigner struct {
	box secrets.Box

	mu     sync.Mutex
	parsed map[cacheKey]*rsa.PrivateKey
}

type cacheKey struct{ appID, kid string }

var _ Signer = (*LocalSigner)(nil)

// NewLocalSigner returns a LocalSigner that seals and opens private keys
// with box (secrets.Local in production), which must not be nil.
func NewLocalSigner(box secrets.Box) *LocalSigner {
	if box == nil {
		panic("keys: NewLocalSigner with a nil Box")
	}
	return &LocalSigner{box: box, parsed: make(map[cacheKey]*rsa.PrivateKey)}
}

// Name returns "local".
func (s *LocalSigner) Name() string { return BackendLocal }

// Check always returns nil: the local backend has nothing to wait for.
func (s *LocalSigner) Check(context.Context) error { return nil }

// Generate creates an RSA-2048 key for appID and returns its record with
// the private key sealed. Nothing is stored; the caller persists the record.
func (s *LocalSigner) Generate(ctx context.Context, appID string) (Record, error) {
	if appID == "" {
		return Record{}, errors.New("keys: generate: empty app id")
	}
	priv, err := rsa.GenerateKey(rand.Reader, MinKeyBits)
	if err != nil {
		return Record{}, fmt.Errorf("keys: generate: %w", err)
	}
	kid, err := Thumbprint(&priv.PublicKey)
	if err != nil {
		return Record{}, fmt.Errorf("keys: generate: %w", err)
	}
	pubPEM, err := encodePublicPEM(&priv.PublicKey)
	if err != nil {
		return Record{}, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Record{}, fmt.Errorf("keys: generate: %w", err)
	}
	sealed, err := s.box.Seal(ctx, der, SealAssociatedData(appID, kid))
	clear(der)
	if err != nil {
		return Record{}, fmt.Errorf("keys: generate: seal private key: %w", err)
	}
	s.remember(cacheKey{appID, kid}, priv)
	return Record{
		AppID:            appID,
		KID:              kid,
		Algorithm:        AlgRS256,
		Backend:          BackendLocal,
		State:            StateActive,
		PublicKeyPEM:     pubPEM,
		SealedPrivateKey: sealed,
		CreatedAt:        time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

// Sign signs a SHA-256 digest with the private key of rec using
// RSASSA-PKCS1-v1_5. rec must be a local RS256 record.
func (s *LocalSigner) Sign(ctx context.Context, rec Record, digest []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rec.Backend != BackendLocal {
		// Another replica moved the app to another signer (a rolling move
		// to Vault): this one cannot sign for it, others can. Retry.
		return nil, apperr.Wrap(fmt.Errorf("key %q of app %q is held by the %q signer, not local", rec.KID, rec.AppID, rec.Backend), apperr.Unavailable, "keys.Sign")
	}
	if rec.Algorithm != AlgRS256 {
		return nil, fmt.Errorf("keys: local signer cannot sign %q", rec.Algorithm)
	}
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("keys: sign: digest of %d bytes, want a SHA-256 digest of %d", len(digest), sha256.Size)
	}
	priv, err := s.privateKey(ctx, rec)
	if err != nil {
		return nil, err
	}
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest)
	if err != nil {
		return nil, fmt.Errorf("keys: sign with %q: %w", rec.KID, err)
	}
	return sig, nil
}

// privateKey returns the parsed private key of rec, opening it on first use.
// Two first uses at once may both open it; the cache keeps one.
func (s *LocalSigner) privateKey(ctx context.Context, rec Record) (*rsa.PrivateKey, error) {
	ck := cacheKey{rec.AppID, rec.KID}
	s.mu.Lock()
	priv := s.parsed[ck]
	s.mu.Unlock()
	if priv != nil {
		return priv, nil
	}
	if len(rec.SealedPrivateKey) == 0 {
		return nil, fmt.Errorf("keys: key %q of app %q has no sealed private key", rec.KID, rec.AppID)
	}
	der, err := s.box.Open(ctx, rec.SealedPrivateKey, SealAssociatedData(rec.AppID, rec.KID))
	if err != nil {
		return nil, fmt.Errorf("keys: open private key %q of app %q: %w", rec.KID, rec.AppID, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse private key %q of app %q: %w", rec.KID, rec.AppID, err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: private key %q of app %q is %T, not RSA", rec.KID, rec.AppID, k)
	}
	// A row whose kid does not name its key would sign tokens that no JWKS
	// can verify; refuse it once, here, rather than mint them.
	if err := checkPublic(&priv.PublicKey, rec.KID); err != nil {
		return nil, fmt.Errorf("keys: private key %q of app %q: %w", rec.KID, rec.AppID, err)
	}
	return s.remember(ck, priv), nil
}

// remember caches priv under ck unless another goroutine got there first,
// and returns the cached key.
func (s *LocalSigner) remember(ck cacheKey, priv *rsa.PrivateKey) *rsa.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.parsed[ck]; p != nil {
		return p
	}
	s.parsed[ck] = priv
	return priv
}
