package token_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/token"
)

// TestVerifyRemembers: a token verified once is not verified again (no
// signature check, counted), yet its times are checked on every call, the
// claims a caller gets are its own, a forged token is never remembered,
// and a change of the app's keys makes the next call check afresh.
func TestVerifyRemembers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	st := &memStore{keys: map[string][]keys.Record{"app1": {e.app1}}}
	kr := keys.NewKeyring(st, e.keyring.Signer(), keys.KeyringConfig{}, nil)
	iss := token.NewIssuer(kr)
	iat := time.Now().UTC().Truncate(time.Second)
	c := realistic(iat)
	raw, err := iss.Mint(ctx, "app1", c)
	if err != nil {
		t.Fatal(err)
	}
	checks := func() int64 { return token.SignatureChecks(iss) }
	verify := func(raw, issuer string, now time.Time) (token.Claims, error) {
		t.Helper()
		return iss.Verify(ctx, "app1", issuer, raw, now)
	}

	got, err := verify(raw, c.Issuer, iat)
	if err != nil || checks() != 1 {
		t.Fatalf("first Verify = %v with %d signature checks, want nil with 1", err, checks())
	}
	// What the first caller does with its claims is its own business.
	got.Audience[0] = "changed"
	got.Extra["user_data"].(map[string]any)["plan"] = "changed"
	for range 3 {
		again, err := verify(raw, c.Issuer, iat.Add(time.Minute))
		if err != nil {
			t.Fatalf("Verify again = %v", err)
		}
		if !reflect.DeepEqual(again, c) {
			t.Errorf("Verify again = %+v, want the minted claims %+v", again, c)
		}
	}
	if checks() != 1 {
		t.Errorf("three more Verify calls made %d signature checks, want none", checks()-1)
	}
	// The times are checked on every call.
	if _, err := verify(raw, c.Issuer, c.Expiry.Add(time.Hour)); !errors.Is(err, token.ErrExpired) {
		t.Errorf("remembered token after exp: Verify = %v, want %v", err, token.ErrExpired)
	}
	if _, err := verify(raw, c.Issuer, iat.Add(-time.Minute)); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("remembered token before iat: Verify = %v, want %v", err, token.ErrInvalid)
	}
	// Another issuer is another question.
	if _, err := verify(raw, "https://evil.example.com", iat); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("remembered token, other issuer: Verify = %v, want %v", err, token.ErrInvalid)
	}
	// A forged token is checked, and fails, every time.
	forged := raw[:strings.LastIndexByte(raw, '.')+1] + strings.Repeat("A", 342)
	before := checks()
	for range 2 {
		if _, err := verify(forged, c.Issuer, iat); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("forged token: Verify = %v, want %v", err, token.ErrInvalid)
		}
	}
	if n := checks() - before; n != 2 {
		t.Errorf("two calls with a forged token made %d signature checks, want 2", n)
	}
	// Retiring the key that signed it ends it at once.
	retired := e.app1
	retired.State = keys.StateRetired
	st.mu.Lock()
	st.keys["app1"] = []keys.Record{e.lost, retired}
	st.mu.Unlock()
	kr.Invalidate("app1")
	if _, err := verify(raw, c.Issuer, iat); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("remembered token after its key retired: Verify = %v, want %v", err, token.ErrInvalid)
	}
}
