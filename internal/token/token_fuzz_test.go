package token_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cosync/cosync-auth/internal/token"
)

const fuzzIssuer = "https://auth.example.com/apps/app1"

// FuzzVerify hands Verify whatever a client may put after "Bearer ": it
// answers ErrInvalid or ErrExpired and nothing else (an outage error would
// turn into a 5xx), and accepts only a token this Issuer minted, with the
// claims it minted.
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	now := time.Unix(1_800_000_000, 0).UTC()
	c := realistic(now)
	c.Issuer = fuzzIssuer
	good, err := e.iss.Mint(context.Background(), "app1", c)
	if err != nil {
		f.Fatalf("Mint = %v", err)
	}
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		good, "", ".", "..", "a.b.c", good + ".", good[:len(good)-1], parts[0] + "." + parts[1] + ".",
		b64([]byte(`{"alg":"none","kid":"`+e.app1.KID+`"}`)) + "." + parts[1] + ".",
		b64([]byte(`{"alg":"HS256","kid":"`+e.app1.KID+`"}`)) + "." + parts[1] + "." + parts[2],
		b64([]byte(`{"alg":"RS256","kid":"`+e.app2.KID+`"}`)) + "." + parts[1] + "." + parts[2],
		b64([]byte(`{"alg":"RS256","kid":"../../etc/passwd"}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + b64([]byte(`{"iss":"`+fuzzIssuer+`","sub":"x","exp":99999999999}`)) + "." + parts[2],
		parts[0] + "." + b64([]byte(`{"exp":"soon","iat":[],"sub":{}}`)) + "." + parts[2],
		`{"payload":"e30","signatures":[]}`, strings.Repeat("A", token.MaxLength+1), "\x00.\xff.\xfe",
	} {
		f.Add(s)
	}
	want, err := e.iss.Verify(context.Background(), "app1", fuzzIssuer, good, now)
	if err != nil {
		f.Fatalf("Verify(good) = %v", err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := e.iss.Verify(context.Background(), "app1", fuzzIssuer, raw, now)
		if err != nil {
			if !errors.Is(err, token.ErrInvalid) && !errors.Is(err, token.ErrExpired) {
				t.Fatalf("Verify(%q) = %v, want ErrInvalid or ErrExpired", raw, err)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Verify(%q) accepted claims %+v, not the ones minted (%+v)", raw, got, want)
		}
	})
}

// FuzzMintVerify mints tokens whose strings a user influences (email, user
// name, metadata) and verifies them: Mint refuses (too long, reserved) or
// the claims come back as they went in, within MaxLength.
func FuzzMintVerify(f *testing.F) {
	e := newEnv(f)
	f.Add("0b8f6c7e", "ada@example.com", "ada", "user_data", "Ada")
	f.Add("s", "", "", "email_verified", "true")
	f.Add("s\x00", "\"}],\"admin\":true,{\"", "</script>", "sub", "x")
	f.Add("s", strings.Repeat("e", 3000), "", "x", "y")
	f.Add("\u2028", "ünï@ëxample.com", "\xff", "", "")
	f.Fuzz(func(t *testing.T, sub, email, userName, extraName, extraValue string) {
		now := time.Unix(1_800_000_000, 0).UTC()
		c := token.Claims{
			Issuer: fuzzIssuer, Subject: sub, Audience: []string{"application-0-abcde"},
			IssuedAt: now, Expiry: now.Add(15 * time.Minute), SessionID: "sid-1", Email: email, UserName: userName,
		}
		if extraName != "" {
			c.Extra = map[string]any{extraName: map[string]any{"v": extraValue}}
		}
		raw, err := e.iss.Mint(context.Background(), "app1", c)
		if err != nil {
			return // refusing is always safe; minting a bad token is not
		}
		if len(raw) > token.MaxLength {
			t.Fatalf("Mint made a %d-character token, past %d", len(raw), token.MaxLength)
		}
		got, err := e.iss.Verify(context.Background(), "app1", fuzzIssuer, raw, now)
		if err != nil {
			t.Fatalf("Verify(Mint(%+v)) = %v", c, err)
		}
		if token.Reserved[extraName] {
			t.Fatalf("Mint accepted the reserved extra claim %q", extraName)
		}
		// JSON carries invalid UTF-8 as U+FFFD: not a round trip, and not a
		// forgery. Each part is checked alone: invalid parts can join into
		// valid UTF-8 ("\xee" + "\x82\x98"), which the fuzzer found.
		for _, part := range []string{sub, email, userName, extraName, extraValue} {
			if !utf8.ValidString(part) {
				return
			}
		}
		if got.Subject != sub || got.Email != email || got.UserName != userName || !reflect.DeepEqual(got.Extra, c.Extra) {
			t.Fatalf("Verify(Mint(%+v)) = %+v: the claims changed", c, got)
		}
	})
}
