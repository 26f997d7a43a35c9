package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// auditLog lists every event of app matching req's filters, page by page
// (two at a time, so paging is exercised), newest first.
func (e *env) auditLog(tb testing.TB, dev string, req *adminv1.ListAuditEventsRequest) []*adminv1.AuditEvent {
	tb.Helper()
	var out []*adminv1.AuditEvent
	req.PageSize, req.PageToken = 2, ""
	for range 1000 {
		res, err := e.admin.ListAuditEvents(as(context.Background(), "", dev), req)
		if err != nil {
			tb.Fatalf("ListAuditEvents(%v) = %v", req, err)
		}
		out = append(out, res.GetEvents()...)
		if res.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = res.GetNextPageToken()
	}
	tb.Fatal("ListAuditEvents never ended")
	return nil
}

// TestAuditTrail walks the main admin changes and every way of signing in
// (password, password with a second factor, social signup and login,
// anonymous, signup by code) and checks that each left an audit row that
// says who (actor), what (action, subject), when and from where (IP), as
// ListAuditEvents returns them; a refresh is recorded but is no sign-in.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	eachSocial(t, func(t *testing.T, e *socialEnv) {
		ctx := context.Background()
		devUser, err := e.p.store.FindUserByEmail(ctx, identity.ConsoleAppID, "dev@example.com")
		if err != nil {
			t.Fatal(err)
		}
		devID, dev := devUser.ID, e.dev
		start := e.clock.Now().Truncate(time.Microsecond) // the databases keep microseconds

		// Admin changes.
		app := e.app(t, nil)
		e.update(t, dev, app, &adminv1.AppSettings{AnonymousLoginEnabled: true, TwoFactor: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP},
			"settings.anonymous_login_enabled", "settings.two_factor")
		e.enableInvites(t, dev, app)
		if _, err := e.admin.RotateSigningKey(as(ctx, "", dev), &adminv1.RotateSigningKeyRequest{AppId: app}); err != nil {
			t.Fatalf("RotateSigningKey = %v", err)
		}
		if _, err := e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
			Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en", Subject: "Your code {{.Code}}", Text: "{{.Code}}", Html: "<p>{{.Code}}</p>"}}); err != nil {
			t.Fatalf("UpdateEmailTemplate = %v", err)
		}

		// Sign-ins: a signup by code, a password login and a wrong one, a
		// refresh, a login with an authenticator, anonymous, social.
		ann := e.signUp(t, dev, app, "ann@example.com")
		annUser, err := e.p.store.FindUserByEmail(ctx, app, "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
		wantReason(t, "Login(wrong password)", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
		if _, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: ann.GetRefreshToken()}); err != nil {
			t.Fatalf("RefreshSession = %v", err)
		}
		secret, _ := e.enrollTOTP(t, app, ann.GetAccessToken())
		ch := e.challenge(t, app, "ann@example.com")
		if _, err := e.completeLogin(app, ch.GetLoginToken(), totpAt(t, secret, e.clock.Now())); err != nil {
			t.Fatalf("CompleteLogin = %v", err)
		}
		anon, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{})
		if err != nil {
			t.Fatalf("LoginAnonymous = %v", err)
		}
		raw := e.token(t, google, "g-bea", "bea@example.com")
		bea := e.mustSession(t, app, google, raw, "")
		e.mustSession(t, app, google, e.token(t, google, "g-bea", "bea@example.com"), "")

		// More admin changes, on users and invitations.
		if _, err := e.admin.ResetUserTwoFactor(as(ctx, "", dev), &adminv1.ResetUserTwoFactorRequest{AppId: app, UserId: annUser.ID}); err != nil {
			t.Fatalf("ResetUserTwoFactor = %v", err)
		}
		if _, err := e.auth.Invite(as(ctx, app, ann.GetAccessToken()), &authv1.InviteRequest{Handle: "cy@example.com",
			Metadata: mustStruct(t, map[string]any{"team": "blue"})}); err != nil {
			t.Fatalf("Invite = %v", err)
		}
		invs, err := e.admin.ListInvitations(as(ctx, "", dev), &adminv1.ListInvitationsRequest{AppId: app})
		if err != nil || len(invs.GetInvitations()) != 1 {
			t.Fatalf("ListInvitations = %v, %v", invs, err)
		}
		inv := invs.GetInvitations()[0].GetId()
		if _, err := e.admin.ResendInvitation(as(ctx, "", dev), &adminv1.ResendInvitationRequest{AppId: app, InvitationId: inv}); err != nil {
			t.Fatalf("ResendInvitation = %v", err)
		}
		if _, err := e.admin.RevokeInvitation(as(ctx, "", dev), &adminv1.RevokeInvitationRequest{AppId: app, InvitationId: inv}); err != nil {
			t.Fatalf("RevokeInvitation = %v", err)
		}

		events := e.auditLog(t, dev, &adminv1.ListAuditEventsRequest{AppId: app})
		for i := 1; i < len(events); i++ {
			if events[i].GetOccurredAt().AsTime().After(events[i-1].GetOccurredAt().AsTime()) {
				t.Fatalf("events are not newest first: %v after %v", events[i], events[i-1])
			}
		}
		anonID, beaID := anon.GetSession().GetUser().GetId(), bea.GetUser().GetId()
		for _, want := range []struct {
			action, outcome, actor, subject string // actor "": anyone, "-": no one
		}{
			{"app.create", "success", devID, app},
			{"app.update", "success", devID, app},
			{"key.rotate", "success", devID, ""},
			{"template.update", "success", devID, "signup_code:en"},
			{"user.signup.start", "success", "-", "ann@example.com"}, // no one is signed in yet
			{"user.signup.complete", "success", annUser.ID, annUser.ID},
			{"user.login", "failure", "", annUser.ID},
			{"session.refresh", "success", annUser.ID, ""},
			{"user.2fa.enable", "success", annUser.ID, annUser.ID},
			{"user.login", "success", annUser.ID, annUser.ID}, // after the second factor
			{"user.anonymous.create", "success", anonID, anonID},
			{"user.signup.social", "success", beaID, beaID},
			{"user.login.social", "success", beaID, beaID},
			{"user.2fa.reset", "success", devID, annUser.ID},
			{"invite.create", "success", annUser.ID, inv},
			{"invite.resend", "success", devID, inv},
			{"invite.revoke", "success", devID, inv},
		} {
			var found *adminv1.AuditEvent
			for _, ev := range events {
				if ev.GetAction() == want.action && ev.GetOutcome() == want.outcome && (want.actor == "" || want.actor == "-" || ev.GetActorId() == want.actor) {
					found = ev
					break
				}
			}
			if found == nil {
				t.Errorf("no %s %s event by %q", want.outcome, want.action, want.actor)
				continue
			}
			when := found.GetOccurredAt().AsTime()
			if found.GetId() == "" || found.GetIp() != "127.0.0.1" || found.GetSubjectId() == "" || when.Before(start) || when.After(e.clock.Now()) ||
				(want.subject != "" && found.GetSubjectId() != want.subject) || (want.outcome == "success" && want.actor != "-" && found.GetActorId() == "") {
				t.Errorf("%s %s = %v; want an id, actor, subject %q, IP 127.0.0.1 and a time in the test", want.outcome, want.action, found, want.subject)
			}
		}
		// The second-factor login is one sign-in, not two; the refresh none.
		logins := e.auditLog(t, dev, &adminv1.ListAuditEventsRequest{AppId: app, Action: "user.login", Outcome: "success"})
		if len(logins) != 1 {
			t.Errorf("user.login successes = %d, want 1 (the challenge alone signs no one in)", len(logins))
		}
		// Details come back as a Struct.
		rot := e.auditLog(t, dev, &adminv1.ListAuditEventsRequest{AppId: app, Action: "key.rotate"})
		if len(rot) != 1 || rot[0].GetDetails().GetFields()["previous_kid"].GetStringValue() == "" {
			t.Errorf("key.rotate = %v, want details naming the previous kid", rot)
		}
	})
}

// TestListAuditEvents: filters (with an action prefix), the time range,
// stable pages while new events arrive, refusals, and curl-style JSON.
func TestListAuditEvents(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		ann := e.signUp(t, dev, app, "ann@example.com")
		e.clock.Advance(time.Minute)
		mid := e.clock.Now()
		for range 3 {
			e.login(t, app, "ann@example.com", "long-enough-pw")
		}
		_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
		wantReason(t, "Login(wrong password)", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)

		count := func(req *adminv1.ListAuditEventsRequest) int { return len(e.auditLog(t, dev, req)) }
		annID := ann.GetUser().GetId()
		for _, tc := range []struct {
			name string
			req  *adminv1.ListAuditEventsRequest
			want int
		}{
			{"action", &adminv1.ListAuditEventsRequest{Action: "user.login"}, 4},
			{"action and outcome", &adminv1.ListAuditEventsRequest{Action: "user.login", Outcome: "failure"}, 1},
			{"prefix", &adminv1.ListAuditEventsRequest{Action: "user.signup."}, 2}, // start and complete
			{"actor", &adminv1.ListAuditEventsRequest{ActorId: annID}, 4},          // the completion and three logins
			{"subject", &adminv1.ListAuditEventsRequest{SubjectId: annID, Outcome: "failure"}, 1},
			{"ip", &adminv1.ListAuditEventsRequest{Ip: "127.0.0.1", Action: "user.login"}, 4},
			{"another ip", &adminv1.ListAuditEventsRequest{Ip: "192.0.2.1"}, 0},
			{"since", &adminv1.ListAuditEventsRequest{StartTime: timestamppb.New(mid)}, 4},
			{"until", &adminv1.ListAuditEventsRequest{EndTime: timestamppb.New(mid), Action: "user."}, 2},
		} {
			tc.req.AppId = app
			if got := count(tc.req); got != tc.want {
				t.Errorf("ListAuditEvents(%s) = %d events, want %d", tc.name, got, tc.want)
			}
		}

		// A page token stays good while new events arrive: they sort before it.
		first, err := e.admin.ListAuditEvents(as(ctx, "", dev), &adminv1.ListAuditEventsRequest{AppId: app, Action: "user.login", PageSize: 2})
		if err != nil || first.GetNextPageToken() == "" {
			t.Fatalf("ListAuditEvents(page 1) = %v, %v", first, err)
		}
		e.login(t, app, "ann@example.com", "long-enough-pw")
		rest, err := e.admin.ListAuditEvents(as(ctx, "", dev), &adminv1.ListAuditEventsRequest{AppId: app, Action: "user.login", PageSize: 2, PageToken: first.GetNextPageToken()})
		if err != nil || len(rest.GetEvents()) != 2 || rest.GetNextPageToken() != "" {
			t.Fatalf("ListAuditEvents(page 2) = %v, %v; want the two older events and no more", rest, err)
		}
		for _, a := range first.GetEvents() {
			for _, b := range rest.GetEvents() {
				if a.GetId() == b.GetId() {
					t.Errorf("event %s on both pages", a.GetId())
				}
			}
		}

		for _, tc := range []struct {
			name  string
			req   *adminv1.ListAuditEventsRequest
			field string
		}{
			{"garbage token", &adminv1.ListAuditEventsRequest{PageToken: "not a token"}, "page_token"},
			{"token of no shape", &adminv1.ListAuditEventsRequest{PageToken: "bm90LWEtY3Vyc29y"}, "page_token"},
			{"bad outcome", &adminv1.ListAuditEventsRequest{Outcome: "maybe"}, "outcome"},
			{"empty range", &adminv1.ListAuditEventsRequest{StartTime: timestamppb.New(mid), EndTime: timestamppb.New(mid)}, "end_time"},
			{"page too large", &adminv1.ListAuditEventsRequest{PageSize: 501}, "page_size"},
		} {
			tc.req.AppId = app
			_, err := e.admin.ListAuditEvents(as(ctx, "", dev), tc.req)
			if c, _ := reason(err); c != connect.CodeInvalidArgument || !containsField(fields(err), tc.field) {
				t.Errorf("ListAuditEvents(%s) = %v, want InvalidArgument naming %s", tc.name, err, tc.field)
			}
		}
		stranger := e.developer(t, "eve@example.com")
		_, err = e.admin.ListAuditEvents(as(ctx, "", stranger), &adminv1.ListAuditEventsRequest{AppId: app})
		if c, _ := reason(err); c != connect.CodeNotFound {
			t.Errorf("ListAuditEvents by a stranger = %v, want NotFound", err)
		}
		code, _ := e.post(t, "/cosync.admin.v1.AdminService/ListAuditEvents", map[string]string{"Authorization": "Bearer " + dev},
			[]byte(fmt.Sprintf(`{"app_id": %q, "action": "user.login", "outcome": "failure", "page_size": 10}`, app)))
		if code != 200 {
			t.Errorf("ListAuditEvents over JSON: HTTP %d, want 200", code)
		}
	})
}
