package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/ratelimit"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestAddRateLimitsRace: on Postgres, a call whose first read found room
// but whose upsert then finds the row full (another transaction filled it
// and held its lock) adds its other counts, refuses that one and says
// which it added, so the caller can give them back. The other
// transaction's lock makes the race happen every time.
func TestAddRateLimitsRace(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	ctx := t.Context()
	at := func(key string, limit int) ratelimit.Add {
		return ratelimit.Add{Key: key, Start: t0, Expires: t0.Add(time.Hour), N: 1, Limit: limit}
	}
	shared, own := at("shared", 2), at("a-own", 1) // own sorts first: it is upserted before shared
	if _, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{shared}); err != nil || refused != -1 {
		t.Fatalf("AddRateLimits(shared) = %d, %v", refused, err)
	}
	tx, err := store.BeginRaw(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "UPDATE rate_limits SET count = count + 1 WHERE key = 'shared'"); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		added   []bool
		refused int
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		added, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{own, shared})
		done <- answer{added, refused, err}
	}()
	// Wait until the call waits on shared's row lock, then commit the
	// transaction that fills it.
	for {
		n, err := store.CountLockWaits(ctx, s, "%WITH v (i, key,%")
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case a := <-done:
			t.Fatalf("AddRateLimits answered %v, %d, %v before the lock was released", a.added, a.refused, a.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || a.refused != 1 || len(a.added) != 2 || !a.added[0] || a.added[1] {
		t.Fatalf("AddRateLimits(own, shared) racing a fill = %v, %d, %v; want own added, shared refused (1)", a.added, a.refused, a.err)
	}
	// Nothing else is left over: shared stays at its limit, own at 1.
	if _, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{own}); err != nil || refused != 0 {
		t.Errorf("AddRateLimits(own) after the race = %d, %v; want refused: the race added it", refused, err)
	}
	if _, refused, err := s.AddRateLimits(ctx, []ratelimit.Add{shared}); err != nil || refused != 0 {
		t.Errorf("AddRateLimits(shared) after the race = %d, %v; want refused: full", refused, err)
	}
}
