package token

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Verify checks raw, a compact JWT, and returns its claims. The signature
// must be RS256 by the key its kid names among the keys appID publishes;
// iss must equal issuer; exp must be present and, like iat and nbf when
// present, hold at now within Leeway (5 s).
//
// A malformed or overlong token, a bad signature, an unknown kid, a key of
// another app, or a wrong issuer gives ErrInvalid; an expired token gives
// ErrExpired; both wrapped with detail. An error reading the keys (the
// store is down) is returned as it is, so callers do not mistake an
// outage for a bad token.
func (i *Issuer) Verify(ctx context.Context, appID, issuer, raw string, now time.Time) (Claims, error) {
	if len(raw) > MaxLength {
		return Claims{}, fmt.Errorf("%w: %d characters, limit %d", ErrInvalid, len(raw), MaxLength)
	}
	if issuer == "" {
		return Claims{}, fmt.Errorf("%w: no issuer to check against", ErrInvalid)
	}
	set, err := i.keys.KeySet(ctx, appID)
	if err != nil {
		return Claims{}, fmt.Errorf("token: verify for app %q: %w", appID, err)
	}
	key := verifiedKey{appID: appID, issuer: issuer, raw: raw}
	if e, ok := i.verified.get(key, set); ok {
		if err := checkTimes(e.claims.Expiry, e.claims.IssuedAt, e.nbf, now); err != nil {
			return Claims{}, err
		}
		return cloneClaims(e.claims), nil
	}
	c, nbf, err := i.verify(set, issuer, raw)
	if err != nil {
		return Claims{}, err
	}
	i.verified.put(key, verifiedEntry{set: set, claims: c, nbf: nbf})
	if err := checkTimes(c.Expiry, c.IssuedAt, nbf, now); err != nil {
		return Claims{}, err
	}
	return cloneClaims(c), nil
}

// verify checks raw's signature by set, its issuer, and its claims' types,
// and returns its claims and nbf; Verify checks the times.
func (i *Issuer) verify(set jwk.Set, issuer, raw string) (Claims, time.Time, error) {
	i.verified.checks.Add(1)
	msg := jws.NewMessage()
	payload, err := jws.Verify([]byte(raw),
		jws.WithCompact(),
		jws.WithKeySet(set, jws.WithRequireKid(true), jws.WithUseDefault(false), jws.WithInferAlgorithmFromKey(false)),
		jws.WithMessage(msg))
	if err != nil {
		return Claims{}, time.Time{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// The published keys say RS256, so the signature was checked as RS256
	// whatever the header claims; a header that claims otherwise is still
	// not one of ours.
	if sigs := msg.Signatures(); len(sigs) != 1 || sigs[0].ProtectedHeaders().Algorithm() != jwa.RS256 {
		return Claims{}, time.Time{}, fmt.Errorf("%w: not a single RS256 signature", ErrInvalid)
	}

	tok := jwt.New()
	if err := json.Unmarshal(payload, tok); err != nil {
		return Claims{}, time.Time{}, fmt.Errorf("%w: claims: %v", ErrInvalid, err)
	}
	if got := tok.Issuer(); got != issuer {
		return Claims{}, time.Time{}, fmt.Errorf("%w: issuer %q, want %q", ErrInvalid, got, issuer)
	}
	if exp := tok.Expiration(); exp.IsZero() || exp.Unix() <= 0 {
		return Claims{}, time.Time{}, fmt.Errorf("%w: no exp", ErrInvalid)
	}
	c, err := claimsOf(tok)
	return c, tok.NotBefore(), err
}

// checkTimes checks a verified token's times at now, within Leeway.
func checkTimes(exp, iat, nbf, now time.Time) error {
	if !now.Before(exp.Add(Leeway)) {
		return fmt.Errorf("%w: at %v (exp %v)", ErrExpired, now.UTC(), exp.UTC())
	}
	if iat.After(now.Add(Leeway)) {
		return fmt.Errorf("%w: issued in the future (iat %v, now %v)", ErrInvalid, iat.UTC(), now.UTC())
	}
	if nbf.After(now.Add(Leeway)) {
		return fmt.Errorf("%w: not valid before %v (now %v)", ErrInvalid, nbf.UTC(), now.UTC())
	}
	return nil
}

// claimsOf converts a verified token to Claims.
func claimsOf(tok jwt.Token) (Claims, error) {
	c := Claims{
		Issuer:   tok.Issuer(),
		Subject:  tok.Subject(),
		Audience: tok.Audience(),
		IssuedAt: tok.IssuedAt().UTC(),
		Expiry:   tok.Expiration().UTC(),
	}
	for name, dst := range map[string]*string{ClaimSessionID: &c.SessionID, ClaimEmail: &c.Email, ClaimUserName: &c.UserName} {
		v, ok := tok.Get(name)
		if !ok {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Claims{}, fmt.Errorf("%w: claim %q is %T, want a string", ErrInvalid, name, v)
		}
		*dst = s
	}
	for name, v := range tok.PrivateClaims() {
		if Reserved[name] {
			continue
		}
		if c.Extra == nil {
			c.Extra = make(map[string]any)
		}
		c.Extra[name] = v
	}
	return c, nil
}
