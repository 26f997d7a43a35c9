// Package keys holds the signing keys of CoSync Auth applications: the
// Signer backends that create keys and sign with them (a local backend that
// keeps RSA private keys sealed at rest, and Vault Transit, which never lets
// them out), and the Keyring, the read side that answers which key signs now
// and which public keys an application publishes in its JWKS.
//
// Every key is RSA-2048 and signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
// A key is named by its RFC 7638 thumbprint, so the kid of a JWT header, a
// JWKS entry and a stored row always agree.
package keys

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/cosync/cosync-auth/internal/identity"
)

// AlgRS256 is the JWS algorithm of every key: RSASSA-PKCS1-v1_5 using SHA-256.
const AlgRS256 = "RS256"

// MinKeyBits is the smallest RSA modulus this package accepts from a store
// or a backend.
const MinKeyBits = 2048

// State is where a key is in its life; the domain declares it
// (identity.KeyState).
type State = identity.KeyState

// The states of a signing key.
const (
	StateActive    = identity.KeyActive    // signs new tokens; published
	StateVerifying = identity.KeyVerifying // no longer signs; published until RetireAt
	StateRetired   = identity.KeyRetired   // neither signs nor is published
)

// Record is one signing key of one application as stored; the domain
// declares it (identity.SigningKey). Rows are persisted by the store
// package, which implements Store. A Record holds no private key in clear.
// SealedPrivateKey is, for the local backend only, the PKCS#8 DER private
// key sealed with a secrets.Box under SealAssociatedData(AppID, KID).
type Record = identity.SigningKey

// Signer is a key backend: it creates keys and signs with them, never
// revealing a private key. Implementations are safe for concurrent use; a
// remote backend (Vault) may batch concurrent Sign calls.
type Signer interface {
	// Name is the backend name written to Record.Backend, e.g. "local".
	Name() string
	// Generate creates a new RSA-2048 key for appID and returns its record:
	// State active, CreatedAt now (UTC, truncated to microseconds so it
	// survives a database round trip unchanged). The caller persists it.
	Generate(ctx context.Context, appID string) (Record, error)
	// Sign signs a SHA-256 digest (32 bytes) with RSASSA-PKCS1-v1_5 using
	// the private key of rec, giving an RS256 signature.
	Sign(ctx context.Context, rec Record, digest []byte) ([]byte, error)
	// Check reports whether the backend is ready to sign (for /readyz).
	Check(ctx context.Context) error
}

// Store is what the Keyring reads. The store package implements it.
type Store interface {
	// ListSigningKeys returns every key of the app, newest first. An unknown
	// app gives an empty slice and a nil error.
	ListSigningKeys(ctx context.Context, appID string) ([]Record, error)
}

// ErrNoKey is returned when an application has no active signing key.
var ErrNoKey = errors.New("keys: application has no active signing key")

// SealAssociatedData is the associated data a local private key is sealed
// under. Binding the app and kid means a sealed key copied into another
// row, or another app, fails to open.
func SealAssociatedData(appID, kid string) []byte {
	return []byte("signing-key:" + appID + ":" + kid)
}

// Thumbprint returns the RFC 7638 JWK thumbprint of pub: SHA-256 over the
// canonical JSON {"e":…,"kty":"RSA","n":…}, base64url without padding.
// It fails for a nil key or a non-positive exponent.
func Thumbprint(pub *rsa.PublicKey) (string, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 {
		return "", errors.New("keys: thumbprint of an empty RSA key")
	}
	if pub.E <= 0 {
		return "", fmt.Errorf("keys: thumbprint: bad RSA exponent %d", pub.E)
	}
	enc := base64.RawURLEncoding
	e := enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	n := enc.EncodeToString(pub.N.Bytes())
	// The members are in lexicographic order with no whitespace, as RFC 7638
	// §3.3 requires; base64url needs no JSON escaping.
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return enc.EncodeToString(sum[:]), nil
}

// ParsePublicKey parses rec.PublicKeyPEM (PKIX "PUBLIC KEY") and checks
// that it is an RSA key of at least MinKeyBits whose thumbprint is rec.KID.
func ParsePublicKey(rec Record) (*rsa.PublicKey, error) {
	pub, err := parsePublicPEM(rec.PublicKeyPEM)
	if err == nil {
		err = checkPublic(pub, rec.KID)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: key %q of app %q: %w", rec.KID, rec.AppID, err)
	}
	return pub, nil
}

// parsePublicPEM parses a PKIX "PUBLIC KEY" PEM holding an RSA key.
func parsePublicPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("no PUBLIC KEY PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", k)
	}
	return pub, nil
}

// checkPublic checks the size of pub and that kid names it.
func checkPublic(pub *rsa.PublicKey, kid string) error {
	if bits := pub.N.BitLen(); bits < MinKeyBits {
		return fmt.Errorf("RSA key of %d bits, want at least %d", bits, MinKeyBits)
	}
	tp, err := Thumbprint(pub)
	if err != nil {
		return err
	}
	if tp != kid {
		return fmt.Errorf("thumbprint %q does not match kid", tp)
	}
	return nil
}

// encodePublicPEM returns pub as a PKIX "PUBLIC KEY" PEM.
func encodePublicPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
