// Package social verifies the ID tokens that Sign in with Apple and Sign in
// with Google hand to mobile and web apps: the RS256 signature against the
// provider's published JWKS (cached, refreshed when a token names a key we
// have not seen), the issuer, the audience (one of the app's bundle or
// client ids), expiry and issue time with a small clock skew, and the nonce.
//
// It knows the providers' wire formats and nothing of users or databases:
// remembering which nonces were used, and what a verified token means for an
// account, is the identity package's business.
package social

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Provider names an identity provider; the domain declares it
// (identity.Provider) with the claims and errors below.
type Provider = identity.Provider

// The providers.
const (
	Apple  = identity.Apple
	Google = identity.Google
)

// Providers lists every provider, in the order the API numbers them.
var Providers = identity.Providers

// The real providers' endpoints: the defaults of Config.
const (
	DefaultAppleJWKSURL  = "https://appleid.apple.com/auth/keys"
	DefaultAppleIssuer   = "https://appleid.apple.com"
	DefaultGoogleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"
)

// DefaultGoogleIssuers are the two spellings of Google's issuer.
var DefaultGoogleIssuers = []string{"accounts.google.com", "https://accounts.google.com"}

// MaxTokenLength bounds the ID tokens Verify reads (real ones are ~1 KB).
const MaxTokenLength = 8192

// Config points the Verifier at the providers. The zero value of each field
// is the documented default: the real Apple and Google endpoints.
type Config struct {
	AppleJWKSURL  string   // default DefaultAppleJWKSURL
	AppleIssuer   string   // default DefaultAppleIssuer
	GoogleJWKSURL string   // default DefaultGoogleJWKSURL
	GoogleIssuers []string // default DefaultGoogleIssuers
	// Skew is the clock difference tolerated on exp and iat; default 1m.
	Skew time.Duration
	// RefreshCooldown is how long after one refresh of a provider's keys an
	// unknown kid triggers no other (so a flood of made-up kids cannot
	// flood the provider); default 1m.
	RefreshCooldown time.Duration
	// FetchTimeout bounds one wait for a provider's keys; default 10s.
	FetchTimeout time.Duration
}

// Claims are what a verified ID token says about the person.
type Claims = identity.SocialClaims

// The error kinds Verify returns, wrapped in an *Error.
var (
	ErrInvalid     = identity.ErrIDTokenInvalid
	ErrNonce       = identity.ErrNonce
	ErrUnavailable = identity.ErrProviderUnavailable
)

// Error is a failed verification (identity.SocialError).
type Error = identity.SocialError

var _ identity.SocialVerifier = (*Verifier)(nil)

func invalid(detail string, cause error) error {
	return &Error{Kind: ErrInvalid, Detail: detail, Err: cause}
}

// Verifier checks ID tokens. It is safe for concurrent use; Close stops its
// background refreshes.
type Verifier struct {
	cfg       Config
	now       func() time.Time
	providers map[Provider]*keySource
	issuers   map[Provider][]string
	cancel    context.CancelFunc
}

// New returns a Verifier that fetches keys through client (its timeouts
// bound every fetch; nil gets a client with a 10 s timeout, never
// http.DefaultClient). now is the clock (nil: time.Now). Nothing is
// fetched until a token of a provider arrives.
func New(cfg Config, client *http.Client, now func() time.Time) *Verifier {
	if cfg.AppleJWKSURL == "" {
		cfg.AppleJWKSURL = DefaultAppleJWKSURL
	}
	if cfg.AppleIssuer == "" {
		cfg.AppleIssuer = DefaultAppleIssuer
	}
	if cfg.GoogleJWKSURL == "" {
		cfg.GoogleJWKSURL = DefaultGoogleJWKSURL
	}
	if len(cfg.GoogleIssuers) == 0 {
		cfg.GoogleIssuers = DefaultGoogleIssuers
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	if cfg.RefreshCooldown == 0 {
		cfg.RefreshCooldown = time.Minute
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &Verifier{cfg: cfg, now: now, cancel: cancel}
	v.providers = map[Provider]*keySource{
		Apple:  newKeySource(ctx, cfg.AppleJWKSURL, client, cfg, now),
		Google: newKeySource(ctx, cfg.GoogleJWKSURL, client, cfg, now),
	}
	v.issuers = map[Provider][]string{Apple: {cfg.AppleIssuer}, Google: cfg.GoogleIssuers}
	return v
}

// Close stops background key refreshes. Verify fails after it.
func (v *Verifier) Close() { v.cancel() }

// Verify checks raw, an ID token of provider, for an app whose audiences
// (Apple bundle or services ids, Google client ids) are given. nonce is the
// raw nonce the client generated, or "": Apple tokens must then carry its
// SHA-256 in hex, Google tokens the nonce itself; a token that carries a
// nonce is refused without one. Remembering used nonces is the caller's job
// (Claims.Nonce, until Claims.ExpiresAt).
//
// Errors are *Error: ErrInvalid, ErrNonce, or ErrUnavailable when the
// provider's keys cannot be had.
func (v *Verifier) Verify(ctx context.Context, provider Provider, raw string, audiences []string, nonce string) (Claims, error) {
	src, ok := v.providers[provider]
	if !ok {
		return Claims{}, invalid(fmt.Sprintf("unknown provider %q", provider), nil)
	}
	if len(raw) > MaxTokenLength {
		return Claims{}, invalid(fmt.Sprintf("longer than %d characters", MaxTokenLength), nil)
	}
	if strings.Count(raw, ".") != 2 {
		return Claims{}, invalid("not a compact JWT", nil)
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil {
		return Claims{}, invalid("not a signed JWT", err)
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return Claims{}, invalid("not a single signature", nil)
	}
	hdr := sigs[0].ProtectedHeaders()
	if hdr.Algorithm() != jwa.RS256 {
		return Claims{}, invalid(fmt.Sprintf("signed with %s, not RS256", hdr.Algorithm()), nil)
	}
	kid := hdr.KeyID()
	if kid == "" {
		return Claims{}, invalid("no kid in the header", nil)
	}
	fctx, cancel := context.WithTimeout(ctx, v.cfg.FetchTimeout)
	defer cancel()
	key, err := src.key(fctx, kid)
	if err != nil {
		return Claims{}, err
	}
	payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.RS256, key))
	if err != nil {
		return Claims{}, invalid(provider.Title()+"'s signature does not verify", err)
	}
	tok := jwt.New()
	if err := json.Unmarshal(payload, tok); err != nil {
		return Claims{}, invalid("claims are not a JSON object", err)
	}
	c, err := v.check(provider, tok, audiences)
	if err != nil {
		return Claims{}, err
	}
	if err := checkNonce(provider, c.Nonce, nonce); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// check validates the registered claims and extracts the person's.
func (v *Verifier) check(provider Provider, tok jwt.Token, audiences []string) (Claims, error) {
	now := v.now()
	if iss := tok.Issuer(); !slices.Contains(v.issuers[provider], iss) {
		return Claims{}, invalid(fmt.Sprintf("issuer %q is not %s's", iss, provider.Title()), nil)
	}
	matched := false
	for _, a := range tok.Audience() {
		matched = matched || (a != "" && slices.Contains(audiences, a))
	}
	if !matched {
		return Claims{}, invalid(fmt.Sprintf("audience %q is not one of this application's %s ids", tok.Audience(), provider.Title()), nil)
	}
	exp, iat := tok.Expiration(), tok.IssuedAt()
	switch {
	case exp.IsZero():
		return Claims{}, invalid("no exp", nil)
	case !now.Before(exp.Add(v.cfg.Skew)):
		return Claims{}, invalid("expired at "+exp.UTC().Format(time.RFC3339), nil)
	case iat.IsZero():
		return Claims{}, invalid("no iat", nil)
	case iat.After(now.Add(v.cfg.Skew)):
		return Claims{}, invalid("issued in the future ("+iat.UTC().Format(time.RFC3339)+")", nil)
	}
	if nbf := tok.NotBefore(); !nbf.IsZero() && nbf.After(now.Add(v.cfg.Skew)) {
		return Claims{}, invalid("not valid before "+nbf.UTC().Format(time.RFC3339), nil)
	}
	if tok.Subject() == "" {
		return Claims{}, invalid("no sub", nil)
	}
	c := Claims{
		Provider:   provider,
		Subject:    tok.Subject(),
		Email:      stringClaim(tok, "email"),
		GivenName:  stringClaim(tok, "given_name"),
		FamilyName: stringClaim(tok, "family_name"),
		Nonce:      stringClaim(tok, "nonce"),
		IssuedAt:   iat.UTC(),
		ExpiresAt:  exp.UTC(),
	}
	c.EmailVerified = c.Email != "" && boolClaim(tok, "email_verified")
	c.PrivateEmail = boolClaim(tok, "is_private_email")
	return c, nil
}

// checkNonce compares the token's nonce claim with the client's raw nonce.
func checkNonce(provider Provider, claim, raw string) error {
	if raw == "" {
		if claim != "" {
			return &Error{Kind: ErrNonce, Detail: "the ID token carries a nonce; send the nonce the app generated"}
		}
		return nil
	}
	want := raw
	if provider == Apple {
		// The app gives Apple SHA-256(nonce) in hex; Apple puts that in the token.
		sum := sha256.Sum256([]byte(raw))
		want = hex.EncodeToString(sum[:])
	}
	if claim == "" {
		return &Error{Kind: ErrNonce, Detail: "the ID token carries no nonce"}
	}
	if subtle.ConstantTimeCompare([]byte(claim), []byte(want)) != 1 {
		return &Error{Kind: ErrNonce, Detail: "the nonce does not match the ID token's"}
	}
	return nil
}

func stringClaim(tok jwt.Token, name string) string {
	v, _ := tok.Get(name)
	s, _ := v.(string)
	return s
}

// boolClaim reads a boolean that Apple sends as "true" or "false" strings
// (older tokens) or JSON booleans, and Google as booleans.
func boolClaim(tok jwt.Token, name string) bool {
	v, _ := tok.Get(name)
	switch b := v.(type) {
	case bool:
		return b
	case string:
		ok, _ := strconv.ParseBool(strings.TrimSpace(b))
		return ok
	}
	return false
}
