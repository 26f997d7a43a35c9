package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func newCode(id, handle string) identity.Code {
	return identity.Code{
		ID:        id,
		AppID:     "app1",
		Purpose:   identity.PurposeSignup,
		Handle:    handle,
		Hash:      "hash-of-" + id,
		Payload:   []byte(`{"password_hash":"$argon2id$x","metadata":{"a":1}}`),
		CreatedAt: t0,
		ExpiresAt: t0.Add(10 * time.Minute),
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")

		c1 := newCode("c1", "ada@example.com")
		noErr(t, "PutCode", s.PutCode(ctx, c1))
		got, err := s.FindCode(ctx, "app1", identity.PurposeSignup, "ada@example.com")
		noErr(t, "FindCode", err)
		equal(t, "FindCode", got, c1)

		// The same handle for another purpose is another code.
		reset := newCode("r1", "ada@example.com")
		reset.Purpose, reset.Payload = identity.PurposeReset, nil
		noErr(t, "PutCode(reset)", s.PutCode(ctx, reset))

		// A new signup code for the handle replaces the first.
		c2 := newCode("c2", "ada@example.com")
		c2.CreatedAt, c2.ExpiresAt = t0.Add(time.Minute), t0.Add(11*time.Minute)
		noErr(t, "PutCode(replacement)", s.PutCode(ctx, c2))
		got, err = s.FindCode(ctx, "app1", identity.PurposeSignup, "ada@example.com")
		noErr(t, "FindCode after replacement", err)
		equal(t, "FindCode after replacement", got, c2)
		got, err = s.FindCode(ctx, "app1", identity.PurposeReset, "ada@example.com")
		noErr(t, "FindCode(reset)", err)
		equal(t, "FindCode(reset)", got, reset)
		_, err = s.SpendCodeAttempt(ctx, "app1", "c1", 5)
		wantKind(t, "SpendCodeAttempt(replaced code)", err, apperr.NotFound)

		// An expired code is still found: the caller reports CODE_EXPIRED.
		old := newCode("old", "old@example.com")
		old.CreatedAt, old.ExpiresAt = t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		noErr(t, "PutCode(expired)", s.PutCode(ctx, old))
		got, err = s.FindCode(ctx, "app1", identity.PurposeSignup, "old@example.com")
		noErr(t, "FindCode(expired)", err)
		equal(t, "FindCode(expired)", got, old)

		for name, err := range map[string]error{
			"FindCode(unknown handle)":    second(s.FindCode(ctx, "app1", identity.PurposeSignup, "nobody@example.com")),
			"FindCode(other purpose)":     second(s.FindCode(ctx, "app1", identity.PurposePhone, "ada@example.com")),
			"FindCode(other app)":         second(s.FindCode(ctx, "app2", identity.PurposeSignup, "ada@example.com")),
			"SpendCodeAttempt(unknown)":   second(s.SpendCodeAttempt(ctx, "app1", "nope", 5)),
			"SpendCodeAttempt(other app)": second(s.SpendCodeAttempt(ctx, "app2", "c2", 5)),
			"PutCode(unknown app)":        s.PutCode(ctx, identity.Code{ID: "x", AppID: "nope", Purpose: identity.PurposeSignup, Handle: "h", Hash: "h", CreatedAt: t0, ExpiresAt: t0}),
		} {
			wantKind(t, name, err, apperr.NotFound)
		}

		// Attempts count up to max, then refuse.
		for i, want := range []bool{true, true, true, false, false} {
			ok, err := s.SpendCodeAttempt(ctx, "app1", "c2", 3)
			noErr(t, "SpendCodeAttempt", err)
			if ok != want {
				t.Errorf("SpendCodeAttempt #%d at max 3 = %v, want %v", i+1, ok, want)
			}
		}
		got, err = s.FindCode(ctx, "app1", identity.PurposeSignup, "ada@example.com")
		noErr(t, "FindCode", err)
		if got.Attempts != 3 {
			t.Errorf("Attempts after 5 tries at max 3 = %d, want 3", got.Attempts)
		}

		ok, err := s.ConsumeCode(ctx, "app1", "c2")
		noErr(t, "ConsumeCode", err)
		if !ok {
			t.Errorf("ConsumeCode = false, want true")
		}
		ok, err = s.ConsumeCode(ctx, "app1", "c2")
		noErr(t, "ConsumeCode(again)", err)
		if ok {
			t.Errorf("ConsumeCode(again) = true, want false")
		}
		_, err = s.FindCode(ctx, "app1", identity.PurposeSignup, "ada@example.com")
		wantKind(t, "FindCode(consumed)", err, apperr.NotFound)
		ok, err = s.ConsumeCode(ctx, "app2", "r1")
		noErr(t, "ConsumeCode(other app)", err)
		if ok {
			t.Errorf("ConsumeCode(other app) = true, want false")
		}
	})
}

// 50 guesses race for a code that allows 5: exactly 5 may be checked.
func TestSpendCodeAttemptRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		noErr(t, "PutCode", s.PutCode(ctx, newCode("c1", "ada@example.com")))
		const max = 5
		got := race(t, 50, func() (bool, error) { return s.SpendCodeAttempt(ctx, "app1", "c1", max) })
		if got != max {
			t.Errorf("50 racing SpendCodeAttempt at max %d gave %d trues, want %d", max, got, max)
		}
		c, err := s.FindCode(ctx, "app1", identity.PurposeSignup, "ada@example.com")
		noErr(t, "FindCode", err)
		if c.Attempts != max {
			t.Errorf("Attempts = %d, want %d", c.Attempts, max)
		}
	})
}

// 20 callers race to use one code: exactly one does.
func TestConsumeCodeRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		noErr(t, "PutCode", s.PutCode(ctx, newCode("c1", "ada@example.com")))
		if got := race(t, 20, func() (bool, error) { return s.ConsumeCode(ctx, "app1", "c1") }); got != 1 {
			t.Errorf("20 racing ConsumeCode gave %d trues, want 1", got)
		}
	})
}
