// Package secrets encrypts secrets at rest (TOTP seeds, signing keys) and
// manages the master key they are encrypted under.
//
// Callers depend on the Box interface; Local implements it with AES-256-GCM
// under a key derived from the master key, Transit with a Vault Transit key
// that never leaves Vault. Chain and Rekey move stored secrets from one Box
// to another.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Box encrypts secrets at rest. Associated data binds a ciphertext to its row
// (e.g. "totp:<app>:<user>") so a ciphertext copied onto another row fails to
// open. Implementations are safe for concurrent use. ctx bounds any remote
// call an implementation makes (a Vault Transit Box will).
type Box interface {
	// Seal encrypts plaintext bound to associated and returns a new slice.
	Seal(ctx context.Context, plaintext, associated []byte) ([]byte, error)
	// Open decrypts a ciphertext from Seal given the same associated data.
	// An error wrapping ErrDecrypt means the ciphertext is not authentic
	// under this Box and this associated data.
	Open(ctx context.Context, ciphertext, associated []byte) ([]byte, error)
}

// ErrDecrypt is returned by Open on tampered or truncated data, a wrong key
// or wrong associated data. The cases are deliberately indistinguishable.
var ErrDecrypt = errors.New("secrets: cannot decrypt: wrong key, wrong associated data or tampered ciphertext")

// Ciphertext layout for Local, version 1.
const (
	versionLen = 1
	nonceLen   = 12
	tagLen     = 16
	version1   = 1
)

// localPurpose separates Local's AES key from every other use of the master
// key; changing it makes every existing ciphertext unreadable.
const localPurpose = "secrets.Local v1"

// Local is a Box doing AES-256-GCM in process under a 32-byte master key.
// The AES key is DeriveKey(master, "secrets.Local v1"), so the master key
// itself never touches data. Ciphertext layout:
//
//	1 version byte (1) | 12-byte random nonce | sealed data and 16-byte tag
//
// Random 96-bit nonces keep the key safe for about 2^32 seals, far beyond the
// secrets of one deployment. Local ignores ctx. It is safe for concurrent use.
type Local struct {
	aead cipher.AEAD
}

var _ Box = (*Local)(nil)

// NewLocal returns a Local under masterKey, which must be exactly 32 bytes
// (see ParseMasterKey and LoadOrCreateMasterKey). Local keeps no reference to
// masterKey.
func NewLocal(masterKey []byte) (*Local, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("secrets: master key is %d bytes, want 32", len(masterKey))
	}
	block, err := aes.NewCipher(DeriveKey(masterKey, localPurpose))
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err) // unreachable for 32-byte keys
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Local{aead: aead}, nil
}

// Seal encrypts plaintext bound to associated under a fresh random nonce.
// The only error would come from crypto/rand.
func (l *Local) Seal(_ context.Context, plaintext, associated []byte) ([]byte, error) {
	out := make([]byte, versionLen+nonceLen, versionLen+nonceLen+len(plaintext)+tagLen)
	out[0] = version1
	nonce := out[versionLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: reading random: %w", err)
	}
	return l.aead.Seal(out, nonce, plaintext, associated), nil
}

// Open decrypts a ciphertext from Seal. Any failure, including an unknown
// version byte or a ciphertext too short to hold a tag, returns ErrDecrypt.
func (l *Local) Open(_ context.Context, ciphertext, associated []byte) ([]byte, error) {
	if len(ciphertext) < versionLen+nonceLen+tagLen || ciphertext[0] != version1 {
		return nil, ErrDecrypt
	}
	nonce := ciphertext[versionLen : versionLen+nonceLen]
	plain, err := l.aead.Open(nil, nonce, ciphertext[versionLen+nonceLen:], associated)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// DeriveKey derives a 32-byte subkey of master for one purpose with
// HKDF-SHA256 (no salt, info = "cosync-auth " + purpose), so the master key
// is never used for two things. The same master and purpose always give the
// same subkey; distinct purposes give independent ones. master should be a
// 32-byte master key; in FIPS 140-only mode DeriveKey panics if it is shorter
// than 112 bits. Safe for concurrent use.
func DeriveKey(master []byte, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, master, nil, "cosync-auth "+purpose, 32)
	if err != nil {
		// hkdf.Key fails only for output above 255*32 bytes or, in FIPS
		// 140-only mode, for a secret below 112 bits: both caller bugs.
		panic("secrets: DeriveKey: " + err.Error())
	}
	return key
}

// Both boxes are what the domain seals its secrets with.
var (
	_ identity.SecretBox = (*Local)(nil)
	_ identity.SecretBox = (*Transit)(nil)
)
