package identity

import (
	"crypto/md5" //nolint:gosec // CosyncJWT clients send MD5 hex; it is an input format here, never a stored hash
	"crypto/sha256"
	"encoding/hex"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// CosyncJWTSettings let an application keep serving apps built on the
// CosyncJWT SDKs (internal/cosyncjwt, docs/cosyncjwt.md).
type CosyncJWTSettings struct {
	// AppTokenHash is CosyncJWTTokenHash of the app token those clients
	// send as `app-token`; empty: the facade does not serve this app.
	AppTokenHash string `json:"app_token_hash,omitempty"`
	// AppTokenHint is "****" and the token's last four characters.
	AppTokenHint string `json:"app_token_hint,omitempty"`
	// MD5PrehashedPasswords: passwords are stored and checked as argon2id
	// over the lowercase hex MD5 of the password, which is what CosyncJWT
	// clients send; passwords from other clients are MD5-hashed first, so
	// both kinds of client agree.
	MD5PrehashedPasswords bool `json:"md5_prehashed_passwords,omitempty"`
}

// CosyncJWTTokenHash is how a CosyncJWT app token is kept and looked up:
// its lowercase hex SHA-256 (the token is a long random JWT, so an unkeyed
// hash is enough).
func CosyncJWTTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// storedPassword returns pw as app a stores and checks passwords: on an
// app with MD5PrehashedPasswords, the MD5 hex of pw unless the caller
// already sent that (prehashed).
func storedPassword(a App, prehashed bool, pw Secret) Secret {
	if !a.Settings.CosyncJWT.MD5PrehashedPasswords || prehashed || pw == "" {
		return pw
	}
	sum := md5.Sum([]byte(pw)) //nolint:gosec // see the import
	return Secret(hex.EncodeToString(sum[:]))
}

// checkNewPassword enforces the app's policy on a password being set. A
// prehashed password cannot be checked (the server sees only its MD5, as
// CosyncJWT's did; its clients check the policy themselves), so it must
// only look like an MD5 hex.
func checkNewPassword(field string, a App, prehashed bool, pw Secret) error {
	if prehashed {
		if !IsMD5Hex(pw.Reveal()) {
			return apperr.Field(field, "must be the 32-character lowercase hex MD5 of the password")
		}
		return nil
	}
	return checkPassword(field, a.Settings.PasswordPolicy, pw)
}

// IsMD5Hex reports whether s is 32 lowercase hex digits.
func IsMD5Hex(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
