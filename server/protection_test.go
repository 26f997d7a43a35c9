package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestLockout: the failure counter is atomic under concurrent wrong
// passwords, the account locks at the app's limit, and the lock grows.
func TestLockout(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.update(t, dev, app, &adminv1.AppSettings{MaxLoginAttempts: 3}, "settings.max_login_attempts")
		e.signUp(t, dev, app, "ann@example.com")
		login := func(pw string) error {
			_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: pw})
			return err
		}

		var mu sync.Mutex
		counts := map[apperr.Reason]int{}
		var wg sync.WaitGroup
		for range 15 {
			wg.Go(func() {
				_, r := reason(login("wrong-password"))
				mu.Lock()
				counts[r]++
				mu.Unlock()
			})
		}
		wg.Wait()
		u, err := e.p.store.FindUserByEmail(ctx, app, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if u.FailedLogins != counts[apperr.ReasonInvalidCredentials] || counts[apperr.ReasonInvalidCredentials]+counts[apperr.ReasonAccountLocked] != 15 {
			t.Fatalf("15 concurrent wrong logins: answers %v, counter %d; want the counter to equal the checked ones", counts, u.FailedLogins)
		}
		err = login("long-enough-pw")
		wantReason(t, "the right password while locked", err, connect.CodeResourceExhausted, apperr.ReasonAccountLocked)
		if d := retryDelay(err); d <= 0 {
			t.Errorf("lockout carries no retry delay: %v", err)
		}
		e.clock.Advance(24*time.Hour + time.Minute)
		if err := login("long-enough-pw"); err != nil {
			t.Fatalf("login after the lock = %v", err)
		}

		// Growing backoff, one failure at a time: 1 minute, then 2.
		for range 3 {
			_ = login("wrong-password")
		}
		wantReason(t, "locked after 3", login("long-enough-pw"), connect.CodeResourceExhausted, apperr.ReasonAccountLocked)
		e.clock.Advance(61 * time.Second)
		wantReason(t, "4th failure", login("wrong-password"), connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
		e.clock.Advance(61 * time.Second)
		wantReason(t, "still locked after 1 of 2 minutes", login("long-enough-pw"), connect.CodeResourceExhausted, apperr.ReasonAccountLocked)
		e.clock.Advance(61 * time.Second)
		if err := login("long-enough-pw"); err != nil {
			t.Errorf("login after the 2-minute lock = %v", err)
		}
	})
}

func retryDelay(err error) time.Duration {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if ri, ok := v.(*errdetails.RetryInfo); ok {
				return ri.GetRetryDelay().AsDuration()
			}
		}
	}
	return 0
}

// TestLoginTiming: a wrong password and an unknown handle read the same,
// and their median times are within 20% of each other, with production
// hashing and the production database (Postgres). Not parallel: it
// measures, so it runs while the package's other tests wait.
func TestLoginTiming(t *testing.T) {
	e := newEnv(t, storetest.Postgres(t), withArgon2(19456, 2))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	e.update(t, dev, app, &adminv1.AppSettings{MaxLoginAttempts: 0}, "settings.max_login_attempts")
	e.signUp(t, dev, app, "ann@example.com")
	var known, unknown []time.Duration
	for i := range 30 {
		if i%10 == 0 {
			e.clock.Advance(11 * time.Minute) // stay under the per-IP rate limit
		}
		for _, h := range []string{"ann@example.com", fmt.Sprintf("nobody%d@example.com", i)} {
			start := time.Now()
			_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: h, Password: "wrong-password"})
			took := time.Since(start)
			wantReason(t, "Login("+h+")", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
			if h == "ann@example.com" {
				known = append(known, took)
			} else {
				unknown = append(unknown, took)
			}
		}
	}
	mk, mu := median(known), median(unknown)
	if diff := float64(max(mk, mu)-min(mk, mu)) / float64(max(mk, mu)); diff > 0.2 {
		t.Errorf("median login time: wrong password %v, unknown handle %v (%.0f%% apart, want <= 20%%)", mk, mu, diff*100)
	}
	t.Logf("median login time: wrong password %v, unknown handle %v", mk, mu)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestRateLimits: per-handle limits on ForgotPassword answer
// ResourceExhausted with a retry delay, the same for unknown handles.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	e.signUp(t, dev, app, "ann@example.com")
	for _, h := range []string{"ann@example.com", "nobody@example.com"} {
		var err error
		for range identity.LimitResetHandle.Limit + 1 {
			_, err = e.auth.ForgotPassword(as(ctx, app, ""), &authv1.ForgotPasswordRequest{Handle: h})
		}
		wantReason(t, "ForgotPassword past the limit for "+h, err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)
		if d := retryDelay(err); d <= 0 || d > time.Hour {
			t.Errorf("retry delay %v, want within the hour window", d)
		}
	}
}
