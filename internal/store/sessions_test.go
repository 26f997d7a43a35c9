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

func newSession(id, userID string) identity.Session {
	return identity.Session{ID: id, AppID: "app1", UserID: userID, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))

		s1 := newSession("s1", "u1")
		noErr(t, "CreateSession", s.CreateSession(ctx, s1))
		got, err := s.GetSession(ctx, "app1", "s1")
		noErr(t, "GetSession", err)
		equal(t, "GetSession", got, s1)
		wantKind(t, "CreateSession(same id)", s.CreateSession(ctx, s1), apperr.Exists)
		wantKind(t, "CreateSession(unknown user)", s.CreateSession(ctx, newSession("s2", "nope")), apperr.NotFound)
		_, err = s.GetSession(ctx, "app1", "nope")
		wantKind(t, "GetSession(unknown)", err, apperr.NotFound)
		_, err = s.GetSession(ctx, "app2", "s1")
		wantKind(t, "GetSession(other app)", err, apperr.NotFound)

		noErr(t, "RevokeSession", s.RevokeSession(ctx, "app1", "s1", "logout", t0.Add(time.Minute)))
		noErr(t, "RevokeSession(again)", s.RevokeSession(ctx, "app1", "s1", "suspended", t0.Add(time.Hour)))
		got, err = s.GetSession(ctx, "app1", "s1")
		noErr(t, "GetSession", err)
		s1.RevokedAt, s1.RevokeReason = t0.Add(time.Minute), "logout"
		equal(t, "GetSession after two revokes", got, s1)
		if got.Live(t0.Add(2 * time.Minute)) {
			t.Errorf("revoked session is live")
		}
		wantKind(t, "RevokeSession(unknown)", s.RevokeSession(ctx, "app1", "nope", "x", t0), apperr.NotFound)
	})
}

func TestRevokeUserSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "b@example.com", ""))
		now := t0.Add(time.Hour)

		for _, id := range []string{"here", "phone", "laptop"} {
			noErr(t, "CreateSession", s.CreateSession(ctx, newSession(id, "u1")))
		}
		revoked := newSession("revoked", "u1")
		revoked.RevokedAt, revoked.RevokeReason = t0, "logout"
		expired := newSession("expired", "u1")
		expired.ExpiresAt = t0.Add(time.Minute)
		for _, sess := range []identity.Session{revoked, expired, newSession("other-user", "u2")} {
			noErr(t, "CreateSession", s.CreateSession(ctx, sess))
		}

		n, err := s.RevokeUserSessions(ctx, "app1", "u1", "here", "password_changed", now)
		noErr(t, "RevokeUserSessions(except here)", err)
		if n != 2 {
			t.Errorf("RevokeUserSessions(except here) = %d, want 2", n)
		}
		n, err = s.RevokeUserSessions(ctx, "app1", "u1", "", "suspended", now.Add(time.Minute))
		noErr(t, "RevokeUserSessions(all)", err)
		if n != 1 {
			t.Errorf("RevokeUserSessions(all) = %d, want 1", n)
		}

		want := map[string]struct {
			at     time.Time
			reason string
		}{
			"here":       {now.Add(time.Minute), "suspended"},
			"phone":      {now, "password_changed"},
			"laptop":     {now, "password_changed"},
			"revoked":    {t0, "logout"},
			"expired":    {},
			"other-user": {},
		}
		for id, w := range want {
			got, err := s.GetSession(ctx, "app1", id)
			noErr(t, "GetSession("+id+")", err)
			if !got.RevokedAt.Equal(w.at) || got.RevokeReason != w.reason {
				t.Errorf("session %s: revoked %v for %q, want %v for %q", id, got.RevokedAt, got.RevokeReason, w.at, w.reason)
			}
		}
		n, err = s.RevokeUserSessions(ctx, "app2", "u2", "", "x", now)
		noErr(t, "RevokeUserSessions(other app)", err)
		if n != 0 {
			t.Errorf("RevokeUserSessions(other app) = %d, want 0", n)
		}
	})
}

func TestRefreshTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		// With a password, so the joined read must say HasPassword without reading the hash.
		noErr(t, "CreateUser", s.CreateUser(ctx, newUser("app1", "u1", "a@example.com", ""), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"))
		noErr(t, "CreateSession", s.CreateSession(ctx, newSession("s1", "u1")))

		first := identity.RefreshToken{ID: "r1", AppID: "app1", SessionID: "s1", Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		child := identity.RefreshToken{ID: "r2", AppID: "app1", SessionID: "s1", ParentID: "r1", Hash: "h2", CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)}
		noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, first))
		noErr(t, "CreateRefreshToken(child)", s.CreateRefreshToken(ctx, child))
		for _, want := range []identity.RefreshToken{first, child} {
			got, err := s.FindRefreshToken(ctx, "app1", want.Hash)
			noErr(t, "FindRefreshToken", err)
			equal(t, "FindRefreshToken("+want.Hash+")", got, want)
		}

		dup := child
		dup.ID = "r3"
		wantKind(t, "CreateRefreshToken(same hash)", s.CreateRefreshToken(ctx, dup), apperr.Exists)
		orphan := identity.RefreshToken{ID: "r4", AppID: "app1", SessionID: "nope", Hash: "h4", CreatedAt: t0, ExpiresAt: t0}
		wantKind(t, "CreateRefreshToken(unknown session)", s.CreateRefreshToken(ctx, orphan), apperr.NotFound)
		_, err := s.FindRefreshToken(ctx, "app1", "nope")
		wantKind(t, "FindRefreshToken(unknown)", err, apperr.NotFound)
		_, err = s.FindRefreshToken(ctx, "app2", "h1")
		wantKind(t, "FindRefreshToken(other app)", err, apperr.NotFound)
		// The same reads in one statement, with the session.
		sess, err := s.GetSession(ctx, "app1", "s1")
		noErr(t, "GetSession", err)
		user, err := s.GetUser(ctx, "app1", sess.UserID)
		noErr(t, "GetUser", err)
		gotRT, gotSess, gotUser, err := s.FindRefreshSession(ctx, "app1", child.Hash)
		noErr(t, "FindRefreshSession", err)
		equal(t, "FindRefreshSession token", gotRT, child)
		equal(t, "FindRefreshSession session", gotSess, sess)
		equal(t, "FindRefreshSession user", gotUser, user)
		if !gotUser.HasPassword {
			t.Errorf("FindRefreshSession user: HasPassword = false, want true")
		}
		_, _, _, err = s.FindRefreshSession(ctx, "app1", "nope")
		wantKind(t, "FindRefreshSession(unknown)", err, apperr.NotFound)
		_, _, _, err = s.FindRefreshSession(ctx, "app2", "h1")
		wantKind(t, "FindRefreshSession(other app)", err, apperr.NotFound)
		_, err = s.MarkRefreshTokenRotated(ctx, "app1", "nope", t0)
		wantKind(t, "MarkRefreshTokenRotated(unknown)", err, apperr.NotFound)

		ok, err := s.MarkRefreshTokenRotated(ctx, "app1", "r1", t0.Add(time.Minute))
		noErr(t, "MarkRefreshTokenRotated", err)
		if !ok {
			t.Errorf("MarkRefreshTokenRotated = false, want true")
		}
		ok, err = s.MarkRefreshTokenRotated(ctx, "app1", "r1", t0.Add(time.Hour))
		noErr(t, "MarkRefreshTokenRotated(again)", err)
		if ok {
			t.Errorf("MarkRefreshTokenRotated(again) = true, want false")
		}
		got, err := s.FindRefreshToken(ctx, "app1", "h1")
		noErr(t, "FindRefreshToken", err)
		first.RotatedAt = t0.Add(time.Minute)
		equal(t, "FindRefreshToken after rotation", got, first)

		// Deleting the app takes its sessions and their tokens along.
		noErr(t, "DeleteApp", s.DeleteApp(ctx, "app1"))
		createApp(t, s, "app1")
		_, err = s.FindRefreshToken(ctx, "app1", "h2")
		wantKind(t, "FindRefreshToken(after DeleteApp)", err, apperr.NotFound)
	})
}

// 20 refreshes race with one token: exactly one rotates it.
func TestMarkRefreshTokenRotatedRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		noErr(t, "CreateSession", s.CreateSession(ctx, newSession("s1", "u1")))
		noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: "r1", AppID: "app1", SessionID: "s1", Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
		if got := race(t, 20, func() (bool, error) { return s.MarkRefreshTokenRotated(ctx, "app1", "r1", t0) }); got != 1 {
			t.Errorf("20 racing MarkRefreshTokenRotated gave %d trues, want 1", got)
		}
	})
}

// TestGetSessionUser: the session, its user and the user's linked
// identities in one read, each as their own reads give them; a user
// without identities has none; an unknown session, or one of another app,
// is NotFound.
func TestGetSessionUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		createUser(t, s, newUser("app1", "u1", "ann@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "bob@example.com", ""))
		noErr(t, "SetPasswordHash", s.SetPasswordHash(ctx, "app1", "u1", "hash", t0))
		google := newIdentity("app1", "i2", "u1", social.Google, "1098")
		apple := newIdentity("app1", "i1", "u1", social.Apple, "001.ann")
		for _, li := range []identity.LinkedIdentity{google, apple, newIdentity("app1", "i3", "u2", social.Google, "2000")} {
			noErr(t, "CreateIdentity", s.CreateIdentity(ctx, li))
		}
		noErr(t, "DeleteIdentity", s.DeleteIdentity(ctx, "app1", "u2", social.Google))
		noErr(t, "TouchIdentity", s.TouchIdentity(ctx, "app1", "i1", "ann@icloud.example.com", t0.Add(time.Hour)))
		// s1 and i1 have every column set.
		s1 := newSession("s1", "u1")
		s1.IP, s1.UserAgent, s1.Method, s1.LastUsedAt = "192.0.2.1", "test/1.0", "password", t0.Add(time.Second)
		for _, sess := range []identity.Session{s1, newSession("s2", "u2")} {
			noErr(t, "CreateSession", s.CreateSession(ctx, sess))
		}
		noErr(t, "RevokeSession", s.RevokeSession(ctx, "app1", "s1", "logout", t0.Add(time.Minute)))

		for _, c := range []struct{ session, user string }{{"s1", "u1"}, {"s2", "u2"}} {
			sess, u, ids, err := s.GetSessionUser(ctx, "app1", c.session)
			noErr(t, "GetSessionUser", err)
			wantSess, err := s.GetSession(ctx, "app1", c.session)
			noErr(t, "GetSession", err)
			equal(t, "GetSessionUser's session", sess, wantSess)
			wantUser, err := s.GetUser(ctx, "app1", c.user)
			noErr(t, "GetUser", err)
			equal(t, "GetSessionUser's user", u, wantUser)
			wantIDs, err := s.ListIdentities(ctx, "app1", c.user)
			noErr(t, "ListIdentities", err)
			equal(t, "GetSessionUser's identities", ids, wantIDs)
		}
		_, u, ids, _ := s.GetSessionUser(ctx, "app1", "s1")
		if !u.HasPassword || len(ids) != 2 || ids[0].Provider != social.Apple {
			t.Errorf("GetSessionUser(s1) = user with password %v, identities %+v; want a password and apple before google", u.HasPassword, ids)
		}
		if _, _, ids, _ := s.GetSessionUser(ctx, "app1", "s2"); len(ids) != 0 {
			t.Errorf("GetSessionUser(s2) identities = %+v, want none", ids)
		}
		_, _, _, err := s.GetSessionUser(ctx, "app1", "nope")
		wantKind(t, "GetSessionUser(unknown)", err, apperr.NotFound)
		_, _, _, err = s.GetSessionUser(ctx, "app2", "s1")
		wantKind(t, "GetSessionUser(other app)", err, apperr.NotFound)
	})
}
