package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// loginAnswers sends n concurrent logins and counts the answers by reason
// ("" for a session).
func loginAnswers(t *testing.T, svc *identity.Service, c identity.Caller, n int, handle, pw string) map[apperr.Reason]int {
	t.Helper()
	var mu sync.Mutex
	counts := map[apperr.Reason]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := svc.Login(context.Background(), c, handle, identity.Secret(pw))
			mu.Lock()
			counts[apperr.ReasonOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

// TestLockout runs on both databases: failed logins are counted exactly
// under concurrency, per account and client, so a stranger's guesses lock
// only the stranger out; an unknown handle locks the same way; a right
// password clears the client's count; the lock ends with its window.
func TestLockout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2) // 3 attempts
		clk := &testClock{t: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
		svc := e.limited(clk.Now)
		ctx := context.Background()
		stranger := identity.Caller{AppID: e.app, IP: "198.51.100.7"}
		owner := identity.Caller{AppID: e.app, IP: "192.0.2.1"}

		got := loginAnswers(t, svc, stranger, 15, "ann@example.com", "wrong-password")
		if got[apperr.ReasonInvalidCredentials] != 3 || got[apperr.ReasonAccountLocked] != 12 {
			t.Fatalf("15 concurrent wrong logins: %v; want exactly 3 checked and 12 locked", got)
		}
		// The user name is the same account: it is locked too.
		_, lockedErr := svc.Login(ctx, stranger, "ann", rightPassword)
		wantReason(t, "the right password by user name from the stranger's client", lockedErr, apperr.ReasonAccountLocked)
		var e1 *apperr.Error
		if !errors.As(lockedErr, &e1) || e1.RetryAfter() <= 0 || e1.RetryAfter() > identity.LoginLockWindow {
			t.Errorf("lockout retry delay = %v, want within the lock window", lockedErr)
		}
		if _, err := svc.Login(ctx, owner, "ann@example.com", rightPassword); err != nil {
			t.Fatalf("the owner from another client = %v, want a session", err)
		}

		got = loginAnswers(t, svc, stranger, 15, "nobody@example.com", "wrong-password")
		if got[apperr.ReasonInvalidCredentials] != 3 || got[apperr.ReasonAccountLocked] != 12 {
			t.Fatalf("15 concurrent logins to an unknown handle: %v; want 3 checked and 12 locked, as for an account", got)
		}
		_, unknownErr := svc.Login(ctx, stranger, "nobody@example.com", rightPassword)
		if unknownErr == nil || unknownErr.Error() != lockedErr.Error() {
			t.Errorf("a locked unknown handle answers %v, a locked account %v; want the same", unknownErr, lockedErr)
		}

		// A right password clears the client's failures: 2 wrong, right, 2 wrong is not locked.
		for i, pw := range []string{"x", "y", rightPassword, "x", "y"} {
			_, err := svc.Login(ctx, owner, "lou@example.com", identity.Secret(pw))
			if want := apperr.ReasonInvalidCredentials; pw == rightPassword && err != nil || pw != rightPassword && apperr.ReasonOf(err) != want {
				t.Fatalf("owner's login %d to lou = %v", i, err)
			}
		}

		clk.Advance(identity.LoginLockWindow)
		if _, err := svc.Login(ctx, stranger, "ann@example.com", rightPassword); err != nil {
			t.Errorf("after the lock window = %v, want a session", err)
		}
	})
}

// TestLoginHandleLimit runs on both databases: failures to one handle from
// many clients, each under the lockout, stop at the handle's global limit
// exactly, for an account and an unknown handle alike; past it everyone,
// the owner too, reads RATE_LIMITED until the window ends.
func TestLoginHandleLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2)
		clk := &testClock{t: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
		svc := e.limited(clk.Now)
		ctx := context.Background()
		limit := identity.LimitLoginHandle.Limit
		for _, handle := range []string{"kim@example.com", "nobody@example.com"} {
			var mu sync.Mutex
			counts := map[apperr.Reason]int{}
			var wg sync.WaitGroup
			for i := range limit + 20 {
				wg.Go(func() {
					c := identity.Caller{AppID: e.app, IP: fmt.Sprintf("203.0.113.%d", i/2)} // 2 each, under the lockout
					_, err := svc.Login(ctx, c, handle, "wrong-password")
					mu.Lock()
					counts[apperr.ReasonOf(err)]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if counts[apperr.ReasonInvalidCredentials] != limit || counts[apperr.ReasonRateLimited] != 20 {
				t.Fatalf("%d concurrent wrong logins to %s: %v; want exactly %d checked and 20 limited", limit+20, handle, counts, limit)
			}
		}
		owner := identity.Caller{AppID: e.app, IP: "192.0.2.1"}
		_, err := svc.Login(ctx, owner, "kim@example.com", rightPassword)
		wantReason(t, "the owner past the handle's limit", err, apperr.ReasonRateLimited)
		if _, err := svc.Login(ctx, owner, "ann@example.com", rightPassword); err != nil {
			t.Errorf("another account = %v, want a session", err)
		}
		clk.Advance(identity.LimitLoginHandle.Window)
		if _, err := svc.Login(ctx, owner, "kim@example.com", rightPassword); err != nil {
			t.Errorf("the owner in the next window = %v, want a session", err)
		}
	})
}
