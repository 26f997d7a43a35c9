package keys

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

// ErrImportUnsupported is returned when the signer cannot take in an
// existing private key. Vault Transit could (BYOK import, wrapped with its
// wrapping key), but that is not built yet.
var ErrImportUnsupported = errors.New("keys: this signer cannot import an existing private key")

// importer is a Signer that can take in an existing private key.
type importer interface {
	Import(ctx context.Context, appID string, privatePEM []byte) (Record, error)
}

// ImportKey returns the record of an existing RSA private key for appID,
// held by the keyring's signer as a generated key would be: active, named
// by its thumbprint, the private key sealed. Nothing is stored; the caller
// persists the record (and calls Invalidate). privatePEM is a PKCS#1 or
// PKCS#8 PEM, or the base64 of one. ErrImportUnsupported when the signer
// cannot import.
func (k *Keyring) ImportKey(ctx context.Context, appID string, privatePEM identity.Secret) (Record, error) {
	im, ok := k.signer.(importer)
	if !ok {
		return Record{}, fmt.Errorf("%w (%s)", ErrImportUnsupported, k.signer.Name())
	}
	return im.Import(ctx, appID, []byte(privatePEM.Reveal()))
}

// Import returns the record of an existing RSA private key of at least
// MinKeyBits for appID, sealed under SealAssociatedData like Generate's.
// Nothing is stored.
func (s *LocalSigner) Import(ctx context.Context, appID string, privatePEM []byte) (Record, error) {
	if appID == "" {
		return Record{}, errors.New("keys: import: empty app id")
	}
	priv, err := parsePrivatePEM(privatePEM)
	if err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	if err := priv.Validate(); err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	kid, err := Thumbprint(&priv.PublicKey)
	if err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	if err := checkPublic(&priv.PublicKey, kid); err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	pubPEM, err := encodePublicPEM(&priv.PublicKey)
	if err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Record{}, fmt.Errorf("keys: import: %w", err)
	}
	sealed, err := s.box.Seal(ctx, der, SealAssociatedData(appID, kid))
	clear(der)
	if err != nil {
		return Record{}, fmt.Errorf("keys: import: seal private key: %w", err)
	}
	return Record{
		AppID: appID, KID: kid, Algorithm: AlgRS256, Backend: BackendLocal, State: StateActive,
		PublicKeyPEM: pubPEM, SealedPrivateKey: sealed, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

// parsePrivatePEM reads an RSA private key from a PKCS#1 ("RSA PRIVATE
// KEY") or PKCS#8 ("PRIVATE KEY") PEM, or the base64 of such a PEM, with
// "\n" escapes forgiven (as keys pasted into settings often arrive).
func parsePrivatePEM(b []byte) (*rsa.PrivateKey, error) {
	s := strings.TrimSpace(strings.ReplaceAll(string(b), `\n`, "\n"))
	if !strings.HasPrefix(s, "-----") {
		if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
			s = strings.TrimSpace(string(dec))
		}
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM private key")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		priv, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%T is not an RSA key", k)
		}
		return priv, nil
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
}
