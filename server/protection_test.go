package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
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
