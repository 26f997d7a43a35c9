package identity_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/password"
	"github.com/cosync/cosync-auth/internal/ratelimit"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// limitsEnv is an app with invitations and anonymous sign-in on, owned by
// developer dev1, and a Service that keeps the rate limits, over st.
type limitsEnv struct {
	svc    *identity.Service
	outbox notify.FlushedOutbox
	clock  *testClock
	app    string
	dev    identity.Developer
}

func newLimitsEnv(t *testing.T, st *store.Store) *limitsEnv {
	t.Helper()
	return newLimitsEnvWith(t, st, identity.Config{})
}

// newLimitsEnvWith is newLimitsEnv with the Service configured by cfg.
func newLimitsEnvWith(t *testing.T, st *store.Store, cfg identity.Config) *limitsEnv {
	t.Helper()
	ctx := context.Background()
	clk := &testClock{t: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	settings := identity.DefaultSettings()
	settings.InvitesEnabled, settings.AnonymousLoginEnabled = true, true
	a := identity.App{ID: "app1", Name: "Notes", Settings: settings, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := st.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	dev := identity.Developer{ID: "dev1", IP: "192.0.2.1"}
	if err := st.PutMember(ctx, identity.Member{AppID: a.ID, DeveloperID: dev.ID, Role: identity.RoleOwner, CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	ob := notify.NewOutbox(st, nil, clk.Now)
	svc := identity.New(identity.Deps{Store: st, Passwords: password.NewHasher(cheapArgon2, 4),
		Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")), Tokens: fakeTokens{},
		Now: clk.Now, Limiter: ratelimit.New(st, clk.Now)}, cfg)
	// Mail leaves through the send queue; counting it runs a pass first.
	outbox := notify.FlushedOutbox{Worker: notify.NewWorker(st, ob, svc, notify.WorkerConfig{}, nil, clk.Now), Outbox: ob}
	return &limitsEnv{svc: svc, outbox: outbox, clock: clk, app: a.ID, dev: dev}
}

// mails counts the app's messages in the outbox.
func (e *limitsEnv) mails(t *testing.T) int {
	t.Helper()
	msgs, err := e.outbox.List(context.Background(), e.app, 5000)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func invitations(from, n int) []identity.InviteInput {
	ins := make([]identity.InviteInput, n)
	for i := range ins {
		ins[i] = identity.InviteInput{Handle: fmt.Sprintf("p%d@example.com", from+i)}
	}
	return ins
}

// TestAnonymousCannotInvite: an anonymous user's Invite is refused with
// PERMISSION_DENIED and mails nothing.
func TestAnonymousCannotInvite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newLimitsEnv(t, st)
		ctx := context.Background()
		sess, err := e.svc.LoginAnonymous(ctx, identity.Caller{AppID: e.app, IP: "192.0.2.9"})
		if err != nil {
			t.Fatal(err)
		}
		before := e.mails(t)
		err = e.svc.Invite(ctx, identity.Principal{AppID: e.app, UserID: sess.User.ID, IP: "192.0.2.9"}, identity.InviteInput{Handle: "victim@example.com"})
		if !apperr.Is(err, apperr.Permission) || apperr.ReasonOf(err) != apperr.ReasonPermissionDenied {
			t.Errorf("Invite by an anonymous user = %v, want PermissionDenied PERMISSION_DENIED", err)
		}
		if n := e.mails(t); n != before {
			t.Errorf("the refused invite mailed %d messages", n-before)
		}
	})
}

// TestInvitationLimits: one call takes at most MaxInvitationsPerCall; every
// address counts against the app's daily limit; a call that does not fit
// is refused whole (RATE_LIMITED with a retry delay), mails nothing and
// counts nothing; the next day starts afresh.
func TestInvitationLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newLimitsEnv(t, st)
		ctx := context.Background()
		_, err := e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(0, identity.MaxInvitationsPerCall+1))
		if !apperr.Is(err, apperr.Invalid) || !hasViolation(err, "invitations") {
			t.Fatalf("CreateInvitations of %d = %v, want InvalidArgument on invitations", identity.MaxInvitationsPerCall+1, err)
		}
		limit, sent := identity.LimitInvitesApp.Limit, 0
		for sent < limit-100 {
			n := min(identity.MaxInvitationsPerCall, limit-100-sent)
			if _, err := e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(sent, n)); err != nil {
				t.Fatalf("CreateInvitations of %d after %d = %v", n, sent, err)
			}
			sent += n
		}
		before := e.mails(t)
		_, err = e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(sent, 101))
		if apperr.ReasonOf(err) != apperr.ReasonRateLimited || retryAfter(err) <= 0 {
			t.Fatalf("CreateInvitations of 101 with 100 left = %v, want RATE_LIMITED with a retry delay", err)
		}
		if n := e.mails(t); n != before {
			t.Errorf("the refused call mailed %d messages", n-before)
		}
		if _, err := e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(sent, 100)); err != nil {
			t.Fatalf("CreateInvitations of the 100 left = %v (the refused call must count nothing)", err)
		}
		sent += 100
		_, err = e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(sent, 1))
		wantReason(t, "CreateInvitations past the daily limit", err, apperr.ReasonRateLimited)
		e.clock.Advance(identity.LimitInvitesApp.Window)
		if _, err := e.svc.CreateInvitations(ctx, e.dev, e.app, invitations(sent, 1)); err != nil {
			t.Errorf("CreateInvitations the next day = %v", err)
		}
	})
}

// TestDeveloperLimits: app creations and test sends count per developer
// (and per app), answer RATE_LIMITED past the limit, and a developer who
// is not a member counts nothing against the app.
func TestDeveloperLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newLimitsEnv(t, st)
		ctx := context.Background()
		for i := range identity.LimitAppsDeveloper.Limit {
			giveBack, err := e.svc.TakeAppCreation(ctx, e.dev)
			if err != nil {
				t.Fatalf("app creation %d = %v", i, err)
			}
			if i == 0 { // a failed creation gives its count back
				giveBack()
			}
		}
		if _, err := e.svc.TakeAppCreation(ctx, e.dev); err != nil {
			t.Fatalf("the last app creation (one was given back) = %v", err)
		}
		_, err := e.svc.TakeAppCreation(ctx, e.dev)
		if apperr.ReasonOf(err) != apperr.ReasonRateLimited || retryAfter(err) <= 0 {
			t.Errorf("app creation past the daily limit = %v, want RATE_LIMITED with a retry delay", err)
		}
		if _, err := e.svc.TakeAppCreation(ctx, identity.Developer{ID: "dev2"}); err != nil {
			t.Errorf("another developer's app creation = %v", err)
		}

		stranger := identity.Developer{ID: "dev2"}
		for range identity.LimitTestSendApp.Limit + 5 {
			_, err := e.svc.TakeTestSend(ctx, stranger, e.app)
			wantReason(t, "a test send by a non-member", err, apperr.ReasonAppNotFound)
		}
		for i := range identity.LimitTestSendApp.Limit {
			if _, err := e.svc.TakeTestSend(ctx, e.dev, e.app); err != nil {
				t.Fatalf("test send %d = %v (a non-member's tries must count nothing)", i, err)
			}
		}
		_, err = e.svc.TakeTestSend(ctx, e.dev, e.app)
		wantReason(t, "a test send past the app's hourly limit", err, apperr.ReasonRateLimited)
		e.clock.Advance(identity.LimitTestSendApp.Window)
		if _, err := e.svc.TakeTestSend(ctx, e.dev, e.app); err != nil {
			t.Errorf("a test send the next hour = %v", err)
		}
	})
}

func hasViolation(err error, field string) bool {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, v := range e.Violations() {
		if v.Field == field {
			return true
		}
	}
	return false
}

func retryAfter(err error) time.Duration {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return 0
	}
	return e.RetryAfter()
}

// TestConfiguredLimits: the server's configured rules replace the built-in
// defaults; an app's override replaces the server's rule for that app only;
// a rule keyed by developer ignores an app's override; EffectiveLimits shows
// what is in force, the lockout last.
func TestConfiguredLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		cfg := identity.Config{RateLimits: []identity.LimitRule{
			{Name: "signup:ip", Limit: 2, Window: time.Hour},
			{Name: "apps:developer", Limit: 1, Window: time.Hour},
		}}
		e := newLimitsEnvWith(t, st, cfg)
		ctx := context.Background()
		anon := func() error {
			_, err := e.svc.LoginAnonymous(ctx, identity.Caller{AppID: e.app, IP: "192.0.2.9"})
			return err
		}
		for i := range 2 {
			if err := anon(); err != nil {
				t.Fatalf("anonymous sign-in %d under the configured signup:ip=2/1h = %v", i, err)
			}
		}
		wantReason(t, "the third anonymous sign-in under signup:ip=2/1h", anon(), apperr.ReasonRateLimited)

		a, err := st.GetApp(ctx, e.app)
		if err != nil {
			t.Fatal(err)
		}
		a.Settings.RateLimits = []identity.LimitRule{{Name: "signup:ip", Limit: 5, Window: time.Hour}}
		if err := a.Settings.Validate(); err != nil {
			t.Fatalf("Validate(override signup:ip) = %v", err)
		}
		if err := st.UpdateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		// Two counted so far (a refused attempt counts nothing): three more fit.
		for i := range 3 {
			if err := anon(); err != nil {
				t.Fatalf("anonymous sign-in %d under the app's signup:ip=5/1h = %v", 3+i, err)
			}
		}
		wantReason(t, "the sixth anonymous sign-in under the app's signup:ip=5/1h", anon(), apperr.ReasonRateLimited)

		if _, err := e.svc.TakeAppCreation(ctx, e.dev); err != nil {
			t.Fatalf("the first app creation under apps:developer=1/1h = %v", err)
		}
		_, err = e.svc.TakeAppCreation(ctx, e.dev)
		wantReason(t, "the second app creation under apps:developer=1/1h", err, apperr.ReasonRateLimited)

		got := map[string]identity.LimitRule{}
		eff := e.svc.EffectiveLimits(a.Settings)
		for _, r := range eff {
			got[r.Name] = r
		}
		want := map[string]identity.LimitRule{
			"signup:ip":  {Name: "signup:ip", Limit: 5, Window: time.Hour},
			"login:ip":   identity.LimitLoginIP,
			"login:lock": {Name: "login:lock", Limit: a.Settings.MaxLoginAttempts, Window: identity.LoginLockWindow},
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("EffectiveLimits()[%s] = %+v, want %+v", name, got[name], w)
			}
		}
		if _, ok := got["apps:developer"]; ok {
			t.Errorf("EffectiveLimits() lists apps:developer, a rule keyed by developer")
		}
		if last := eff[len(eff)-1]; last.Name != identity.LimitLoginLock {
			t.Errorf("EffectiveLimits() ends with %s, want the lockout", last.Name)
		}
	})
}

// TestRateLimitSettingsValidate: an app's overrides name known,
// app-overridable rules once each, within the contract's bounds; each
// refusal names the field.
func TestRateLimitSettingsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []identity.LimitRule
		field string // "" when valid
	}{
		{"override", []identity.LimitRule{{Name: "login:ip", Limit: 600, Window: 10 * time.Minute}}, ""},
		{"unknown", []identity.LimitRule{{Name: "login:ip", Limit: 1, Window: time.Minute}, {Name: "nope", Limit: 1, Window: time.Minute}}, "settings.rate_limits[1].name"},
		{"server-wide", []identity.LimitRule{{Name: "invites:app", Limit: 99999, Window: time.Hour}}, "settings.rate_limits[0].name"},
		{"lockout", []identity.LimitRule{{Name: "login:lock", Limit: 3, Window: time.Hour}}, "settings.rate_limits[0].name"},
		{"twice", []identity.LimitRule{{Name: "code:ip", Limit: 1, Window: time.Minute}, {Name: "code:ip", Limit: 2, Window: time.Minute}}, "settings.rate_limits[1].name"},
		{"zero limit", []identity.LimitRule{{Name: "code:ip", Limit: 0, Window: time.Minute}}, "settings.rate_limits[0].limit"},
		{"short window", []identity.LimitRule{{Name: "code:ip", Limit: 5, Window: time.Millisecond}}, "settings.rate_limits[0].window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := identity.DefaultSettings()
			s.RateLimits = tc.rules
			err := s.Validate()
			if tc.field == "" {
				if err != nil {
					t.Errorf("Validate(%+v) = %v, want nil", tc.rules, err)
				}
				return
			}
			if !apperr.Is(err, apperr.Invalid) || !hasViolation(err, tc.field) {
				t.Errorf("Validate(%+v) = %v, want InvalidArgument on %s", tc.rules, err, tc.field)
			}
		})
	}
}
