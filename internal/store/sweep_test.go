package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestSweepExpired: the sweep deletes the sessions (with their refresh
// tokens), codes, login tokens and nonces that expired before the cutoff,
// in batches, and nothing else.
func TestSweepExpired(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		cutoff := t0.Add(time.Hour)
		// Three of each kind expired before the cutoff (so a batch of two
		// leaves some for the next), one after it.
		for i, exp := range []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute), cutoff.Add(time.Minute)} {
			id := string(rune('a' + i))
			sess := identity.Session{ID: "s" + id, AppID: "app1", UserID: "u1", CreatedAt: t0.Add(-time.Hour), ExpiresAt: exp}
			noErr(t, "CreateSession", s.CreateSession(ctx, sess))
			noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: "r" + id, AppID: "app1", SessionID: sess.ID, Hash: "rh" + id, CreatedAt: t0, ExpiresAt: exp}))
			noErr(t, "PutCode", s.PutCode(ctx, identity.Code{ID: "c" + id, AppID: "app1", Purpose: identity.PurposeSignup, Handle: id + "@example.com", Hash: "ch" + id, CreatedAt: t0, ExpiresAt: exp}))
			// A user has one pending login token at a time: one user each.
			createUser(t, s, newUser("app1", "lu"+id, id+"-login@example.com", ""))
			noErr(t, "CreateLoginToken", s.CreateLoginToken(ctx, identity.LoginToken{ID: "l" + id, AppID: "app1", UserID: "lu" + id, Hash: "lh" + id, Method: identity.TwoFactorTOTP, CreatedAt: t0, ExpiresAt: exp}))
			if first, err := s.UseNonce(ctx, "app1", social.Apple, "n"+id, exp, t0.Add(-time.Hour)); err != nil || !first {
				t.Fatalf("UseNonce(n%s) = %v, %v", id, first, err)
			}
		}
		n, err := s.SweepExpired(ctx, cutoff, 2)
		noErr(t, "SweepExpired", err)
		if n != 12 {
			t.Errorf("SweepExpired deleted %d rows, want 12 (3 sessions, 3 codes, 3 login tokens, 3 nonces)", n)
		}
		for i := range 4 {
			id := string(rune('a' + i))
			gone := i < 3
			checks := []struct {
				what string
				err  error
			}{
				{"session", second(s.GetSession(ctx, "app1", "s"+id))},
				{"refresh token", second(s.FindRefreshToken(ctx, "app1", "rh"+id))},
				{"code", second(s.GetCode(ctx, "app1", "c"+id))},
				{"login token", second(s.FindLoginToken(ctx, "app1", "lh"+id))},
			}
			for _, c := range checks {
				if gotGone := apperr.Is(c.err, apperr.NotFound); gotGone != gone || (!gone && c.err != nil) {
					t.Errorf("%s %s after the sweep: err = %v, want gone = %v", c.what, id, c.err, gone)
				}
			}
			// A nonce still there cannot be used again; a swept one can.
			first, err := s.UseNonce(ctx, "app1", social.Apple, "n"+id, cutoff.Add(time.Hour), cutoff)
			noErr(t, "UseNonce", err)
			if first != gone {
				t.Errorf("nonce %s after the sweep: usable again = %v, want %v", id, first, gone)
			}
		}
		if n, err := s.SweepExpired(ctx, cutoff, 2); err != nil || n != 0 {
			t.Errorf("a second sweep = %d, %v; want nothing left to delete", n, err)
		}
	})
}
