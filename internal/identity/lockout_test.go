package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestLockout: under concurrent wrong passwords the failure counter equals
// the attempts that were checked (the others were refused as locked), the
// account locks at the app's limit with a retry delay, and each failure
// past the limit doubles the lock.
func TestLockout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		const limit, attempts = 3, 15
		f.settings(t, func(s *identity.AppSettings) { s.MaxLoginAttempts = limit })
		login := func(pw string) error {
			return errOf(f.svc.Login(ctx, f.caller, "ann@example.com", identity.Secret(pw)))
		}

		var mu sync.Mutex
		answers := map[apperr.Reason]int{}
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				r := apperr.ReasonOf(login("wrong-password"))
				mu.Lock()
				answers[r]++
				mu.Unlock()
			})
		}
		wg.Wait()
		checked, locked := answers[apperr.ReasonInvalidCredentials], answers[apperr.ReasonAccountLocked]
		if u := f.user(t, "ann"); u.FailedLogins != checked || checked+locked != attempts || checked < limit {
			t.Fatalf("%d concurrent wrong passwords: answers %v, counter %d; want the counter to equal the checked ones (at least %d)", attempts, answers, u.FailedLogins, limit)
		}
		err := login(rightPassword)
		wantReason(t, "the right password while locked", err, apperr.ReasonAccountLocked)
		if ae := (*apperr.Error)(nil); !errors.As(err, &ae) || ae.RetryAfter() <= 0 {
			t.Errorf("the lockout carries no retry delay: %v", err)
		}

		f.clock.Advance(24*time.Hour + time.Minute) // the longest lock
		wantReason(t, "the right password after the lock", login(rightPassword), "")
		if u := f.user(t, "ann"); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
			t.Errorf("after a login the counter is %d, locked until %v; want both cleared", u.FailedLogins, u.LockedUntil)
		}

		// Growing backoff, one failure at a time: 1 minute, then 2.
		steps := []struct {
			name     string
			advance  time.Duration
			password string
			want     apperr.Reason
		}{
			{"1st failure", 0, "wrong-password", apperr.ReasonInvalidCredentials},
			{"2nd failure", 0, "wrong-password", apperr.ReasonInvalidCredentials},
			{"3rd failure", 0, "wrong-password", apperr.ReasonInvalidCredentials},
			{"the right password at the limit", 0, rightPassword, apperr.ReasonAccountLocked},
			{"4th failure after the 1-minute lock", 61 * time.Second, "wrong-password", apperr.ReasonInvalidCredentials},
			{"1 minute into the 2-minute lock", 61 * time.Second, rightPassword, apperr.ReasonAccountLocked},
			{"after the 2-minute lock", 61 * time.Second, rightPassword, ""},
		}
		for _, s := range steps {
			f.clock.Advance(s.advance)
			wantReason(t, s.name, login(s.password), s.want)
		}
	})
}
