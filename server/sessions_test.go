package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestCodeGuessing: 50 concurrent wrong guesses at one signup code; at most
// five are checked, and the right code afterwards is refused.
func TestCodeGuessing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		actx := as(ctx, app, "")
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Cy"}})
		if _, err := e.auth.SignUp(actx, &authv1.SignUpRequest{Handle: "cy@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatal(err)
		}
		right := e.outboxCode(t, dev, app, "cy@example.com")
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)

		var mu sync.Mutex
		counts := map[apperr.Reason]int{}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				_, err := e.auth.CompleteSignUp(actx, &authv1.CompleteSignUpRequest{Handle: "cy@example.com", Code: wrong})
				_, r := reason(err)
				mu.Lock()
				counts[r]++
				mu.Unlock()
			})
		}
		wg.Wait()
		// Each guess is checked against the code (at most 5), refused as the
		// code is dead, or refused earlier by the per-handle rate limit.
		if counts[apperr.ReasonInvalidCode] > 5 || counts[apperr.ReasonTooManyAttempts] == 0 ||
			counts[apperr.ReasonInvalidCode]+counts[apperr.ReasonTooManyAttempts]+counts[apperr.ReasonRateLimited] != 50 {
			t.Errorf("50 concurrent wrong guesses answered %v; want at most 5 INVALID_CODE, the rest TOO_MANY_ATTEMPTS or RATE_LIMITED", counts)
		}
		_, err := e.auth.CompleteSignUp(actx, &authv1.CompleteSignUpRequest{Handle: "cy@example.com", Code: right})
		if code, r := reason(err); err == nil || (r != apperr.ReasonTooManyAttempts && r != apperr.ReasonRateLimited) {
			t.Errorf("right code after the limit = %v %q, want it refused", code, r)
		}
		if _, err := e.p.store.FindUserByEmail(ctx, app, "cy@example.com"); err == nil {
			t.Error("the account was created after 50 wrong guesses")
		}
	})
}

// TestCodeExpiry: a signup code is dead after 24 hours.
func TestCodeExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Di"}})
	if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "di@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
		t.Fatal(err)
	}
	code := e.outboxCode(t, dev, app, "di@example.com")
	e.clock.Advance(24*time.Hour + time.Second)
	_, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "di@example.com", Code: code})
	if c, r := reason(err); c != connect.CodeFailedPrecondition || r != apperr.ReasonCodeExpired {
		t.Errorf("CompleteSignUp after 24h = %v %q, want CODE_EXPIRED", c, r)
	}
}

// TestRefreshRotation: a refresh token works once; its reuse after the
// grace ends the whole session, while a concurrent double refresh within
// the grace keeps the user signed in.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		actx := as(ctx, app, "")
		first := e.signUp(t, dev, app, "ed@example.com")

		// Concurrent double refresh: both succeed, both children work.
		var wg sync.WaitGroup
		results := make([]*authv1.Session, 4)
		errs := make([]error, 4)
		for i := range results {
			wg.Go(func() {
				res, err := e.auth.RefreshSession(actx, &authv1.RefreshSessionRequest{RefreshToken: first.GetRefreshToken()})
				results[i], errs[i] = res.GetSession(), err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent refresh %d = %v; want success within the grace", i, err)
			}
		}
		child := results[0]
		if child.GetRefreshToken() == first.GetRefreshToken() {
			t.Fatal("refresh returned the same refresh token")
		}
		if _, err := e.auth.GetUser(as(ctx, app, child.GetAccessToken()), &authv1.GetUserRequest{}); err != nil {
			t.Fatalf("GetUser with the refreshed token = %v", err)
		}

		// Reuse after the grace: the family ends.
		e.clock.Advance(time.Minute)
		_, err := e.auth.RefreshSession(actx, &authv1.RefreshSessionRequest{RefreshToken: first.GetRefreshToken()})
		if c, r := reason(err); c != connect.CodeUnauthenticated || r != apperr.ReasonRefreshTokenReused {
			t.Fatalf("reused refresh token = %v %q, want REFRESH_TOKEN_REUSED", c, r)
		}
		for i, s := range results {
			_, err := e.auth.RefreshSession(actx, &authv1.RefreshSessionRequest{RefreshToken: s.GetRefreshToken()})
			if _, r := reason(err); r != apperr.ReasonSessionRevoked {
				t.Errorf("child %d refresh after reuse = %v, want SESSION_REVOKED", i, err)
			}
		}
		if _, err := e.auth.GetUser(as(ctx, app, child.GetAccessToken()), &authv1.GetUserRequest{}); err == nil {
			t.Error("GetUser with an access token of the revoked session succeeded")
		}
		// A fresh login is unaffected.
		if tok := e.login(t, app, "ed@example.com", "long-enough-pw"); tok == "" {
			t.Error("login after reuse returned no token")
		}
	})
}

// TestSMTP: with COSYNC_SMTP_URL set, the code arrives by real SMTP and the
// outbox is off.
func TestSMTP(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t, smtptest.WithAuth("mailer", "s3cret"))
	e := newEnv(t, storetest.SQLite(t), withSMTP(mail.URL()))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Gus"}})
	if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "gus@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
		t.Fatal(err)
	}
	m := mail.WaitFor(t, "gus@example.com")
	code := codeRE.FindStringSubmatch(m.Text)
	if code == nil || !codeRE.MatchString(m.HTML) || m.Subject == "" {
		t.Fatalf("mail = %+v, want a code in text and HTML", m)
	}
	if _, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "gus@example.com", Code: code[1]}); err != nil {
		t.Fatalf("CompleteSignUp with the mailed code = %v", err)
	}
	_, err := e.admin.ListOutbox(as(ctx, "", dev), &adminv1.ListOutboxRequest{AppId: app})
	if c, r := reason(err); c != connect.CodeFailedPrecondition || r != apperr.ReasonOutboxDisabled {
		t.Errorf("ListOutbox with SMTP = %v %q, want OUTBOX_DISABLED", c, r)
	}
	// Signing up an existing email answers the same, and the owner is told.
	if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "gus@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
		t.Fatalf("SignUp of an existing email = %v, want the same answer as a new one", err)
	}
	// Gus gets three mails, in the order the queue sends them: the code,
	// the welcome and the notice; only the first carries a code.
	for i, m := range mail.WaitForN(t, "gus@example.com", 3)[1:] {
		if codeRE.MatchString(m.Text) {
			t.Errorf("mail %d after the code (welcome, then the existing-account notice) carries a code: %q", i+2, m.Text)
		}
	}
}

// TestUpdateAppMask: only the masked fields change, and flow none signs up at once.
func TestUpdateAppMask(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	res, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{
		AppId: app, Name: "Renamed",
		Settings: &adminv1.AppSettings{
			SignupFlow: authv1.SignupFlow_SIGNUP_FLOW_NONE, PasswordPolicy: &authv1.PasswordPolicy{MinLength: 12, RequireDigit: true},
			Locales: []string{"xx"}, // not in the mask: ignored
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name", "settings.signup_flow", "settings.password_policy.min_length"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := res.GetApp().GetSettings()
	if res.GetApp().GetName() != "Renamed" || st.GetSignupFlow() != authv1.SignupFlow_SIGNUP_FLOW_NONE ||
		st.GetPasswordPolicy().GetMinLength() != 12 || st.GetPasswordPolicy().GetRequireDigit() ||
		len(st.GetLocales()) != 1 || st.GetLocales()[0] != "en" || len(st.GetSignupMetadataFields()) != 2 {
		t.Fatalf("UpdateApp = %v", res.GetApp())
	}
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Hal"}})
	_, err = e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "hal@example.com", Password: "elevenchars", Metadata: md})
	if c, r := reason(err); c != connect.CodeInvalidArgument || r != apperr.ReasonPasswordPolicy {
		t.Errorf("SignUp under the new 12-character policy = %v %q, want PASSWORD_POLICY", c, r)
	}
	su, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "hal@example.com", Password: "twelve-chars", Metadata: md})
	if err != nil || su.GetSession().GetAccessToken() == "" || su.GetFlow() != authv1.SignupFlow_SIGNUP_FLOW_NONE {
		t.Fatalf("SignUp with flow none = %v, %v; want a session", su, err)
	}
	// Another developer (a member of no app) does not see it.
	other := e.developer(t, "other@example.com")
	list, err := e.admin.ListApps(as(ctx, "", other), &adminv1.ListAppsRequest{})
	if err != nil || len(list.GetApps()) != 0 {
		t.Errorf("other developer's ListApps = %v, %v; want no apps", list, err)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestListAppsPaging: pages cover every app once, in order, and end.
func TestListAppsPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	want := map[string]bool{}
	for range 5 {
		want[e.appWithNameField(t, dev)] = true
	}
	seen := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		res, err := e.admin.ListApps(as(ctx, "", dev), &adminv1.ListAppsRequest{PageSize: 2, PageToken: token})
		if err != nil || len(res.GetApps()) > 2 || pages > 3 {
			t.Fatalf("ListApps page %d = %v, %v", pages, res, err)
		}
		for _, a := range res.GetApps() {
			if seen[a.GetId()] {
				t.Errorf("app %s on two pages", a.GetId())
			}
			seen[a.GetId()] = true
		}
		if token = res.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != len(want) {
		t.Errorf("pages listed %d apps, want %d", len(seen), len(want))
	}
}
