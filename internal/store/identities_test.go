package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func newIdentity(appID, id, userID string, p social.Provider, subject string) identity.LinkedIdentity {
	return identity.LinkedIdentity{ID: id, AppID: appID, UserID: userID, Provider: p, Subject: subject,
		Email: "ann@example.com", GivenName: "Ann", FamilyName: "Lee", CreatedAt: t0}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "bob@example.com", ""))
		createUser(t, s, newUser("app2", "u3", "ann@example.com", ""))

		apple := newIdentity("app1", "i1", "u1", social.Apple, "001.ann")
		noErr(t, "CreateIdentity(apple)", s.CreateIdentity(ctx, apple))
		google := newIdentity("app1", "i2", "u1", social.Google, "1098")
		google.GivenName, google.FamilyName = "", ""
		noErr(t, "CreateIdentity(google)", s.CreateIdentity(ctx, google))

		tests := []struct {
			name string
			li   identity.LinkedIdentity
			want apperr.Kind // apperr.Internal stands for no error
		}{
			{"same subject, another user", newIdentity("app1", "i3", "u2", social.Apple, "001.ann"), apperr.Exists},
			{"second apple id for one user", newIdentity("app1", "i4", "u1", social.Apple, "002.other"), apperr.Exists},
			{"same subject, other provider", newIdentity("app1", "i5", "u2", social.Google, "001.ann"), apperr.Internal},
			{"same subject in another app", newIdentity("app2", "i6", "u3", social.Apple, "001.ann"), apperr.Internal},
			{"unknown user", newIdentity("app1", "i7", "nope", social.Apple, "003"), apperr.NotFound},
			{"duplicate id", newIdentity("app1", "i1", "u2", social.Apple, "004"), apperr.Exists},
		}
		for _, tt := range tests {
			err := s.CreateIdentity(ctx, tt.li)
			if tt.want == apperr.Internal {
				noErr(t, "CreateIdentity("+tt.name+")", err)
				continue
			}
			wantKind(t, "CreateIdentity("+tt.name+")", err, tt.want)
		}

		got, err := s.FindIdentity(ctx, "app1", social.Apple, "001.ann")
		noErr(t, "FindIdentity", err)
		equal(t, "FindIdentity", got, apple)
		list, err := s.ListIdentities(ctx, "app1", "u1")
		noErr(t, "ListIdentities", err)
		equal(t, "ListIdentities", list, []identity.LinkedIdentity{apple, google})
		list, err = s.ListIdentities(ctx, "app2", "u1")
		noErr(t, "ListIdentities(other app)", err)
		if len(list) != 0 {
			t.Errorf("ListIdentities(other app) = %v, want none", list)
		}

		t1 := t0.Add(time.Hour)
		noErr(t, "TouchIdentity", s.TouchIdentity(ctx, "app1", "i1", "relay@privaterelay.appleid.com", t1))
		got, _ = s.FindIdentity(ctx, "app1", social.Apple, "001.ann")
		if got.Email != "relay@privaterelay.appleid.com" || !got.LastUsedAt.Equal(t1) {
			t.Errorf("after TouchIdentity: %+v", got)
		}

		noErr(t, "DeleteIdentity", s.DeleteIdentity(ctx, "app1", "u1", social.Google))
		for name, err := range map[string]error{
			"FindIdentity(unknown)":          second(s.FindIdentity(ctx, "app1", social.Apple, "nope")),
			"FindIdentity(other app)":        second(s.FindIdentity(ctx, "app2", social.Google, "1098")),
			"FindIdentity(deleted)":          second(s.FindIdentity(ctx, "app1", social.Google, "1098")),
			"DeleteIdentity(again)":          s.DeleteIdentity(ctx, "app1", "u1", social.Google),
			"DeleteIdentity(other app)":      s.DeleteIdentity(ctx, "app2", "u1", social.Apple),
			"TouchIdentity(unknown)":         s.TouchIdentity(ctx, "app1", "nope", "", t1),
			"LockUserRow(unknown)":           s.LockUserRow(ctx, "app1", "nope"),
			"LockUserRow(user of other app)": s.LockUserRow(ctx, "app2", "u1"),
		} {
			wantKind(t, name, err, apperr.NotFound)
		}

		// Deleting the app takes its identities along.
		noErr(t, "DeleteApp", s.DeleteApp(ctx, "app2"))
		if _, err := s.FindIdentity(ctx, "app2", social.Apple, "001.ann"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("FindIdentity after DeleteApp = %v, want NotFound", err)
		}
	})
}

// TestLockUserRowSerializes: two transactions that each check "another way
// to sign in remains" and then unlink one of a user's two identities must
// not both succeed. Without the row lock, both would see the other identity.
func TestLockUserRowSerializes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		noErr(t, "CreateIdentity", s.CreateIdentity(ctx, newIdentity("app1", "i1", "u1", social.Apple, "a")))
		noErr(t, "CreateIdentity", s.CreateIdentity(ctx, newIdentity("app1", "i2", "u1", social.Google, "g")))
		errLast := errors.New("last way to sign in")
		providers := make(chan social.Provider, 2)
		providers <- social.Apple
		providers <- social.Google
		won := race(t, 2, func() (bool, error) {
			p := <-providers
			err := s.InTx(ctx, func(tx identity.Store) error {
				if err := tx.LockUserRow(ctx, "app1", "u1"); err != nil {
					return err
				}
				ids, err := tx.ListIdentities(ctx, "app1", "u1")
				if err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond) // widen the window a lost lock would open
				if len(ids) < 2 {
					return errLast
				}
				return tx.DeleteIdentity(ctx, "app1", "u1", p)
			})
			if errors.Is(err, errLast) {
				return false, nil
			}
			return err == nil, err
		})
		if won != 1 {
			t.Fatalf("%d of 2 racing unlinks succeeded, want 1", won)
		}
		ids, err := s.ListIdentities(ctx, "app1", "u1")
		noErr(t, "ListIdentities", err)
		if len(ids) != 1 {
			t.Errorf("after the race the user has %d identities, want 1", len(ids))
		}
	})
}

func TestUseNonce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		exp := t0.Add(10 * time.Minute)

		if n := race(t, 10, func() (bool, error) { return s.UseNonce(ctx, "app1", social.Apple, "h1", exp, t0) }); n != 1 {
			t.Fatalf("10 racing UseNonce of one nonce: %d firsts, want 1", n)
		}
		// The same race, each caller inside a transaction as the flows do.
		if n := race(t, 10, func() (bool, error) {
			var first bool
			err := s.InTx(ctx, func(tx identity.Store) error {
				var err error
				first, err = tx.UseNonce(ctx, "app1", social.Google, "h2", exp, t0)
				return err
			})
			return first, err
		}); n != 1 {
			t.Fatalf("10 racing UseNonce in transactions: %d firsts, want 1", n)
		}
		tests := []struct {
			name     string
			app      string
			provider social.Provider
			hash     string
			now      time.Time
			want     bool
		}{
			{"replay", "app1", social.Apple, "h1", t0.Add(time.Minute), false},
			{"replay at the last instant", "app1", social.Apple, "h1", exp.Add(-time.Microsecond), false},
			{"other provider", "app1", social.Google, "h1", t0, true},
			{"other app", "app2", social.Apple, "h1", t0, true},
			{"after expiry, taken over", "app1", social.Apple, "h1", exp, true},
		}
		for _, tt := range tests {
			got, err := s.UseNonce(ctx, tt.app, tt.provider, tt.hash, tt.now.Add(10*time.Minute), tt.now)
			noErr(t, "UseNonce("+tt.name+")", err)
			if got != tt.want {
				t.Errorf("UseNonce(%s) = %v, want %v", tt.name, got, tt.want)
			}
		}
		// A rolled-back use leaves the nonce unused.
		rollback := errors.New("rollback")
		err := s.InTx(ctx, func(tx identity.Store) error {
			if ok, err := tx.UseNonce(ctx, "app1", social.Apple, "h3", exp, t0); err != nil || !ok {
				t.Fatalf("UseNonce(h3) in tx = %v, %v", ok, err)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx = %v", err)
		}
		if ok, err := s.UseNonce(ctx, "app1", social.Apple, "h3", exp, t0); err != nil || !ok {
			t.Errorf("UseNonce(h3) after a rollback = %v, %v; want true", ok, err)
		}

		noErr(t, "SweepNonces", s.SweepNonces(ctx, "app1", exp.Add(time.Hour)))
		// Swept: the h2 entry is gone, so its use is a first again even at a time before its expiry.
		if ok, err := s.UseNonce(ctx, "app1", social.Google, "h2", exp, t0); err != nil || !ok {
			t.Errorf("UseNonce(h2) after the sweep = %v, %v; want true", ok, err)
		}
		// app2's entry is not app1's to sweep.
		if ok, err := s.UseNonce(ctx, "app2", social.Apple, "h1", exp, t0); err != nil || ok {
			t.Errorf("UseNonce(app2 h1) after app1's sweep = %v, %v; want false", ok, err)
		}
	})
}
