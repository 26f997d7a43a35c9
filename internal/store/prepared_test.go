package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/ratelimit"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// hotPaths runs each prepared hot-path call once on s (app1, user u1,
// session s1 and token r1 from rotateFixture) and checks its answer.
func hotPaths(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := t.Context()
	at := t0.Add(time.Minute)
	rt, sess, u, err := s.FindRefreshSession(ctx, "app1", "h1")
	noErr(t, "FindRefreshSession", err)
	if rt.ID != "r1" || sess.ID != "s1" || u.ID != "u1" {
		t.Fatalf("FindRefreshSession = %s, %s, %s; want r1, s1, u1", rt.ID, sess.ID, u.ID)
	}
	ok, err := s.RotateRefreshToken(ctx, "app1", "r1", at, successor("r2", at), refreshEvent("e2", at))
	noErr(t, "RotateRefreshToken", err)
	if !ok {
		t.Fatalf("RotateRefreshToken = false, want true")
	}
	if _, err := s.GetSession(ctx, "app1", "s1"); err != nil {
		t.Fatalf("GetSession = %v", err)
	}
	if got, err := s.GetUser(ctx, "app1", "u1"); err != nil || got.Email != "a@example.com" {
		t.Fatalf("GetUser = %v, %v; want u1 with a@example.com", got.Email, err)
	}
	if got, err := s.FindUserByEmail(ctx, "app1", "a@example.com"); err != nil || got.ID != "u1" {
		t.Fatalf("FindUserByEmail = %v, %v; want u1", got.ID, err)
	}
	if _, err := s.PasswordHash(ctx, "app1", "u1"); err != nil {
		t.Fatalf("PasswordHash = %v", err)
	}
	if ids, err := s.ListIdentities(ctx, "app1", "u1"); err != nil || len(ids) != 0 {
		t.Fatalf("ListIdentities = %v, %v; want none", ids, err)
	}
	noErr(t, "SetPasswordHash", s.SetPasswordHash(ctx, "app1", "u1", "argon2id-hash", t0)) // not a hot path: unprepared
	if got, hash, err := s.FindUserWithHash(ctx, "app1", "a@example.com", ""); err != nil || got.ID != "u1" || !got.HasPassword || hash != "argon2id-hash" {
		t.Fatalf("FindUserWithHash = %v (password %v), hash %q, %v; want u1 with its hash", got.ID, got.HasPassword, hash, err)
	}
	if sess, u, ids, err := s.GetSessionUser(ctx, "app1", "s1"); err != nil || sess.ID != "s1" || u.ID != "u1" || len(ids) != 0 {
		t.Fatalf("GetSessionUser = %s, %s, %v, %v; want s1, u1, no identities", sess.ID, u.ID, ids, err)
	}
	add := func(n, limit int) ratelimit.Add {
		return ratelimit.Add{Key: "k", Start: t0, Expires: t0.Add(time.Hour), N: n, Limit: limit}
	}
	other := ratelimit.Add{Key: "other", Start: t0, Expires: t0.Add(time.Hour), N: 1, Limit: 5}
	for want := 1; want <= 2; want++ {
		if added, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{add(1, 2)}); err != nil || refused != -1 || !added[0] {
			t.Fatalf("AddRateLimits #%d = %v, %d, %v; want added", want, added, refused, err)
		}
	}
	if added, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{other, add(1, 2)}); err != nil || refused != 1 || added[0] || added[1] {
		t.Fatalf("AddRateLimits past the limit = %v, %d, %v; want k refused, nothing added", added, refused, err)
	}
	noErr(t, "ReturnRateLimits", s.ReturnRateLimits(ctx, []ratelimit.Return{{Key: "k", Start: t0, N: 2}, {Key: "other", Start: t0, N: 1}}))
	if added, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{other, add(2, 2)}); err != nil || refused != -1 || !added[0] || !added[1] {
		t.Fatalf("AddRateLimits(2) after returning the count = %v, %d, %v; want both added", added, refused, err)
	}
	s2 := identity.Session{ID: "s2", AppID: "app1", UserID: "u1", CreatedAt: at, ExpiresAt: at.Add(time.Hour), IP: "192.0.2.1"}
	first := identity.RefreshToken{ID: "r9", AppID: "app1", SessionID: "s2", Hash: "h9", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	ev := identity.AuditEvent{ID: "e9", AppID: "app1", Action: "login", Outcome: identity.OutcomeSuccess, ActorID: "u1", SubjectID: "s2", OccurredAt: at}
	noErr(t, "OpenSession", s.OpenSession(ctx, at, s2, first, ev))
	if got, err := s.GetSession(ctx, "app1", "s2"); err != nil || got.UserID != "u1" || !got.CreatedAt.Equal(at) {
		t.Fatalf("GetSession(opened) = %+v, %v", got, err)
	}
}

// TestPreparedStatements: on Postgres the hot paths run as statements
// prepared once per connection, with the same answers as unprepared;
// prepared_statements=false (for a pooler in transaction mode) and SQLite
// prepare none.
func TestPreparedStatements(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, params string) *store.Store {
		// A long idle time keeps the one connection these sequential
		// calls use, so its prepared statements can be read back.
		url := storetest.EmptyPostgres(t) + "&pool_max_idle_time=1h" + params
		s, err := store.Open(t.Context(), url, nil)
		noErr(t, "Open", err)
		t.Cleanup(func() { s.Close() })
		noErr(t, "Migrate", s.Migrate(t.Context()))
		return s
	}
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s := open(t, "")
		rotateFixture(t, s)
		hotPaths(t, s)
		if n := store.Prepared(s); n != 13 {
			t.Errorf("%d statements prepared, want one per hot-path query (13)", n)
		}
		// Run again: the connection's statements are reused, not added.
		before := store.Prepared(s)
		for _, id := range []string{"u1", "u1"} {
			if _, err := s.GetUser(t.Context(), "app1", id); err != nil {
				t.Fatal(err)
			}
		}
		if after := store.Prepared(s); after != before {
			t.Errorf("GetUser again prepared %d more statements, want none", after-before)
		}
		stmts, err := store.PreparedOnConn(context.Background(), s)
		noErr(t, "PreparedOnConn", err)
		found := false
		for _, st := range stmts {
			found = found || (strings.Contains(st, `FROM "users"`) && strings.Contains(st, "id = $2"))
			if strings.Contains(st, "u1") || strings.Contains(st, "a@example.com") {
				t.Errorf("a prepared statement holds a value: %s", st)
			}
		}
		if !found {
			t.Errorf("the connection's prepared statements %q hold no GetUser", stmts)
		}
	})
	t.Run("postgres unprepared", func(t *testing.T) {
		t.Parallel()
		s := open(t, "&prepared_statements=false")
		rotateFixture(t, s)
		hotPaths(t, s)
		if n := store.Prepared(s); n != 0 {
			t.Errorf("prepared_statements=false: %d statements prepared, want none", n)
		}
		stmts, err := store.PreparedOnConn(context.Background(), s)
		noErr(t, "PreparedOnConn", err)
		if len(stmts) != 0 {
			t.Errorf("prepared_statements=false: the connection has %q prepared, want none", stmts)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s := storetest.SQLite(t)
		rotateFixture(t, s)
		hotPaths(t, s)
		if n := store.Prepared(s); n != 0 {
			t.Errorf("SQLite: %d statements prepared, want none", n)
		}
	})
	for _, param := range []string{"prepared_statements=maybe", "query_timeout=soon", "query_timeout=-1s"} {
		name, _, _ := strings.Cut(param, "=")
		if _, err := store.Open(t.Context(), storetest.DefaultPostgresURL+"&"+param, nil); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf(`Open(%s) = %v, want an error naming the parameter`, param, err)
		}
	}
}

// TestPreparedCanceled: a prepared statement whose caller gave up while
// Postgres was answering leaves its connection closed, not back in the
// pool with the rest of that answer unread for the next caller to take as
// its own (pgconn.go).
func TestPreparedCanceled(t *testing.T) {
	t.Parallel()
	url := storetest.EmptyPostgres(t) + "&pool_max_idle_time=1h"
	s, err := store.Open(t.Context(), url, nil)
	noErr(t, "Open", err)
	t.Cleanup(func() { s.Close() })
	const query = "SELECT $1::text || '' FROM pg_sleep($2::float8)"
	for _, v := range []string{"warm", "warm again"} { // prepared on the pool's connection
		if got, err := store.BoundQuery(t.Context(), s, query, v, 0.0); err != nil || got != v {
			t.Fatalf("BoundQuery(%q) = %q, %v", v, got, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := store.BoundQuery(ctx, s, query, "first caller", 30.0)
		done <- err
	}()
	// Cancel only once Postgres is running it, so the answer is in flight.
	admin, err := store.Open(t.Context(), url, nil)
	noErr(t, "Open(admin)", err)
	defer admin.Close()
	waitFor(t, "the slow query to run", func() bool {
		n, err := store.CountActive(t.Context(), admin, "%pg_sleep%")
		return err == nil && n > 0
	})
	cancel()
	if err := <-done; err == nil {
		t.Fatalf("the canceled query succeeded")
	}
	for _, v := range []string{"second caller", "third caller"} {
		got, err := store.BoundQuery(t.Context(), s, query, v, 0.0)
		if err != nil || got != v {
			t.Fatalf("BoundQuery(%q) after a canceled one = %q, %v; want its own answer", v, got, err)
		}
	}
}

// waitFor polls cond until it holds, giving up after a minute: a bound a
// loaded machine does not reach, not a speed check.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within a minute", what)
		}
	}
}
