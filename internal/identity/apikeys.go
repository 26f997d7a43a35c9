package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// APIKeyPrefix starts every API key secret, so a bearer credential tells
// at a glance (and to secret scanners) that it is one.
const APIKeyPrefix = "csk_"

// APIKeyTouchInterval is how stale an API key's last-used time may get:
// a key used more often than this is written at most once per interval,
// so a busy script costs no write per request.
const APIKeyTouchInterval = time.Minute

// APIKey is an application's key for scripts and backends: it acts in
// AppID with Role (admin or viewer). Only the SHA-256 of its secret is kept.
type APIKey struct {
	ID         string
	AppID      string
	Name       string
	Role       Role
	Prefix     string // the secret's first characters after APIKeyPrefix, shown to tell keys apart
	Hash       string // hex SHA-256 of the whole secret
	CreatedBy  string // the developer who made it
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero: live
}

// Live reports whether the key may be used at now.
func (k APIKey) Live(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// FindAPIKeyByHash returns the key whose secret hashes to hash, of any app.
	FindAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// TouchAPIKey sets the key's last-used time to at unless it is already
	// later than at minus APIKeyTouchInterval (a concurrent request did).
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// NewAPIKeySecret returns a new secret, `csk_` + 8 hex characters (the
// prefix) + `_` + 32 random bytes in base64url, with its prefix and hash.
func NewAPIKeySecret() (secret Secret, prefix, hash string, err error) {
	b := make([]byte, 36)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", err
	}
	prefix = hex.EncodeToString(b[:4])
	raw := APIKeyPrefix + prefix + "_" + base64.RawURLEncoding.EncodeToString(b[4:])
	return Secret(raw), prefix, APIKeyHash(raw), nil
}

// APIKeyHash is how a secret is stored and looked up: hex SHA-256. The
// secret has 256 random bits, so a fast hash is enough (no password hash).
func APIKeyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// authenticateAPIKey finds the key by its secret's hash. Unknown, revoked
// and expired keys all answer the same Unauthenticated API_KEY_INVALID.
func (s *Service) authenticateAPIKey(ctx context.Context, raw Secret, ip string) (Developer, error) {
	invalid := apperr.New(apperr.Unauthenticated, apperr.ReasonAPIKeyInvalid, "the API key is not valid (unknown, revoked or expired)")
	hash := APIKeyHash(raw.Reveal())
	k, err := s.store.FindAPIKeyByHash(ctx, hash)
	if apperr.Is(err, apperr.NotFound) {
		return Developer{}, invalid
	}
	if err != nil {
		return Developer{}, err
	}
	now := s.clock()
	// The lookup matched the hash already; comparing again in constant
	// time costs nothing and keeps a store that matched loosely honest.
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 || !k.Live(now) {
		return Developer{}, invalid
	}
	if k.LastUsedAt.IsZero() || now.Sub(k.LastUsedAt) >= APIKeyTouchInterval {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			s.log.WarnContext(ctx, "api key: recording its use failed", "api_key_id", k.ID, "err", err)
		}
	}
	return Developer{IP: ip, APIKeyID: k.ID, KeyAppID: k.AppID, KeyRole: k.Role}, nil
}
