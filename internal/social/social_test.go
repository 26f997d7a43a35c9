package social_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/social/socialtest"
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type fixture struct {
	apple, google *socialtest.IdP
	clock         *clock
	v             *social.Verifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	f := &fixture{apple: socialtest.Start(t, social.Apple), google: socialtest.Start(t, social.Google), clock: clk}
	f.apple.Now, f.google.Now = clk.Now, clk.Now
	f.v = social.New(social.Config{AppleJWKSURL: f.apple.URL, GoogleJWKSURL: f.google.URL},
		&http.Client{Timeout: 5 * time.Second}, clk.Now)
	t.Cleanup(f.v.Close)
	return f
}

var appleAud = []string{"com.example.notes", "com.example.notes.watch"}
var googleAud = []string{"web-client.apps.googleusercontent.com"}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Now()
	type tc struct {
		name      string
		provider  social.Provider
		tok       socialtest.Token
		nonce     string
		want      error // nil, social.ErrInvalid, social.ErrNonce
		wantEmail string
		verified  bool
	}
	apple := socialtest.Token{Subject: "001.apple", Audience: "com.example.notes", Email: "ann@example.com"}
	google := socialtest.Token{Subject: "1098", Audience: googleAud[0], Email: "ann@example.com"}
	with := func(base socialtest.Token, fn func(*socialtest.Token)) socialtest.Token { fn(&base); return base }
	tests := []tc{
		{"apple", social.Apple, apple, "", nil, "ann@example.com", true},
		{"apple second bundle id", social.Apple, with(apple, func(t *socialtest.Token) { t.Audience = "com.example.notes.watch" }), "", nil, "ann@example.com", true},
		{"apple private relay", social.Apple, with(apple, func(t *socialtest.Token) { t.Email, t.PrivateEmail = "x1@privaterelay.appleid.com", true }), "", nil, "x1@privaterelay.appleid.com", true},
		{"apple without email", social.Apple, with(apple, func(t *socialtest.Token) { t.Email = "" }), "", nil, "", false},
		{"apple nonce (hashed in the token)", social.Apple, with(apple, func(t *socialtest.Token) { t.Nonce = "n-1" }), "n-1", nil, "ann@example.com", true},
		{"google", social.Google, google, "", nil, "ann@example.com", true},
		{"google unverified email", social.Google, with(google, func(t *socialtest.Token) { t.EmailUnverified = true }), "", nil, "ann@example.com", false},
		{"google short issuer", social.Google, with(google, func(t *socialtest.Token) { t.Issuer = "accounts.google.com" }), "", nil, "ann@example.com", true},
		{"google nonce (raw in the token)", social.Google, with(google, func(t *socialtest.Token) { t.Nonce = "n-2" }), "n-2", nil, "ann@example.com", true},
		{"expired within the skew", social.Google, with(google, func(t *socialtest.Token) { t.IssuedAt, t.Lifetime = now.Add(-time.Hour-30*time.Second), time.Hour }), "", nil, "ann@example.com", true},

		{"wrong audience", social.Apple, with(apple, func(t *socialtest.Token) { t.Audience = "com.attacker.app" }), "", social.ErrInvalid, "", false},
		{"google token for another client", social.Google, with(google, func(t *socialtest.Token) { t.Audience = "other.apps.googleusercontent.com" }), "", social.ErrInvalid, "", false},
		{"wrong issuer", social.Apple, with(apple, func(t *socialtest.Token) { t.Issuer = "https://evil.example.com" }), "", social.ErrInvalid, "", false},
		{"google issuer on an apple token", social.Apple, with(apple, func(t *socialtest.Token) { t.Issuer = "https://accounts.google.com" }), "", social.ErrInvalid, "", false},
		{"expired", social.Apple, with(apple, func(t *socialtest.Token) { t.IssuedAt = now.Add(-15 * time.Minute) }), "", social.ErrInvalid, "", false},
		{"issued in the future", social.Apple, with(apple, func(t *socialtest.Token) { t.IssuedAt = now.Add(5 * time.Minute) }), "", social.ErrInvalid, "", false},
		{"bad signature", social.Apple, with(apple, func(t *socialtest.Token) { t.Forged = true }), "", social.ErrInvalid, "", false},
		{"no subject", social.Apple, with(apple, func(t *socialtest.Token) { t.Subject = "" }), "", social.ErrInvalid, "", false},
		{"apple nonce sent as its hash", social.Apple, with(apple, func(t *socialtest.Token) { t.Nonce = "n-3" }), "3a9a4c5f", social.ErrNonce, "", false},
		{"wrong nonce", social.Google, with(google, func(t *socialtest.Token) { t.Nonce = "n-4" }), "n-5", social.ErrNonce, "", false},
		{"token nonce but none sent", social.Google, with(google, func(t *socialtest.Token) { t.Nonce = "n-6" }), "", social.ErrNonce, "", false},
		{"nonce sent but none in the token", social.Apple, apple, "n-7", social.ErrNonce, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := f.apple
			aud := appleAud
			if tt.provider == social.Google {
				idp, aud = f.google, googleAud
			}
			raw := idp.MustMint(t, tt.tok)
			c, err := f.v.Verify(context.Background(), tt.provider, raw, aud, tt.nonce)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
				}
				var se *social.Error
				if !errors.As(err, &se) || se.Detail == "" {
					t.Errorf("Verify error %v is not a *social.Error with a detail", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if c.Subject != tt.tok.Subject || c.Provider != tt.provider || c.Email != tt.wantEmail || c.EmailVerified != tt.verified {
				t.Errorf("Verify = %+v; want sub %q, email %q verified %v", c, tt.tok.Subject, tt.wantEmail, tt.verified)
			}
			if tt.nonce != "" && c.Nonce == "" {
				t.Errorf("Verify = %+v; want the token's nonce claim", c)
			}
			if c.ExpiresAt.Before(c.IssuedAt) || c.IssuedAt.IsZero() {
				t.Errorf("Verify times iat %v exp %v", c.IssuedAt, c.ExpiresAt)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := f.apple.MustMint(t, socialtest.Token{Subject: "s", Audience: appleAud[0]})
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"not a JWT", "hello"},
		{"two parts", parts[0] + "." + parts[1]},
		{"alg none", b64([]byte(`{"alg":"none","kid":"apple-test-1"}`)) + "." + parts[1] + "."},
		{"HS256 under an RSA kid", b64([]byte(`{"alg":"HS256","kid":"apple-test-1"}`)) + "." + parts[1] + "." + parts[2]},
		{"no kid", b64([]byte(`{"alg":"RS256"}`)) + "." + parts[1] + "." + parts[2]},
		{"payload swapped", parts[0] + "." + b64([]byte(`{"sub":"other","aud":"com.example.notes"}`)) + "." + parts[2]},
		{"overlong", good + strings.Repeat("A", social.MaxTokenLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := f.v.Verify(context.Background(), social.Apple, tt.raw, appleAud, ""); !errors.Is(err, social.ErrInvalid) {
				t.Errorf("Verify(%s) = %+v, %v; want ErrInvalid", tt.name, c, err)
			}
		})
	}
	if _, err := f.v.Verify(context.Background(), social.Provider("facebook"), good, appleAud, ""); !errors.Is(err, social.ErrInvalid) {
		t.Errorf("Verify(unknown provider) = %v, want ErrInvalid", err)
	}
}

// TestUnknownKeyRefreshesOnce: a kid the cache lacks triggers one refresh,
// then a refusal; more unknown kids within the cooldown fetch nothing; a
// key the provider rotated in is picked up by the refresh.
func TestUnknownKeyRefreshesOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok := socialtest.Token{Subject: "s", Audience: appleAud[0]}
	verify := func(raw string) error { _, err := f.v.Verify(ctx, social.Apple, raw, appleAud, ""); return err }

	if err := verify(f.apple.MustMint(t, tok)); err != nil {
		t.Fatalf("Verify(known kid) = %v", err)
	}
	if got := f.apple.Fetches(); got != 1 {
		t.Fatalf("after the first token, JWKS fetched %d times, want 1", got)
	}
	unknown := tok
	unknown.KeyID = "not-published"
	// Right after a fetch, an unknown kid is refused without another.
	if err := verify(f.apple.MustMint(t, unknown)); !errors.Is(err, social.ErrInvalid) {
		t.Fatalf("Verify(unknown kid) = %v, want ErrInvalid", err)
	}
	if got := f.apple.Fetches(); got != 1 {
		t.Fatalf("an unknown kid right after the first fetch fetched again: %d fetches, want 1", got)
	}
	// Later, it triggers one refresh, then the refusal.
	f.clock.Advance(time.Minute)
	if err := verify(f.apple.MustMint(t, unknown)); !errors.Is(err, social.ErrInvalid) {
		t.Fatalf("Verify(unknown kid) = %v, want ErrInvalid", err)
	}
	if got := f.apple.Fetches(); got != 2 {
		t.Fatalf("after an unknown kid, JWKS fetched %d times, want 2 (one refresh)", got)
	}

	// Many unknown kids at once, within the cooldown: no fetch at all.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := verify(f.apple.MustMint(t, unknown)); !errors.Is(err, social.ErrInvalid) {
				t.Errorf("Verify(unknown kid, concurrent) = %v, want ErrInvalid", err)
			}
		})
	}
	wg.Wait()
	if got := f.apple.Fetches(); got != 2 {
		t.Fatalf("20 unknown kids within the cooldown fetched the JWKS %d times in all, want 2", got)
	}

	// The provider rotates; after the cooldown the new kid is fetched once, by
	// one of many concurrent callers, and accepted by all.
	if _, err := f.apple.Rotate(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	rotated := f.apple.MustMint(t, tok)
	for range 20 {
		wg.Go(func() {
			if err := verify(rotated); err != nil {
				t.Errorf("Verify(rotated kid) = %v, want nil", err)
			}
		})
	}
	wg.Wait()
	if got := f.apple.Fetches(); got != 3 {
		t.Errorf("a rotated kid fetched the JWKS %d times in all, want 3", got)
	}
}

func TestProviderDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.google.SetDown(true)
	raw := f.google.MustMint(t, socialtest.Token{Subject: "s", Audience: googleAud[0]})
	if _, err := f.v.Verify(context.Background(), social.Google, raw, googleAud, ""); !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Verify(JWKS down) = %v, want ErrUnavailable", err)
	}
	f.google.SetDown(false)
	// Within the cooldown the failure stands, without another fetch.
	if _, err := f.v.Verify(context.Background(), social.Google, raw, googleAud, ""); !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Verify(JWKS back, within the cooldown) = %v, want ErrUnavailable", err)
	}
	if got := f.google.Fetches(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", got)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.v.Verify(context.Background(), social.Google, raw, googleAud, ""); err != nil {
		t.Fatalf("Verify(JWKS back) = %v, want nil", err)
	}
}

// TestFetchTimeout: a JWKS endpoint that never answers costs a bounded wait.
// The endpoint hangs until the test ends and the HTTP client allows an
// hour, so only the 300ms fetch timeout can end Verify: its return proves
// the bound, with no clock read.
func TestFetchTimeout(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block })}
	idp := socialtest.Start(t, social.Apple)
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(block); _ = srv.Close() })
	v := social.New(social.Config{AppleJWKSURL: "http://" + ln.Addr().String() + "/keys", FetchTimeout: 300 * time.Millisecond},
		&http.Client{Timeout: time.Hour}, nil)
	t.Cleanup(v.Close)
	_, err := v.Verify(context.Background(), social.Apple, idp.MustMint(t, socialtest.Token{Subject: "s", Audience: appleAud[0]}), appleAud, "")
	if !errors.Is(err, social.ErrUnavailable) {
		t.Fatalf("Verify(hanging JWKS) = %v, want ErrUnavailable", err)
	}
}

func listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}
