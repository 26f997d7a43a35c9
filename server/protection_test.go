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

// TestLockout: failed logins are counted exactly under concurrent wrong
// passwords, the client locks at the app's limit (the owner elsewhere is
// not: internal/identity's TestLockout varies the client), an unknown
// handle locks and answers the same, and the lock ends with its window.
func TestLockout(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.update(t, dev, app, &adminv1.AppSettings{MaxLoginAttempts: 3}, "settings.max_login_attempts")
		e.signUp(t, dev, app, "ann@example.com")
		login := func(handle, pw string) error {
			_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: handle, Password: pw})
			return err
		}

		var locked [2]*connect.Error
		for i, handle := range []string{"ann@example.com", "nobody@example.com"} {
			var mu sync.Mutex
			counts := map[apperr.Reason]int{}
			var wg sync.WaitGroup
			for range 15 {
				wg.Go(func() {
					_, r := reason(login(handle, "wrong-password"))
					mu.Lock()
					counts[r]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if counts[apperr.ReasonInvalidCredentials] != 3 || counts[apperr.ReasonAccountLocked] != 12 {
				t.Fatalf("15 concurrent wrong logins to %s: answers %v; want exactly 3 checked and 12 locked", handle, counts)
			}
			err := login(handle, "long-enough-pw")
			wantReason(t, "the right password while locked", err, connect.CodeResourceExhausted, apperr.ReasonAccountLocked)
			if d := retryDelay(err); d <= 0 || d > identity.LoginLockWindow {
				t.Errorf("lockout retry delay %v, want within the lock window", d)
			}
			if !errors.As(err, &locked[i]) {
				t.Fatalf("Login = %T, want a connect error", err)
			}
		}
		if a, b := locked[0], locked[1]; a.Message() != b.Message() || a.Code() != b.Code() {
			t.Errorf("a locked account answers %v, a locked unknown handle %v; want the same", a, b)
		}
		e.clock.Advance(identity.LoginLockWindow)
		if err := login("ann@example.com", "long-enough-pw"); err != nil {
			t.Fatalf("login after the lock window = %v", err)
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

// TestDeveloperLimits over the Connect edge: app creations past the
// developer's daily limit answer ResourceExhausted RATE_LIMITED with a
// retry delay (a failed creation counts nothing), and an anonymous user's
// Invite is PermissionDenied.
func TestDeveloperLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	_, err := e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: " "})
	wantReason(t, "CreateApp with a blank name", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument)
	app := e.appWithNameField(t, dev)
	for i := 1; i < identity.LimitAppsDeveloper.Limit; i++ {
		if _, err := e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: "App"}); err != nil {
			t.Fatalf("CreateApp %d = %v", i, err)
		}
	}
	_, err = e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: "One too many"})
	wantReason(t, "CreateApp past the daily limit", err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)
	if d := retryDelay(err); d <= 0 || d > identity.LimitAppsDeveloper.Window {
		t.Errorf("retry delay %v, want within the day", d)
	}

	e.update(t, dev, app, &adminv1.AppSettings{AnonymousLoginEnabled: true, InvitesEnabled: true},
		"settings.anonymous_login_enabled", "settings.invites_enabled")
	anon, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.auth.Invite(as(ctx, app, anon.GetSession().GetAccessToken()), &authv1.InviteRequest{Handle: "victim@example.com"})
	wantReason(t, "Invite by an anonymous user", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
}
