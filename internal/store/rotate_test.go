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

// TestRotateBatch: one statement spends several tokens, each as
// RotateRefreshToken alone would: an unrotated token and one rotated
// within the grace win, a token rotated before the cutoff and an unknown
// one do not, and only the winners' successors and events are stored.
func TestRotateBatch(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	ctx := t.Context()
	rotateFixture(t, s)
	at := t0.Add(time.Minute)
	for _, id := range []string{"x1", "x2"} { // x1 rotated at t0, x2 unrotated
		noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: id, AppID: "app1", SessionID: "s1", Hash: "h-" + id, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	ok, err := s.RotateRefreshToken(ctx, "app1", "x1", t0, successor("x1-old", t0), refreshEvent("e-x1-old", t0))
	noErr(t, "RotateRefreshToken(x1)", err)
	if !ok {
		t.Fatal("RotateRefreshToken(x1) = false")
	}
	rotation := func(old, next string, cutoff time.Time) store.Rotation {
		return store.Rotation{AppID: "app1", OldID: old, Cutoff: cutoff, Next: successor(next, at), Event: refreshEvent("e-"+next, at)}
	}
	won, err := store.RotateBatch(ctx, s, []store.Rotation{
		rotation("r1", "a", at),                   // unrotated
		rotation("x1", "b", t0.Add(-time.Second)), // rotated at t0, within the grace
		rotation("x2", "c", at),                   // unrotated
		rotation("nope", "d", at),                 // unknown
	})
	noErr(t, "RotateBatch", err)
	equal(t, "winners", won, []bool{true, true, true, false})
	won, err = store.RotateBatch(ctx, s, []store.Rotation{
		rotation("x2", "e", at.Add(time.Microsecond)), // rotated at `at`, before this cutoff: reuse
		rotation("r1", "f", at),                       // rotated at `at`: within this grace
	})
	noErr(t, "RotateBatch(again)", err)
	equal(t, "winners again", won, []bool{false, true})
	for next, want := range map[string]bool{"a": true, "b": true, "c": true, "d": false, "e": false, "f": true} {
		_, err := s.FindRefreshToken(ctx, "app1", "hash-"+next)
		if stored := err == nil; stored != want {
			t.Errorf("successor %s stored = %v, want %v (%v)", next, stored, want, err)
		}
	}
	events, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "session.refresh"}, nil, 100)
	noErr(t, "ListAuditEvents", err)
	if len(events) != 5 { // e-x1-old, a, b, c, f
		t.Errorf("%d refresh events stored, want 5", len(events))
	}
	old, err := s.FindRefreshToken(ctx, "app1", "h-x1")
	noErr(t, "FindRefreshToken(x1)", err)
	if !old.RotatedAt.Equal(t0) {
		t.Errorf("x1 rotated at %v, want its first rotation %v", old.RotatedAt, t0)
	}
	sess, err := s.GetSession(ctx, "app1", "s1")
	noErr(t, "GetSession", err)
	if !sess.LastUsedAt.Equal(at) {
		t.Errorf("session last used %v, want %v", sess.LastUsedAt, at)
	}
	_, err = store.RotateBatch(ctx, s, []store.Rotation{rotation("r1", "g", at), rotation("r1", "h", at)})
	if err == nil {
		t.Error("RotateBatch with one token twice: no error")
	}
}

// TestFindRefreshSessionsBatch: one statement looks several hashes up and
// answers each in its place, nothing for an unknown one.
func TestFindRefreshSessionsBatch(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	ctx := t.Context()
	rotateFixture(t, s)
	noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: "r2", AppID: "app1", SessionID: "s1", Hash: "h2", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	ids, err := store.FindRefreshSessions(ctx, s, "app1", "h2", "nope", "h1")
	noErr(t, "FindRefreshSessions", err)
	equal(t, "ids", ids, []string{"r2", "", "r1"})
	ids, err = store.FindRefreshSessions(ctx, s, "other-app", "h1")
	noErr(t, "FindRefreshSessions(other app)", err)
	equal(t, "ids of another app", ids, []string{""})
}

// TestRefreshConcurrently: refreshes of many sessions at once on Postgres
// (which the store groups into shared statements) each spend their own
// token and store their own successor and event.
func TestRefreshConcurrently(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	ctx := t.Context()
	createApp(t, s, "app1")
	createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
	const n = 40
	for i := range n {
		noErr(t, "CreateSession", s.CreateSession(ctx, newSession(fmt.Sprintf("s%d", i), "u1")))
		noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: fmt.Sprintf("r%d", i), AppID: "app1", SessionID: fmt.Sprintf("s%d", i), Hash: fmt.Sprintf("h%d", i), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	}
	at := t0.Add(time.Minute)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			rt, sess, _, err := s.FindRefreshSession(ctx, "app1", fmt.Sprintf("h%d", i))
			if err != nil {
				errs <- err
				return
			}
			if rt.ID != fmt.Sprintf("r%d", i) || sess.ID != fmt.Sprintf("s%d", i) {
				errs <- fmt.Errorf("h%d found token %s of session %s", i, rt.ID, sess.ID)
				return
			}
			next := identity.RefreshToken{ID: fmt.Sprintf("n%d", i), AppID: "app1", SessionID: sess.ID, ParentID: rt.ID, Hash: fmt.Sprintf("next%d", i), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
			ev := refreshEvent(fmt.Sprintf("e%d", i), at)
			ev.SubjectID = sess.ID
			ok, err := s.RotateRefreshToken(ctx, "app1", rt.ID, at, next, ev)
			if err == nil && !ok {
				err = fmt.Errorf("rotating r%d: false", i)
			}
			errs <- err
		}()
	}
	for range n {
		noErr(t, "refresh", <-errs)
	}
	for i := range n {
		got, err := s.FindRefreshToken(ctx, "app1", fmt.Sprintf("next%d", i))
		noErr(t, "FindRefreshToken(successor)", err)
		if got.ParentID != fmt.Sprintf("r%d", i) || got.SessionID != fmt.Sprintf("s%d", i) {
			t.Errorf("successor of r%d: %+v", i, got)
		}
	}
	events, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "session.refresh"}, nil, 100)
	noErr(t, "ListAuditEvents", err)
	if len(events) != n {
		t.Errorf("%d refresh events, want %d", len(events), n)
	}
	var paths []string
	s.BatchCounts(func(path string, statements, calls int64) {
		paths = append(paths, path)
		if calls != n || statements < 1 || statements > calls {
			t.Errorf("%s: %d statements for %d calls, want at most one a call and %d calls", path, statements, calls, n)
		}
	})
	equal(t, "batched paths", paths, []string{"refresh_read", "refresh_write"})
}
