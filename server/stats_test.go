package main

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// at moves the test clock forward to t.
func (e *env) at(tb testing.TB, t time.Time) {
	tb.Helper()
	d := t.Sub(e.clock.Now())
	if d < 0 {
		tb.Fatalf("the clock is at %v, past %v", e.clock.Now(), t)
	}
	e.clock.Advance(d)
}

func (e *env) stats(tb testing.TB, dev, app, start, end string) *adminv1.GetStatsResponse {
	tb.Helper()
	res, err := e.admin.GetStats(as(context.Background(), "", dev), &adminv1.GetStatsRequest{AppId: app, StartDate: start, EndDate: end})
	if err != nil {
		tb.Fatalf("GetStats(%s, %s) = %v", start, end, err)
	}
	return res
}

func (e *env) rollup(tb testing.TB) int {
	tb.Helper()
	n, err := e.p.console.RollupStats(context.Background())
	if err != nil {
		tb.Fatalf("RollupStats = %v", err)
	}
	return n
}

// dayCounts is a DailyStats without its rates, for comparing.
type dayCounts struct {
	Date                                               string
	Signups, Completions, InvitesSent, InvitesAccepted int64
	Logins, Failures, Active, Users, TwoFactorUsers    int64
}

func countsOf(d *adminv1.DailyStats) dayCounts {
	return dayCounts{d.GetDate(), d.GetSignups(), d.GetSignupCompletions(), d.GetInvitesSent(), d.GetInvitesAccepted(),
		d.GetLogins(), d.GetLoginFailures(), d.GetActiveUsers(), d.GetUsers(), d.GetTwoFactorUsers()}
}

func wantDays(tb testing.TB, what string, got *adminv1.GetStatsResponse, want []dayCounts) {
	tb.Helper()
	var days []dayCounts
	for _, d := range got.GetDays() {
		days = append(days, countsOf(d))
	}
	if !reflect.DeepEqual(days, want) {
		tb.Errorf("%s: days =\n  %+v\nwant\n  %+v", what, days, want)
	}
}

// TestStats walks an app through three days with a test clock: signups
// (one never completed), logins and a failure, an invitation sent and
// accepted, a refresh, a second factor and an anonymous login. The closed
// days come from the rollup, the open day live; an event committed late
// into a rolled day shows once the day is rolled again; concurrent and
// repeated rollups give the same rows.
func TestStats(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		e.enableInvites(t, dev, app)
		e.update(t, dev, app, &adminv1.AppSettings{AnonymousLoginEnabled: true, TwoFactor: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP},
			"settings.anonymous_login_enabled", "settings.two_factor")

		d1 := time.Date(e.clock.Now().Year(), e.clock.Now().Month(), e.clock.Now().Day()+1, 0, 0, 0, 0, time.UTC)
		d2, d3, d4 := d1.AddDate(0, 0, 1), d1.AddDate(0, 0, 2), d1.AddDate(0, 0, 3)
		date := func(d time.Time) string { return d.Format("2006-01-02") }
		devAt := func() string { return e.login(t, identity.ConsoleAppID, "dev@example.com", "dev-password-1") }

		// Day 1: ann signs up, bob starts and never finishes, ann logs in
		// once and fails once, and invites carl.
		e.at(t, d1.Add(10*time.Hour))
		dev = devAt()
		ann := e.signUp(t, dev, app, "ann@example.com")
		if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bob@example.com", Password: "long-enough-pw",
			Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bob"}})}); err != nil {
			t.Fatalf("SignUp(bob) = %v", err)
		}
		annLogin, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
		if err != nil {
			t.Fatalf("Login(ann) = %v", err)
		}
		_, err = e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
		wantReason(t, "Login(wrong password)", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
		if _, err := e.auth.Invite(as(ctx, app, ann.GetAccessToken()), &authv1.InviteRequest{Handle: "carl@example.com",
			Metadata: mustStruct(t, map[string]any{"team": "blue"})}); err != nil {
			t.Fatalf("Invite(carl) = %v", err)
		}
		carlCode := e.outboxCode(t, dev, app, "carl@example.com")

		// Day 2: carl registers, ann refreshes and turns on an
		// authenticator, someone signs in anonymously.
		e.at(t, d2.Add(9*time.Hour))
		if _, err := e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "carl@example.com", Password: "long-enough-pw",
			InviteCode: carlCode, Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Carl"}})}); err != nil {
			t.Fatalf("Register(carl) = %v", err)
		}
		refreshed, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: annLogin.GetSession().GetRefreshToken()})
		if err != nil {
			t.Fatalf("RefreshSession(ann) = %v", err)
		}
		e.enrollTOTP(t, app, refreshed.GetSession().GetAccessToken())
		if _, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{}); err != nil {
			t.Fatalf("LoginAnonymous = %v", err)
		}

		// Day 3, open: the rollup closes days 1 and 2 (and the developer's
		// day 0); carl logs in, and fails once.
		e.at(t, d3.Add(8*time.Hour))
		if n := e.rollup(t); n < 2 {
			t.Fatalf("RollupStats rolled %d days, want at least 2", n)
		}
		if n := e.rollup(t); n != 0 {
			t.Errorf("RollupStats again the same day rolled %d days, want 0", n)
		}
		e.login(t, app, "carl@example.com", "long-enough-pw")
		_, err = e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "carl@example.com", Password: "wrong-password"})
		wantReason(t, "Login(carl, wrong password)", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)

		dev = devAt()
		day1 := dayCounts{date(d1), 2, 1, 1, 0, 1, 1, 1, 1, 0}
		day2 := dayCounts{date(d2), 0, 0, 0, 1, 1, 0, 3, 3, 1}
		day3 := dayCounts{date(d3), 0, 0, 0, 0, 1, 1, 1, 3, 1}
		res := e.stats(t, dev, app, date(d1), date(d3))
		wantDays(t, "days 1-3 (3 open)", res, []dayCounts{day1, day2, day3})
		tot := res.GetTotals()
		if got, want := countsOf(tot), (dayCounts{"", 2, 1, 1, 1, 3, 2, 3, 3, 1}); got != want {
			t.Errorf("totals = %+v, want %+v (active: ann, carl and the anonymous user)", got, want)
		}
		if tot.GetSignupConversion() != 0.5 || tot.GetInviteConversion() != 1 {
			t.Errorf("conversion = %v signup, %v invite; want 0.5 and 1", tot.GetSignupConversion(), tot.GetInviteConversion())
		}
		if want := map[string]int64{"password": 2, "anonymous": 1}; !reflect.DeepEqual(res.GetUsersByProvider(), want) {
			t.Errorf("users by provider = %v, want %v", res.GetUsersByProvider(), want)
		}
		// The default range: the 30 days ending today.
		if def := e.stats(t, dev, app, "", ""); len(def.GetDays()) != 30 || def.GetDays()[29].GetDate() != date(d3) {
			t.Errorf("default range: %d days ending %s, want 30 ending %s", len(def.GetDays()), def.GetDays()[len(def.GetDays())-1].GetDate(), date(d3))
		}

		// A login whose transaction committed after day 2 was rolled.
		if err := e.p.store.InsertAuditEvent(ctx, identity.AuditEvent{ID: "late-login", AppID: app, Action: "user.login",
			Outcome: identity.OutcomeSuccess, ActorID: "late-user", SubjectID: "late-user", OccurredAt: d3.Add(-time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		wantDays(t, "day 2 before its re-roll", e.stats(t, dev, app, date(d2), date(d2)), []dayCounts{day2})

		// Day 4: two replicas roll at once: day 2 again, and day 3.
		e.at(t, d4.Add(time.Hour))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { _, errs[i] = e.p.console.RollupStats(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent RollupStats = %v", err)
			}
		}
		day2.Logins, day2.Active = 2, 4
		dev = devAt()
		res = e.stats(t, dev, app, date(d1), date(d4))
		wantDays(t, "days 1-4 after the re-roll (3 rolled, as counted live)", res, []dayCounts{day1, day2, day3, {date(d4), 0, 0, 0, 0, 0, 0, 0, 3, 1}})
		if got := res.GetTotals().GetActiveUsers(); got != 4 {
			t.Errorf("totals: active users = %d, want 4", got)
		}
		if n := e.rollup(t); n != 0 {
			t.Errorf("a third RollupStats on day 4 rolled %d days, want 0", n)
		}
		wantDays(t, "days 1-4 after another rollup", e.stats(t, dev, app, date(d1), date(d4)), []dayCounts{day1, day2, day3, {date(d4), 0, 0, 0, 0, 0, 0, 0, 3, 1}})
	})
}

// TestStatsRefusals: bad ranges are InvalidArgument naming the field, and
// a stranger sees no app.
func TestStatsRefusals(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		for _, tc := range []struct {
			name, start, end, field string
		}{
			{"end before start", "2026-03-02", "2026-03-01", "end_date"},
			{"367 days", "2025-01-01", "2026-01-02", "end_date"},
			{"not a date", "2026-02-30", "2026-03-01", "start_date"},
			{"not a date shape", "2026-3-1", "", "start_date"},
		} {
			_, err := e.admin.GetStats(as(ctx, "", dev), &adminv1.GetStatsRequest{AppId: app, StartDate: tc.start, EndDate: tc.end})
			if c, _ := reason(err); c != connect.CodeInvalidArgument || !containsField(fields(err), tc.field) {
				t.Errorf("GetStats(%s) = %v, want InvalidArgument naming %s", tc.name, err, tc.field)
			}
		}
		if _, err := e.admin.GetStats(as(ctx, "", dev), &adminv1.GetStatsRequest{AppId: app, StartDate: "2025-01-01", EndDate: "2026-01-01"}); err != nil {
			t.Errorf("GetStats(366 days) = %v, want the year", err)
		}
		stranger := e.developer(t, "eve@example.com")
		_, err := e.admin.GetStats(as(ctx, "", stranger), &adminv1.GetStatsRequest{AppId: app})
		if c, _ := reason(err); c != connect.CodeNotFound {
			t.Errorf("GetStats by a stranger = %v, want NotFound", err)
		}
		// curl-style JSON, as the README shows it.
		code, _ := e.post(t, "/cosync.admin.v1.AdminService/GetStats", map[string]string{"Authorization": "Bearer " + dev},
			[]byte(fmt.Sprintf(`{"app_id": %q, "start_date": "2026-01-01", "end_date": "2026-01-07"}`, app)))
		if code != 200 {
			t.Errorf("GetStats over JSON: HTTP %d, want 200", code)
		}
	})
}

func containsField(fs []string, f string) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}
