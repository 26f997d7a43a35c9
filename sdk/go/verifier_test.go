package cosync_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cosync "github.com/cosync/cosync-auth/sdk/go"
	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// TestVerifier checks real tokens of the server: accepted as issued, and
// refused once tampered with, expired, not yet valid, or meant for
// someone else.
func TestVerifier(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := cosync.NewClient(baseURL, appID)
	login, err := c.Auth.Login(ctx, &authv1.LoginRequest{Handle: annEmail, Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	s := login.GetSession()
	token := s.GetAccessToken()
	iat, exp := time.Now(), s.GetExpiresAt().AsTime()
	if c, err := decodeClaims(token); err == nil {
		iat = time.Unix(c.Iat, 0)
	}

	clock := newTestClock(iat)
	v, err := cosync.NewVerifier(baseURL, appID, cosync.WithAudience(audience), cosync.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatalf("Verify(a fresh token) = %v", err)
	}
	user := s.GetUser()
	name, _ := claims.Metadata["user_data"].(map[string]any)["name"].(string)
	switch {
	case claims.Subject != user.GetId():
		t.Errorf("Subject = %q, want %q", claims.Subject, user.GetId())
	case claims.Email != annEmail:
		t.Errorf("Email = %q, want %q", claims.Email, annEmail)
	case claims.SessionID == "":
		t.Errorf("SessionID is empty")
	case claims.Issuer != baseURL+"/apps/"+appID:
		t.Errorf("Issuer = %q", claims.Issuer)
	case !claims.Expiry.Equal(exp.Truncate(time.Second)):
		t.Errorf("Expiry = %v, want %v (the session's, in whole seconds)", claims.Expiry, exp)
	case name != "Ann":
		t.Errorf("Metadata = %v, want user_data.name Ann", claims.Metadata)
	}

	parts := strings.Split(token, ".")
	tests := []struct {
		name    string
		token   string
		opts    []cosync.VerifierOption
		at      time.Time
		wantErr error
	}{
		{"tampered claims", parts[0] + "." + reencode(t, parts[1], "sub", "someone-else") + "." + parts[2], nil, iat, cosync.ErrInvalidToken},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipMiddle(parts[2]), nil, iat, cosync.ErrInvalidToken},
		// The last character of a 256-byte signature carries 2 bits and 4
		// unused ones: a token that sets those is refused too (strict
		// base64), rather than read as the same signature.
		{"signature with its unused bits set", parts[0] + "." + parts[1] + "." + flipLast(parts[2]), nil, iat, cosync.ErrInvalidToken},
		{"alg none", b64(`{"alg":"none","kid":"x"}`) + "." + parts[1] + ".", nil, iat, cosync.ErrInvalidToken},
		{"HS256", reencode(t, parts[0], "alg", "HS256") + "." + parts[1] + "." + parts[2], nil, iat, cosync.ErrInvalidToken},
		{"expired", token, nil, exp.Add(time.Minute), cosync.ErrExpiredToken},
		{"expired within leeway", token, nil, exp.Add(2 * time.Second), nil},
		{"issued in the future", token, nil, iat.Add(-time.Hour), cosync.ErrInvalidToken},
		{"wrong audience", token, []cosync.VerifierOption{cosync.WithAudience("another-backend")}, iat, cosync.ErrInvalidToken},
		{"default audience is the app id", token, []cosync.VerifierOption{}, iat, cosync.ErrInvalidToken},
		{"wrong issuer", token, []cosync.VerifierOption{cosync.WithAudience(audience), cosync.WithIssuer("https://elsewhere.example.com/apps/" + appID)}, iat, cosync.ErrInvalidToken},
		{"garbage", "a.b.c", nil, iat, cosync.ErrInvalidToken},
		{"too long", strings.Repeat("a", 9000), nil, iat, cosync.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == nil {
				opts = []cosync.VerifierOption{cosync.WithAudience(audience)}
			}
			v, err := cosync.NewVerifier(baseURL, appID, append(opts, cosync.WithClock(func() time.Time { return tt.at }))...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(ctx, tt.token)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestVerifierRotation: after the app rotates its key, a token signed with
// the new key makes the Verifier fetch the JWKS again, once; tokens of the
// old key still pass; unknown kids cause at most one fetch per interval.
func TestVerifierRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	app := newApp(t, authv1.SignupFlow_SIGNUP_FLOW_NONE)
	c := cosync.NewClient(baseURL, app)
	newUser(t, c, "rotate@example.com")
	before, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}

	fetches := &countingTransport{path: "/apps/" + app + "/.well-known/jwks.json"}
	claims, _ := decodeClaims(before)
	clock := newTestClock(time.Unix(claims.Iat, 0))
	v, err := cosync.NewVerifier(baseURL, app, cosync.WithAudience(audience), cosync.WithClock(clock.Now),
		cosync.WithHTTPClient(&http.Client{Transport: fetches}), cosync.WithJWKSCache(time.Hour, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(name, token string, wantErr error, wantFetches int32) {
		t.Helper()
		if _, err := v.Verify(ctx, token); !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
			t.Errorf("Verify(%s) = %v, want %v", name, err, wantErr)
		}
		if n := fetches.n.Load(); n != wantFetches {
			t.Errorf("after Verify(%s): %d JWKS fetches, want %d", name, n, wantFetches)
		}
	}
	verify("token of the first key", before, nil, 1)
	verify("token of the first key, again", before, nil, 1)

	if _, err := dev.Admin.RotateSigningKey(ctx, &adminv1.RotateSigningKeyRequest{AppId: app}); err != nil {
		t.Fatalf("RotateSigningKey: %v", err)
	}
	login, err := c.Auth.Login(ctx, &authv1.LoginRequest{Handle: "rotate@example.com", Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	after := login.GetSession().GetAccessToken()
	if kidOf(t, after) == kidOf(t, before) {
		t.Fatalf("the token after RotateSigningKey has the old kid %q", kidOf(t, before))
	}
	// Within the interval after the first fetch, even a real new kid waits.
	verify("token of the new key within the interval", after, cosync.ErrInvalidToken, 1)
	clock.Set(clock.Now().Add(31 * time.Second))
	verify("token of the new key", after, nil, 2)
	verify("token of the old key after rotation", before, nil, 2)

	forged := reencode(t, strings.Split(after, ".")[0], "kid", "forged") + "." + strings.SplitN(after, ".", 2)[1]
	verify("unknown kid within the interval", forged, cosync.ErrInvalidToken, 2)
	clock.Set(clock.Now().Add(31 * time.Second))
	verify("unknown kid after the interval", forged, cosync.ErrInvalidToken, 3)
	verify("unknown kid right after that", forged, cosync.ErrInvalidToken, 3)
	verify("token of the new key, cached", after, nil, 3)
}

// TestMiddleware: 401 with WWW-Authenticate without a valid bearer, 503
// when the keys cannot be read, the claims in the context otherwise.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	v, err := cosync.NewVerifier(baseURL, appID, cosync.WithAudience(audience))
	if err != nil {
		t.Fatal(err)
	}
	unreachable, err := cosync.NewVerifier("http://127.0.0.1:1", appID, cosync.WithAudience(audience))
	if err != nil {
		t.Fatal(err)
	}
	var seen *cosync.Claims
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = cosync.ClaimsFromContext(r.Context())
	})
	token := annToken()
	tests := []struct {
		name     string
		v        *cosync.Verifier
		header   string
		status   int
		wwwAuthn string
	}{
		{"no header", v, "", http.StatusUnauthorized, `Bearer realm="cosync"`},
		{"basic auth", v, "Basic YTpi", http.StatusUnauthorized, `Bearer realm="cosync"`},
		{"bad token", v, "Bearer " + token + "x", http.StatusUnauthorized, `error="invalid_token"`},
		{"keys unreachable", unreachable, "Bearer " + token, http.StatusServiceUnavailable, ""},
		{"valid", v, "bearer " + token, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/notes", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			tt.v.Middleware(h).ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.wwwAuthn) || (tt.wwwAuthn == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want it to hold %q", got, tt.wwwAuthn)
			}
			if (seen != nil) != (tt.status == http.StatusOK) {
				t.Errorf("handler saw claims %v with status %d", seen, rec.Code)
			}
			if seen != nil && seen.Email != annEmail {
				t.Errorf("claims in context: email %q, want %q", seen.Email, annEmail)
			}
		})
	}
}

type rawClaims struct {
	Iat int64 `json:"iat"`
}

func decodeClaims(token string) (rawClaims, error) {
	var c rawClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

func kidOf(tb testing.TB, token string) string {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		tb.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		tb.Fatal(err)
	}
	return h.Kid
}

// reencode returns the base64url JSON object seg with key set to value.
func reencode(tb testing.TB, seg, key, value string) string {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	m[key] = value
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// flipLast changes the last character of a base64url string.
// flipMiddle changes a character in the middle of s, which always changes
// the bytes it encodes.
func flipMiddle(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func flipLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
