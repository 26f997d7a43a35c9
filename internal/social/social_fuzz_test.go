package social_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/social/socialtest"
)

// FuzzSocialVerify sends SocialLogin's id_token and nonce as an attacker
// would: garbage, tokens of the other provider, payloads swapped under a
// real signature. Verify answers a *social.Error of kind ErrInvalid or
// ErrNonce (the providers are up, so never ErrUnavailable, which would
// read as an outage), and accepts only a token the provider signed.
func FuzzSocialVerify(f *testing.F) {
	now := time.Now().UTC()
	clk := &clock{t: now}
	apple, google := socialtest.Start(f, social.Apple), socialtest.Start(f, social.Google)
	apple.Now, google.Now = clk.Now, clk.Now
	v := social.New(social.Config{AppleJWKSURL: apple.URL, GoogleJWKSURL: google.URL}, &http.Client{Timeout: 5 * time.Second}, clk.Now)
	f.Cleanup(v.Close)

	a := apple.MustMint(f, socialtest.Token{Subject: "001.apple", Audience: appleAud[0], Email: "ann@example.com", Nonce: "n-1"})
	g := google.MustMint(f, socialtest.Token{Subject: "1098", Audience: googleAud[0], Email: "ann@example.com"})
	forged := apple.MustMint(f, socialtest.Token{Subject: "001.apple", Audience: appleAud[0], Forged: true})
	ap := strings.Split(a, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []struct {
		google     bool
		raw, nonce string
	}{
		{false, a, "n-1"}, {true, g, ""}, {false, g, ""}, {true, a, "n-1"}, {false, forged, ""},
		{false, a, "n-2"}, {false, a, ""}, {false, "", ""}, {false, "a.b.c", ""}, {false, a + "x", "n-1"},
		{false, ap[0] + "." + b64([]byte(`{"iss":"https://appleid.apple.com","aud":"com.example.notes","sub":"x","exp":9999999999,"iat":1}`)) + "." + ap[2], ""},
		{false, b64([]byte(`{"alg":"none"}`)) + "." + ap[1] + ".", "n-1"},
		{false, b64([]byte(`{"alg":"RS256","kid":"`+strings.Repeat("k", 100)+`"}`)) + "." + ap[1] + "." + ap[2], "n-1"},
		{false, ap[0] + "." + b64([]byte(`{"aud":["com.example.notes",{}],"exp":"x","email_verified":[]}`)) + "." + ap[2], ""},
	} {
		f.Add(s.google, s.raw, s.nonce)
	}
	f.Fuzz(func(t *testing.T, isGoogle bool, raw, nonce string) {
		p, aud := social.Apple, appleAud
		if isGoogle {
			p, aud = social.Google, googleAud
		}
		c, err := v.Verify(context.Background(), p, raw, aud, nonce)
		if err != nil {
			var se *social.Error
			if !errors.As(err, &se) || (!errors.Is(err, social.ErrInvalid) && !errors.Is(err, social.ErrNonce)) {
				t.Fatalf("Verify(%s, %q, %q) = %v, want a *social.Error of kind invalid or nonce", p, raw, nonce, err)
			}
			return
		}
		if raw != a && raw != g {
			// jws may read a few spellings of one signed token alike;
			// what it accepts must still be what the provider signed.
			if c.Subject != "001.apple" && c.Subject != "1098" {
				t.Fatalf("Verify(%s, %q) accepted subject %q that no provider signed", p, raw, c.Subject)
			}
		}
		if c.Provider != p || c.Subject == "" {
			t.Fatalf("Verify(%s, %q) = %+v", p, raw, c)
		}
	})
}
