package cosync

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Errors of Verifier.Verify, wrapped with detail: test with errors.Is.
var (
	// ErrInvalidToken means the token is malformed, not RS256, not signed
	// by a key the application publishes, or not meant for this backend
	// (issuer, audience), or not valid yet.
	ErrInvalidToken = errors.New("cosync: invalid token")
	// ErrExpiredToken means the token was valid but its exp has passed.
	ErrExpiredToken = errors.New("cosync: token expired")
)

// maxTokenLength bounds the work an unauthenticated caller can cause; the
// server's tokens stay under 2048 characters.
const maxTokenLength = 8 << 10

// Claims are the verified claims of a CoSync Auth access token.
type Claims struct {
	Issuer    string
	Subject   string   // the user's stable id
	Audience  []string // aud, as an array even when the token has a string
	IssuedAt  time.Time
	NotBefore time.Time // zero when the token has no nbf
	Expiry    time.Time
	SessionID string // sid
	Email     string // email, when the application puts it in tokens
	UserName  string // user_name, when the user has one
	// Metadata holds every other claim: the application's metadata claims
	// at their configured paths, such as {"user_data": {"name": "Ann"}}.
	// Numbers are json.Number. Nil when there is none.
	Metadata map[string]any
}

// reservedClaims are the claims Claims has fields for.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"sid": true, "email": true, "user_name": true,
}

// Verifier checks the access tokens of one CoSync Auth application, for a
// backend that trusts them: RS256 signature against the application's JWKS,
// issuer, audience, and exp, nbf and iat within a small leeway. It needs no
// call to the server per token: the JWKS is cached and fetched again after
// the cache time, or when a token names a key the Verifier has not seen
// (the application rotated its key) but at most once per refresh interval.
//
// A Verifier is safe for concurrent use; make one per application and
// share it.
type Verifier struct {
	jwks     *jwksCache
	issuer   string
	audience []string
	leeway   time.Duration
	now      func() time.Time
}

// NewVerifier returns a Verifier for the application appID of the server
// at baseURL, whose JWKS it fetches from
// baseURL/apps/{appID}/.well-known/jwks.json on first use. By default it
// requires iss = baseURL/apps/{appID} and aud to name appID (see
// WithIssuer and WithAudience). It fails only on a malformed baseURL or an
// empty appID.
func NewVerifier(baseURL, appID string, opts ...VerifierOption) (*Verifier, error) {
	baseURL = strings.TrimRight(baseURL, "/")
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cosync: NewVerifier: base URL %q is not an absolute http(s) URL", baseURL)
	}
	if appID == "" {
		return nil, errors.New("cosync: NewVerifier: empty app id")
	}
	appURL := baseURL + "/apps/" + url.PathEscape(appID)
	cfg := verifierConfig{
		issuer:          appURL,
		audience:        []string{appID},
		leeway:          5 * time.Second,
		cacheFor:        10 * time.Minute,
		refreshInterval: 30 * time.Second,
		now:             time.Now,
	}
	for _, o := range opts {
		o.applyVerifier(&cfg)
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient()
	}
	if len(cfg.audience) == 0 {
		return nil, errors.New("cosync: NewVerifier: WithAudience needs at least one value")
	}
	return &Verifier{
		jwks: &jwksCache{
			url:             appURL + "/.well-known/jwks.json",
			client:          cfg.httpClient,
			cacheFor:        cfg.cacheFor,
			refreshInterval: cfg.refreshInterval,
			now:             cfg.now,
		},
		issuer:   cfg.issuer,
		audience: slices.Clone(cfg.audience),
		leeway:   cfg.leeway,
		now:      cfg.now,
	}, nil
}

// Verify checks token (a compact JWT, without "Bearer ") and returns its
// claims. It returns an error wrapping ErrExpiredToken for an expired
// token, ErrInvalidToken for any other refusal, and otherwise the error of
// fetching the JWKS (the token may be fine; the keys could not be read).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > maxTokenLength {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrInvalidToken, maxTokenLength)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	var header struct {
		Alg  string   `json:"alg"`
		Kid  string   `json:"kid"`
		Crit []string `json:"crit"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalidToken, err)
	}
	if header.Alg != "RS256" {
		return nil, fmt.Errorf("%w: alg %q, want RS256", ErrInvalidToken, header.Alg)
	}
	if len(header.Crit) > 0 {
		return nil, fmt.Errorf("%w: unsupported critical header %q", ErrInvalidToken, header.Crit)
	}
	if header.Kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrInvalidToken)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrInvalidToken, err)
	}
	key, err := v.jwks.key(ctx, header.Kid)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	var raw map[string]any
	if err := decodeSegment(parts[1], &raw); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	return v.check(raw)
}

// check validates the signed claims set raw and converts it.
func (v *Verifier) check(raw map[string]any) (*Claims, error) {
	c := &Claims{}
	var err error
	str := func(name string) string {
		x, ok := raw[name]
		if !ok || err != nil {
			return ""
		}
		s, ok := x.(string)
		if !ok {
			err = fmt.Errorf("%w: claim %s is not a string", ErrInvalidToken, name)
		}
		return s
	}
	num := func(name string) time.Time {
		x, ok := raw[name]
		if !ok || err != nil {
			return time.Time{}
		}
		n, ok := x.(json.Number)
		f, ferr := n.Float64()
		if !ok || ferr != nil || math.IsInf(f, 0) || f < 0 || f > 1<<53 {
			err = fmt.Errorf("%w: claim %s is not a time", ErrInvalidToken, name)
			return time.Time{}
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9))
	}
	c.Issuer, c.Subject = str("iss"), str("sub")
	c.SessionID, c.Email, c.UserName = str("sid"), str("email"), str("user_name")
	c.IssuedAt, c.NotBefore, c.Expiry = num("iat"), num("nbf"), num("exp")
	switch aud := raw["aud"].(type) {
	case string:
		c.Audience = []string{aud}
	case []any:
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("%w: aud holds a non-string", ErrInvalidToken)
			}
			c.Audience = append(c.Audience, s)
		}
	case nil:
	default:
		return nil, fmt.Errorf("%w: aud is neither a string nor an array", ErrInvalidToken)
	}
	if err != nil {
		return nil, err
	}

	now := v.now()
	switch {
	case c.Issuer != v.issuer:
		return nil, fmt.Errorf("%w: issuer %q, want %q", ErrInvalidToken, c.Issuer, v.issuer)
	case !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(v.audience, a) }):
		return nil, fmt.Errorf("%w: audience %q names none of %q", ErrInvalidToken, c.Audience, v.audience)
	case c.Subject == "":
		return nil, fmt.Errorf("%w: no sub", ErrInvalidToken)
	case c.Expiry.IsZero():
		return nil, fmt.Errorf("%w: no exp", ErrInvalidToken)
	case !now.Before(c.Expiry.Add(v.leeway)):
		return nil, fmt.Errorf("%w at %v", ErrExpiredToken, c.Expiry.UTC())
	case !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore):
		return nil, fmt.Errorf("%w: not valid before %v", ErrInvalidToken, c.NotBefore.UTC())
	case !c.IssuedAt.IsZero() && now.Add(v.leeway).Before(c.IssuedAt):
		return nil, fmt.Errorf("%w: issued in the future, at %v", ErrInvalidToken, c.IssuedAt.UTC())
	}
	for name, val := range raw {
		if reservedClaims[name] {
			continue
		}
		if c.Metadata == nil {
			c.Metadata = map[string]any{}
		}
		c.Metadata[name] = val
	}
	return c, nil
}

// decodeSegment decodes one base64url JWS segment holding a JSON object,
// numbers as json.Number.
func decodeSegment(seg string, into any) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
