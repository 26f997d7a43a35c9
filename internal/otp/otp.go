// Package otp makes and hashes the short secrets CoSync Auth sends or hands
// out: six-digit one-time codes, opaque refresh and login tokens, and
// recovery codes.
//
// Everything random here comes from crypto/rand. Nothing is stored in the
// clear: codes are hashed with a keyed HMAC (Hasher) because their space is
// small enough to brute-force, tokens with plain SHA-256 (HashToken) because
// theirs is not.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// codeSpace is the number of distinct codes NewCode can return.
const codeSpace = 1_000_000

// NewCode returns a uniformly random 6-digit decimal code, "000000" to
// "999999", from crypto/rand. Rejection sampling keeps it free of modulo
// bias. Safe for concurrent use.
func NewCode() (string, error) {
	// The largest multiple of codeSpace that fits in 32 bits; draws at or
	// above it would favour low codes, so they are redrawn (p ≈ 2e-4).
	const limit = (1 << 32) / codeSpace * codeSpace
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("otp: reading random: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%codeSpace), nil
		}
	}
}

// Hasher hashes one-time codes with HMAC-SHA256 under a server key (a
// pepper), so a leaked database does not reveal codes by brute force of the
// 10^6 space. Safe for concurrent use.
type Hasher struct {
	key []byte
}

// minKeyLen matches the HMAC-SHA256 output size; a shorter pepper would be
// the weakest link.
const minKeyLen = 32

// NewHasher returns a Hasher keyed with a copy of key. It panics if key is
// shorter than 32 bytes: a weak pepper is a configuration bug that must stop
// the server, not something to handle at run time. Derive the key from the
// master key (secrets.DeriveKey) rather than reusing it.
func NewHasher(key []byte) *Hasher {
	if len(key) < minKeyLen {
		panic(fmt.Sprintf("otp: NewHasher key is %d bytes, want at least %d", len(key), minKeyLen))
	}
	return &Hasher{key: append([]byte(nil), key...)}
}

// Hash binds the code to its purpose ("signup", "reset", ...) and subject
// (app id + handle, say) and returns the MAC as lowercase hex, so a code
// issued for one purpose or subject never verifies for another. The fields
// are length-prefixed, so no two distinct triples hash alike.
func (h *Hasher) Hash(purpose, subject, code string) string {
	return hex.EncodeToString(h.mac(purpose, subject, code))
}

// Equal reports whether hash, as returned by Hash, is the hash of code for
// purpose and subject. The comparison takes time independent of where the
// values differ. A hash that is not hex (upper or lower case) never matches.
func (h *Hasher) Equal(hash, purpose, subject, code string) bool {
	got, err := hex.DecodeString(hash)
	if err != nil {
		return false
	}
	return hmac.Equal(got, h.mac(purpose, subject, code))
}

func (h *Hasher) mac(purpose, subject, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	writeField(m, "cosync-auth otp v1")
	writeField(m, purpose)
	writeField(m, subject)
	writeField(m, code)
	return m.Sum(nil)
}

// writeField writes s with a 64-bit length prefix.
func writeField(w hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	w.Write(n[:])
	w.Write([]byte(s))
}

// minTokenLen keeps tokens out of brute-force reach, since HashToken stores
// them with an unkeyed hash.
const minTokenLen = 16

// NewToken returns n random bytes from crypto/rand as unpadded base64url, for
// refresh and login tokens. It returns an error if n is below 16 (128 bits),
// the least that HashToken's unkeyed hash can protect.
func NewToken(n int) (string, error) {
	if n < minTokenLen {
		return "", fmt.Errorf("otp: NewToken(%d): want at least %d bytes", n, minTokenLen)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("otp: reading random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the lowercase hex SHA-256 of tok. That is enough for a
// high-entropy token from NewToken; do not use it for codes or recovery
// codes, whose smaller spaces need Hasher's pepper.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// recoveryAlphabet is lowercase RFC 4648 base32: no 0/1/8/9, which read like
// o/l/b/g.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewRecoveryCodes returns n distinct codes shaped "xxxxx-xxxxx" from the
// alphabet a-z2-7, each carrying 50 bits from crypto/rand. It returns an
// error if n < 1. Store them with Hasher.Hash (purpose "recovery"), not
// HashToken: 50 bits are too few for an unkeyed hash.
func NewRecoveryCodes(n int) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("otp: NewRecoveryCodes(%d): want at least 1", n)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	var b [10]byte
	for len(codes) < n {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("otp: reading random: %w", err)
		}
		var sb strings.Builder
		sb.Grow(11)
		for i, c := range b {
			if i == 5 {
				sb.WriteByte('-')
			}
			// 256 is a multiple of 32, so the low five bits are uniform.
			sb.WriteByte(recoveryAlphabet[c&31])
		}
		if code := sb.String(); !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	return codes, nil
}
