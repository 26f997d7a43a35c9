// Package token mints and verifies the access tokens of CoSync Auth: compact
// RS256 JWTs signed with an application's active key, carrying the
// standard claims (iss, sub, aud, exp, iat), the session id, email and user
// name, and the application's metadata claims.
//
// Tokens stay within MaxLength characters because MongoDB Atlas App
// Services rejects longer ones. Verification trusts only the keys an
// application publishes in its JWKS.
package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/cosync/cosync-auth/internal/keys"

	"github.com/cosync/cosync-auth/internal/identity"
)

// MaxLength is the longest compact token Mint produces and Verify accepts,
// in characters: Atlas App Services rejects longer tokens.
const MaxLength = 2048

// Leeway is the clock skew Verify tolerates on exp, iat and nbf.
const Leeway = 5 * time.Second

// Names of the non-standard claims this package sets.
const (
	ClaimSessionID = "sid"
	ClaimEmail     = "email"
	ClaimUserName  = "user_name"
)

// Reserved lists the claim names Claims sets itself; Claims.Extra must not
// use them. Do not modify it. The domain declares it (identity.ReservedClaims).
var Reserved = identity.ReservedClaims

// Errors of Verify and Mint, declared by the domain. They are wrapped with
// detail: test with errors.Is.
var (
	// ErrInvalid means the token is malformed, not signed by a key the app
	// publishes, or issued by someone else.
	ErrInvalid = identity.ErrTokenInvalid
	// ErrExpired means the token was valid but its exp has passed.
	ErrExpired = identity.ErrTokenExpired
	// ErrTooLong means Mint would produce a token longer than MaxLength.
	ErrTooLong = identity.ErrTokenTooLong
)

// Claims are what a token says; the domain declares them (identity.Claims).
type Claims = identity.Claims

var _ identity.Tokens = (*Issuer)(nil)

// Issuer mints and verifies the tokens of every application with the keys
// of a keys.Keyring. Its only state is the tokens it has verified
// (verified.go); it is safe for concurrent use.
type Issuer struct {
	keys     *keys.Keyring
	verified verified
}

// NewIssuer returns an Issuer that signs and verifies with k, which must
// not be nil.
func NewIssuer(k *keys.Keyring) *Issuer {
	if k == nil {
		panic("token: NewIssuer with a nil Keyring")
	}
	return &Issuer{keys: k}
}

// Mint signs c with the active key of appID and returns the compact JWT;
// its header has alg RS256, typ JWT and the key's kid. It needs Issuer,
// Subject, IssuedAt and an Expiry after IssuedAt; times are written in
// whole seconds. It returns ErrTooLong (wrapped) if the token would be
// longer than MaxLength, keys.ErrNoKey (wrapped) if the app has no active
// key, and the backend's error if signing fails.
func (i *Issuer) Mint(ctx context.Context, appID string, c Claims) (string, error) {
	payload, err := claimsPayload(c)
	if err != nil {
		return "", err
	}
	rec, err := i.keys.Active(ctx, appID)
	if err != nil {
		return "", fmt.Errorf("token: mint for app %q: %w", appID, err)
	}

	// Refuse before signing: a remote signer's round trip is wasted on a
	// token that cannot be used. The estimate is exact for RSA-2048.
	header := `{"alg":"RS256","kid":"` + rec.KID + `","typ":"JWT"}`
	if n := b64Len(len(header)) + 1 + b64Len(len(payload)) + 1 + b64Len(keys.MinKeyBits/8); n > MaxLength {
		return "", fmt.Errorf("%w: %d characters, limit %d", ErrTooLong, n, MaxLength)
	}

	hdrs := jws.NewHeaders()
	if err := hdrs.Set(jws.KeyIDKey, rec.KID); err != nil {
		return "", fmt.Errorf("token: mint: %w", err)
	}
	if err := hdrs.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("token: mint: %w", err)
	}
	// This is what jwt.Sign does after marshalling the token; signing the
	// payload marshalled above avoids marshalling it twice.
	signed, err := jws.Sign(payload, jws.WithKey(jwa.RS256, i.keys.CryptoSigner(ctx, rec), jws.WithProtectedHeaders(hdrs)))
	if err != nil {
		return "", fmt.Errorf("token: mint for app %q with key %q: %w", appID, rec.KID, err)
	}
	if len(signed) > MaxLength {
		return "", fmt.Errorf("%w: %d characters, limit %d", ErrTooLong, len(signed), MaxLength)
	}
	return string(signed), nil
}

// b64Len is the length of n bytes in unpadded base64url.
func b64Len(n int) int { return (n*8 + 5) / 6 }

// claimsPayload checks c and returns the JSON claims set.
func claimsPayload(c Claims) ([]byte, error) {
	switch {
	case c.Issuer == "":
		return nil, errors.New("token: mint: no issuer")
	case c.Subject == "":
		return nil, errors.New("token: mint: no subject")
	case c.IssuedAt.IsZero():
		return nil, errors.New("token: mint: no issued-at time")
	case !c.Expiry.After(c.IssuedAt):
		return nil, fmt.Errorf("token: mint: expiry %v is not after issued-at %v", c.Expiry, c.IssuedAt)
	}
	for name := range c.Extra {
		if Reserved[name] {
			return nil, fmt.Errorf("token: mint: extra claim %q is reserved", name)
		}
	}

	tok := jwt.New()
	// jwt.Settings could flatten a one-element aud into a string for the
	// whole process; consumers expect an array, so this token never does.
	tok.Options().Disable(jwt.FlattenAudience)
	claims := map[string]any{
		jwt.IssuerKey:     c.Issuer,
		jwt.SubjectKey:    c.Subject,
		jwt.IssuedAtKey:   c.IssuedAt,
		jwt.ExpirationKey: c.Expiry,
	}
	if len(c.Audience) > 0 {
		claims[jwt.AudienceKey] = c.Audience
	}
	for name, v := range map[string]string{ClaimSessionID: c.SessionID, ClaimEmail: c.Email, ClaimUserName: c.UserName} {
		if v != "" {
			claims[name] = v
		}
	}
	maps.Copy(claims, c.Extra)
	for name, v := range claims {
		if err := tok.Set(name, v); err != nil {
			return nil, fmt.Errorf("token: mint: claim %q: %w", name, err)
		}
	}
	payload, err := json.Marshal(tok)
	if err != nil {
		return nil, fmt.Errorf("token: mint: %w", err)
	}
	return payload, nil
}
