package store_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// rotateFixture is app1 with user u1, session s1 and its first refresh
// token r1 (hash h1).
func rotateFixture(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := t.Context()
	createApp(t, s, "app1")
	createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
	noErr(t, "CreateSession", s.CreateSession(ctx, newSession("s1", "u1")))
	noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: "r1", AppID: "app1", SessionID: "s1", Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
}

func successor(id string, at time.Time) identity.RefreshToken {
	return identity.RefreshToken{ID: id, AppID: "app1", SessionID: "s1", ParentID: "r1", Hash: "hash-" + id, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
}

func refreshEvent(id string, at time.Time) identity.AuditEvent {
	return identity.AuditEvent{ID: id, AppID: "app1", Action: "session.refresh", Outcome: identity.OutcomeSuccess, ActorID: "u1", SubjectID: "s1", IP: "192.0.2.1", OccurredAt: at}
}

func TestRotateRefreshToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		rotateFixture(t, s)
		at := t0.Add(time.Minute)

		// Unrotated: spent at `at`, the successor and the event stored, the session used.
		ok, err := s.RotateRefreshToken(ctx, "app1", "r1", at, successor("r2", at), refreshEvent("e2", at))
		noErr(t, "RotateRefreshToken", err)
		if !ok {
			t.Fatalf("RotateRefreshToken(unrotated) = false, want true")
		}
		old, err := s.FindRefreshToken(ctx, "app1", "h1")
		noErr(t, "FindRefreshToken(old)", err)
		if !old.RotatedAt.Equal(at) {
			t.Errorf("old token's RotatedAt = %v, want %v", old.RotatedAt, at)
		}
		got, err := s.FindRefreshToken(ctx, "app1", "hash-r2")
		noErr(t, "FindRefreshToken(successor)", err)
		equal(t, "successor", got, successor("r2", at))
		sess, err := s.GetSession(ctx, "app1", "s1")
		noErr(t, "GetSession", err)
		if !sess.LastUsedAt.Equal(at) {
			t.Errorf("session LastUsedAt = %v, want %v", sess.LastUsedAt, at)
		}

		// Rotated at `at`, presented again with a cutoff at or before it
		// (within the grace): a sibling, the first rotation time kept.
		later := at.Add(2 * time.Second)
		ok, err = s.RotateRefreshToken(ctx, "app1", "r1", at, successor("r3", later), refreshEvent("e3", later))
		noErr(t, "RotateRefreshToken(within grace)", err)
		if !ok {
			t.Errorf("RotateRefreshToken(within grace) = false, want true")
		}
		_, err = s.FindRefreshToken(ctx, "app1", "hash-r3")
		noErr(t, "FindRefreshToken(sibling)", err)
		old, err = s.FindRefreshToken(ctx, "app1", "h1")
		noErr(t, "FindRefreshToken(old)", err)
		if !old.RotatedAt.Equal(at) {
			t.Errorf("old token's RotatedAt after a sibling = %v, want %v", old.RotatedAt, at)
		}

		// Presented after the grace: false, and nothing stored.
		ok, err = s.RotateRefreshToken(ctx, "app1", "r1", at.Add(time.Microsecond), successor("r4", later), refreshEvent("e4", later))
		noErr(t, "RotateRefreshToken(reuse)", err)
		if ok {
			t.Errorf("RotateRefreshToken(reuse) = true, want false")
		}
		_, err = s.FindRefreshToken(ctx, "app1", "hash-r4")
		wantKind(t, "FindRefreshToken(after reuse)", err, apperr.NotFound)

		events, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "session.refresh"}, nil, 10)
		noErr(t, "ListAuditEvents", err)
		var ids []string
		for _, e := range events {
			ids = append(ids, e.ID)
		}
		equal(t, "refresh events", ids, []string{"e3", "e2"})
		equal(t, "event e2", events[1], refreshEvent("e2", at))

		_, err = s.RotateRefreshToken(ctx, "app1", "nope", at, successor("r5", at), refreshEvent("e5", at))
		wantKind(t, "RotateRefreshToken(unknown)", err, apperr.NotFound)
		_, err = s.RotateRefreshToken(ctx, "app1", "r1", at, identity.RefreshToken{ID: "r6", AppID: "app1", SessionID: "s1", Hash: "hash-r2", CreatedAt: at, ExpiresAt: at}, refreshEvent("e6", at))
		wantKind(t, "RotateRefreshToken(successor's hash taken)", err, apperr.Exists)
		if _, err := s.FindRefreshToken(ctx, "app1", "hash-r2"); err != nil {
			t.Errorf("FindRefreshToken(hash-r2) = %v", err)
		}
	})
}

// Racing rotations of one token: with a cutoff after the rotation time (no
// grace) exactly one wins; with the grace every one gets its own successor.
func TestRotateRefreshTokenRace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cutoff time.Time
		want   int
	}{
		{"no grace", t0.Add(time.Microsecond), 1},
		{"grace", t0.Add(-time.Minute), 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, s *store.Store) {
				t.Parallel()
				ctx := t.Context()
				rotateFixture(t, s)
				var n atomic.Int32
				got := race(t, 20, func() (bool, error) {
					id := fmt.Sprintf("r%d", n.Add(1)+1)
					return s.RotateRefreshToken(ctx, "app1", "r1", tc.cutoff, successor(id, t0), refreshEvent("e"+id, t0))
				})
				if got != tc.want {
					t.Errorf("20 racing RotateRefreshToken gave %d trues, want %d", got, tc.want)
				}
				events, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "session.refresh"}, nil, 100)
				noErr(t, "ListAuditEvents", err)
				stored := 0
				for i := 2; i <= 21; i++ {
					if _, err := s.FindRefreshToken(ctx, "app1", fmt.Sprintf("hash-r%d", i)); err == nil {
						stored++
					}
				}
				if len(events) != tc.want || stored != tc.want {
					t.Errorf("after %d wins: %d successors and %d events stored", tc.want, stored, len(events))
				}
			})
		})
	}
}

func TestOpenSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		_, _, err := s.RecordLoginFailure(ctx, "app1", "u1", t0, 1, func(int) time.Duration { return time.Hour })
		noErr(t, "RecordLoginFailure", err)
		at := t0.Add(time.Minute)
		sess := newSession("s1", "u1")
		sess.IP, sess.Method = "192.0.2.1", identity.SessionByPassword
		first := identity.RefreshToken{ID: "r1", AppID: "app1", SessionID: "s1", Hash: "h1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		ev := refreshEvent("e1", at)
		ev.Action, ev.SubjectID = "user.login", "u1"

		noErr(t, "OpenSession", s.OpenSession(ctx, at, sess, first, ev))
		got, err := s.GetSession(ctx, "app1", "s1")
		noErr(t, "GetSession", err)
		equal(t, "session", got, sess)
		gotRT, err := s.FindRefreshToken(ctx, "app1", "h1")
		noErr(t, "FindRefreshToken", err)
		equal(t, "first refresh token", gotRT, first)
		u, err := s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		if !u.LastLoginAt.Equal(at) || u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
			t.Errorf("user after OpenSession: last login %v, %d failures, locked until %v; want %v, 0, none", u.LastLoginAt, u.FailedLogins, u.LockedUntil, at)
		}
		events, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "user.login"}, nil, 10)
		noErr(t, "ListAuditEvents", err)
		if len(events) != 1 {
			t.Fatalf("login events = %d, want 1", len(events))
		}
		equal(t, "login event", events[0], ev)

		// A user that is gone: nothing is written.
		gone := newSession("s2", "nobody")
		err = s.OpenSession(ctx, at, gone, identity.RefreshToken{ID: "r2", AppID: "app1", SessionID: "s2", Hash: "h2", CreatedAt: at, ExpiresAt: at}, refreshEvent("e2", at))
		wantKind(t, "OpenSession(unknown user)", err, apperr.NotFound)
		_, err = s.GetSession(ctx, "app1", "s2")
		wantKind(t, "GetSession(after a failed OpenSession)", err, apperr.NotFound)
		_, err = s.FindRefreshToken(ctx, "app1", "h2")
		wantKind(t, "FindRefreshToken(after a failed OpenSession)", err, apperr.NotFound)
		events, err = s.ListAuditEvents(ctx, "app1", console.AuditFilter{}, nil, 10)
		noErr(t, "ListAuditEvents", err)
		if len(events) != 1 {
			t.Errorf("events after a failed OpenSession = %d, want 1", len(events))
		}

		// A first token of another session: refused, nothing written.
		err = s.OpenSession(ctx, at, newSession("s4", "u1"), identity.RefreshToken{ID: "r4", AppID: "app1", SessionID: "s1", Hash: "h4", CreatedAt: at, ExpiresAt: at}, refreshEvent("e4", at))
		wantKind(t, "OpenSession(token of another session)", err, apperr.Internal)
		_, err = s.GetSession(ctx, "app1", "s4")
		wantKind(t, "GetSession(after a refused OpenSession)", err, apperr.NotFound)

		// Inside a transaction it joins it: a rollback takes it back.
		errRollback := apperr.New(apperr.Invalid, "", "roll back")
		err = s.InTx(ctx, func(tx identity.Store) error {
			third := newSession("s3", "u1")
			if err := tx.OpenSession(ctx, at, third, identity.RefreshToken{ID: "r3", AppID: "app1", SessionID: "s3", Hash: "h3", CreatedAt: at, ExpiresAt: at}, refreshEvent("e3", at)); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want the rollback error", err)
		}
		_, err = s.GetSession(ctx, "app1", "s3")
		wantKind(t, "GetSession(rolled back)", err, apperr.NotFound)
	})
}
