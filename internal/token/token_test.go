package token_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/token"
)

func TestMintOutsideVerifier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC().Truncate(time.Second)
	c := realistic(iat)

	raw, err := e.iss.Mint(ctx, "app1", c)
	if err != nil {
		t.Fatalf("Mint(app1) = %v", err)
	}
	if len(raw) >= token.MaxLength {
		t.Errorf("Mint(app1, realistic claims) is %d characters, want < %d", len(raw), token.MaxLength)
	}

	// go-jose, knowing only the app's JWKS, accepts the token.
	body, _, err := e.keyring.JWKS(ctx, "app1")
	if err != nil {
		t.Fatalf("JWKS(app1) = %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("parsing JWKS(app1): %v", err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("go-jose ParseSigned(Mint) = %v", err)
	}
	h := tok.Headers[0]
	if h.KeyID != e.app1.KID || h.Algorithm != "RS256" || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("Mint header kid, alg, typ = %q, %q, %v, want %q, RS256, JWT", h.KeyID, h.Algorithm, h.ExtraHeaders["typ"], e.app1.KID)
	}
	jwks := set.Key(h.KeyID)
	if len(jwks) != 1 {
		t.Fatalf("JWKS(app1) has %d keys with kid %q, want 1", len(jwks), h.KeyID)
	}
	var std josejwt.Claims
	var own struct {
		SessionID string         `json:"sid"`
		Email     string         `json:"email"`
		UserName  string         `json:"user_name"`
		UserData  map[string]any `json:"user_data"`
		Aud       any            `json:"aud"`
	}
	if err := tok.Claims(jwks[0].Key, &std, &own); err != nil {
		t.Fatalf("go-jose Claims(JWKS key) = %v", err)
	}
	if err := std.ValidateWithLeeway(josejwt.Expected{
		Issuer:      c.Issuer,
		Subject:     c.Subject,
		AnyAudience: josejwt.Audience{"application-0-abcde"},
		Time:        iat.Add(time.Minute),
	}, 0); err != nil {
		t.Errorf("go-jose Validate(Mint) = %v", err)
	}
	if got := std.IssuedAt.Time(); !got.Equal(iat) {
		t.Errorf("Mint iat = %v, want %v", got, iat)
	}
	if got := std.Expiry.Time(); !got.Equal(c.Expiry) {
		t.Errorf("Mint exp = %v, want %v", got, c.Expiry)
	}
	if aud, ok := own.Aud.([]any); !ok || len(aud) != 1 || aud[0] != "application-0-abcde" {
		t.Errorf("Mint aud = %#v, want a one-element JSON array", own.Aud)
	}
	if own.SessionID != c.SessionID || own.Email != c.Email || own.UserName != c.UserName {
		t.Errorf("Mint sid, email, user_name = %q, %q, %q, want %q, %q, %q", own.SessionID, own.Email, own.UserName, c.SessionID, c.Email, c.UserName)
	}
	if !reflect.DeepEqual(own.UserData, c.Extra["user_data"]) {
		t.Errorf("Mint user_data = %v, want %v", own.UserData, c.Extra["user_data"])
	}

	// Empty optional claims are left out.
	bare := token.Claims{Issuer: "i", Subject: "s", IssuedAt: iat, Expiry: iat.Add(time.Minute)}
	raw, err = e.iss.Mint(ctx, "app1", bare)
	if err != nil {
		t.Fatalf("Mint(app1, bare) = %v", err)
	}
	var all map[string]any
	if err := json.Unmarshal(payloadOf(t, raw), &all); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"aud", "sid", "email", "user_name", "nbf", "jti"} {
		if v, ok := all[name]; ok {
			t.Errorf("Mint(bare) has %q = %v, want it omitted", name, v)
		}
	}
}

func TestMintTooLong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC().Truncate(time.Second)
	mint := func(bio int) (string, error) {
		c := realistic(iat)
		c.Extra = map[string]any{"user_data": map[string]any{"bio": strings.Repeat("x", bio)}}
		return e.iss.Mint(ctx, "app1", c)
	}

	if raw, err := mint(2000); !errors.Is(err, token.ErrTooLong) {
		t.Errorf("Mint(bio of 2000) = %d chars, %v, want %v", len(raw), err, token.ErrTooLong)
	}

	// The longest claim set that fits gives a token of at most MaxLength
	// and within one base64 quantum of it; one more byte is refused. So
	// Mint refuses exactly the tokens that would be too long.
	lo, hi := 0, 2000 // mint(lo) fits, mint(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		switch _, err := mint(mid); {
		case err == nil:
			lo = mid
		case errors.Is(err, token.ErrTooLong):
			hi = mid
		default:
			t.Fatalf("Mint(bio of %d) = %v", mid, err)
		}
	}
	raw, err := mint(lo)
	if err != nil || len(raw) > token.MaxLength || len(raw) < token.MaxLength-3 {
		t.Errorf("Mint(longest fitting bio, %d) = %d chars, %v, want %d-%d chars", lo, len(raw), err, token.MaxLength-3, token.MaxLength)
	}
	if raw, err := mint(lo + 1); !errors.Is(err, token.ErrTooLong) {
		t.Errorf("Mint(bio of %d) = %d chars, %v, want %v", lo+1, len(raw), err, token.ErrTooLong)
	}
}

func TestMintRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC()
	tests := []struct {
		name    string
		app     string
		mod     func(*token.Claims)
		wantErr error // nil: any error
	}{
		{"reserved extra claim", "app1", func(c *token.Claims) { c.Extra["email"] = "x@example.com" }, nil},
		{"extra exp", "app1", func(c *token.Claims) { c.Extra["exp"] = 0 }, nil},
		{"no issuer", "app1", func(c *token.Claims) { c.Issuer = "" }, nil},
		{"no subject", "app1", func(c *token.Claims) { c.Subject = "" }, nil},
		{"no iat", "app1", func(c *token.Claims) { c.IssuedAt = time.Time{} }, nil},
		{"exp not after iat", "app1", func(c *token.Claims) { c.Expiry = c.IssuedAt }, nil},
		{"unmarshallable extra", "app1", func(c *token.Claims) { c.Extra["f"] = func() {} }, nil},
		{"app without key", "nokeys", func(*token.Claims) {}, keys.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := realistic(iat)
			tt.mod(&c)
			raw, err := e.iss.Mint(ctx, tt.app, c)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Mint(%s) = %.20q, %v, want error %v", tt.name, raw, err, tt.wantErr)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC().Truncate(time.Second)
	c := realistic(iat)
	good, err := e.iss.Mint(ctx, "app1", c)
	if err != nil {
		t.Fatalf("Mint(app1) = %v", err)
	}
	ofApp2, err := e.iss.Mint(ctx, "app2", c)
	if err != nil {
		t.Fatalf("Mint(app2) = %v", err)
	}
	std := map[string]any{"iss": c.Issuer, "sub": c.Subject, "iat": iat.Unix(), "exp": c.Expiry.Unix()}
	parts := strings.Split(good, ".")

	tampered := func() string {
		var m map[string]any
		if err := json.Unmarshal(payloadOf(t, good), &m); err != nil {
			t.Fatal(err)
		}
		m["sub"] = "someone-else"
		p, _ := json.Marshal(m)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
	}()
	hs256 := func() string {
		hdr := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":"HS256","kid":%q,"typ":"JWT"}`, e.app1.KID))
		mac := hmac.New(sha256.New, []byte(e.app1.PublicKeyPEM))
		mac.Write([]byte(hdr + "." + parts[1]))
		return hdr + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}()
	none := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":"none","kid":%q}`, e.app1.KID)) + "." + parts[1] + "."
	with := func(k string, v any) map[string]any {
		m := make(map[string]any, len(std)+1)
		for n, x := range std {
			m[n] = x
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}

	tests := []struct {
		name    string
		raw     string
		issuer  string
		now     time.Time
		wantErr error
	}{
		{"ok", good, c.Issuer, iat.Add(time.Minute), nil},
		{"ok within leeway after exp", good, c.Issuer, c.Expiry.Add(4 * time.Second), nil},
		{"expired", good, c.Issuer, c.Expiry.Add(time.Hour), token.ErrExpired},
		{"expired at exp plus leeway", good, c.Issuer, c.Expiry.Add(token.Leeway), token.ErrExpired},
		{"tampered payload", tampered, c.Issuer, iat, token.ErrInvalid},
		{"another app's token", ofApp2, c.Issuer, iat, token.ErrInvalid},
		{"another app's key under this app's kid", forge(t, e.priv[e.app2.KID], e.app1.KID, std), c.Issuer, iat, token.ErrInvalid},
		{"unknown kid", forge(t, e.priv[e.lost.KID], e.lost.KID, std), c.Issuer, iat, token.ErrInvalid},
		{"no kid", forge(t, e.priv[e.app1.KID], "", std), c.Issuer, iat, token.ErrInvalid},
		{"wrong issuer", good, "https://evil.example.com", iat, token.ErrInvalid},
		{"empty issuer", good, "", iat, token.ErrInvalid},
		{"forged with the right key is fine", forge(t, e.priv[e.app1.KID], e.app1.KID, std), c.Issuer, iat, nil},
		{"no exp", forge(t, e.priv[e.app1.KID], e.app1.KID, with("exp", nil)), c.Issuer, iat, token.ErrInvalid},
		{"exp zero", forge(t, e.priv[e.app1.KID], e.app1.KID, with("exp", 0)), c.Issuer, iat, token.ErrInvalid},
		{"iat in the future", good, c.Issuer, iat.Add(-time.Minute), token.ErrInvalid},
		{"nbf in the future", forge(t, e.priv[e.app1.KID], e.app1.KID, with("nbf", iat.Add(time.Minute).Unix())), c.Issuer, iat, token.ErrInvalid},
		{"email not a string", forge(t, e.priv[e.app1.KID], e.app1.KID, with("email", 7)), c.Issuer, iat, token.ErrInvalid},
		{"HS256 with the public key as secret", hs256, c.Issuer, iat, token.ErrInvalid},
		{"alg none", none, c.Issuer, iat, token.ErrInvalid},
		{"garbage", "not.a.jwt", c.Issuer, iat, token.ErrInvalid},
		{"empty", "", c.Issuer, iat, token.ErrInvalid},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, c.Issuer, iat, token.ErrInvalid},
		{"too long", good + strings.Repeat("A", token.MaxLength), c.Issuer, iat, token.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.iss.Verify(ctx, "app1", tt.issuer, tt.raw, tt.now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.name, err, tt.wantErr)
			}
			if err == nil && got.Subject != c.Subject {
				t.Errorf("Verify(%q).Subject = %q, want %q", tt.name, got.Subject, c.Subject)
			}
		})
	}

	// The claims come back as minted.
	got, err := e.iss.Verify(ctx, "app1", c.Issuer, good, iat)
	if err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("Verify(good) = %+v, want %+v", got, c)
	}
}

func TestVerifyAfterRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC().Truncate(time.Second)
	c := realistic(iat)

	// A token from an older key verifies while that key is published, and
	// not once it has retired.
	st := &memStore{keys: map[string][]keys.Record{"app1": {e.app1}}}
	kr := keys.NewKeyring(st, e.keyring.Signer(), keys.KeyringConfig{}, nil)
	iss := token.NewIssuer(kr)
	old, err := iss.Mint(ctx, "app1", c)
	if err != nil {
		t.Fatalf("Mint(app1) = %v", err)
	}

	lostActive, app1Verifying := e.lost, e.app1
	lostActive.CreatedAt = e.app1.CreatedAt.Add(time.Second)
	app1Verifying.State = keys.StateVerifying
	app1Verifying.RetireAt = time.Now().Add(time.Hour)
	st.mu.Lock()
	st.keys["app1"] = []keys.Record{lostActive, app1Verifying}
	st.mu.Unlock()
	kr.Invalidate("app1")

	newer, err := iss.Mint(ctx, "app1", c)
	if err != nil {
		t.Fatalf("Mint(app1) after rotation = %v", err)
	}
	for _, raw := range []string{old, newer} {
		if _, err := iss.Verify(ctx, "app1", c.Issuer, raw, iat); err != nil {
			t.Errorf("Verify(%.30q…) during overlap = %v, want nil", raw, err)
		}
	}

	app1Verifying.State = keys.StateRetired
	st.mu.Lock()
	st.keys["app1"] = []keys.Record{lostActive, app1Verifying}
	st.mu.Unlock()
	kr.Invalidate("app1")
	if _, err := iss.Verify(ctx, "app1", c.Issuer, old, iat); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("Verify(old) after retirement = %v, want %v", err, token.ErrInvalid)
	}
}

func TestConcurrentMint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	iat := time.Now().UTC().Truncate(time.Second)

	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := realistic(iat)
			c.Subject = fmt.Sprintf("user-%03d", i)
			raw, err := e.iss.Mint(ctx, "app1", c)
			if err != nil {
				t.Errorf("Mint #%d = %v", i, err)
				return
			}
			got, err := e.iss.Verify(ctx, "app1", c.Issuer, raw, iat)
			if err != nil || got.Subject != c.Subject {
				t.Errorf("Verify(Mint #%d) = %q, %v, want %q", i, got.Subject, err, c.Subject)
			}
		})
	}
	wg.Wait()
}

func BenchmarkMint(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	c := realistic(time.Now().UTC())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.iss.Mint(ctx, "app1", c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	iat := time.Now().UTC()
	c := realistic(iat)
	raw, err := e.iss.Mint(ctx, "app1", c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.iss.Verify(ctx, "app1", c.Issuer, raw, iat); err != nil {
			b.Fatal(err)
		}
	}
}

// payloadOf returns the decoded payload of a compact JWS.
func payloadOf(tb testing.TB, raw string) []byte {
	tb.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		tb.Fatalf("%q is not a compact JWS", raw)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("payload of %q: %v", raw, err)
	}
	return p
}
