package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// auditSeen records the audit actions a store writes, on either database:
// it watches the statements (store.ObserveQueries), so it must be made
// before the server starts.
type auditSeen struct {
	mu      sync.Mutex
	inserts []string
}

func watchAudit(s *store.Store) *auditSeen {
	a := &auditSeen{}
	s.ObserveQueries(func(q string) {
		if strings.Contains(q, "INSERT INTO \"audit_events\"") {
			a.mu.Lock()
			a.inserts = append(a.inserts, q)
			a.mu.Unlock()
		}
	})
	return a
}

// count returns how many audit events for action (with actor) were written.
func (a *auditSeen) count(action, actor string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, q := range a.inserts {
		if strings.Contains(q, "'"+action+"'") && strings.Contains(q, "'"+actor+"'") {
			n++
		}
	}
	return n
}

// eachAudited is each with the audit watch installed before the server.
func eachAudited(t *testing.T, fn func(t *testing.T, e *env, audit *auditSeen)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		audit := watchAudit(s)
		fn(t, newEnv(t, s), audit)
	})
}

// adminJSON calls an AdminService method as curl does: Connect JSON with a
// bearer token.
func (e *env) adminJSON(tb testing.TB, bearer, method, body string) wireReply {
	tb.Helper()
	return e.send(tb, http.MethodPost, "/cosync.admin.v1.AdminService/"+method,
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + bearer}, body)
}

// member makes a developer with role in app and returns their token.
func (e *env) member(tb testing.TB, app, email string, role identity.Role) string {
	tb.Helper()
	tok := e.developer(tb, email)
	u, err := e.p.store.FindUserByEmail(context.Background(), identity.ConsoleAppID, email)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.p.store.PutMember(context.Background(), identity.Member{AppID: app, DeveloperID: u.ID, Role: role, CreatedAt: e.clock.Now()}); err != nil {
		tb.Fatal(err)
	}
	return tok
}

// TestPendingSignupsAdmin: developers list pending signups newest first
// with a cursor and without secrets, viewers only read, a resend mails a
// fresh code and kills the old one within the per-handle limit, a delete
// kills the code; every change is audited and strangers see nothing.
func TestPendingSignupsAdmin(t *testing.T) {
	t.Parallel()
	eachAudited(t, func(t *testing.T, e *env, audit *auditSeen) {
		// The handle's hourly signup limit is checked below across a clock
		// step of a minute: start just past an hour so one window holds it.
		now := e.clock.Now()
		e.clock.Advance(now.Truncate(time.Hour).Add(time.Hour + time.Minute).Sub(now))
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		viewer := e.member(t, app, "viewer@example.com", identity.RoleViewer)
		stranger := e.developer(t, "stranger@example.com")
		devID := jwtClaims(t, dev)["sub"].(string)
		actx := as(ctx, app, "")
		codes := map[string]string{}
		for i, h := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
			md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": fmt.Sprint("N", i)}})
			if _, err := e.auth.SignUp(actx, &authv1.SignUpRequest{Handle: h, Password: "long-enough-pw", Metadata: md}); err != nil {
				t.Fatalf("SignUp(%s) = %v", h, err)
			}
			codes[h] = e.outboxCode(t, dev, app, h)
		}
		// An existing account's signup leaves a decoy, never listed.
		e.signUp(t, dev, app, "old@example.com")
		if _, err := e.auth.SignUp(actx, &authv1.SignUpRequest{Handle: "old@example.com", Password: "long-enough-pw",
			Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Old"}})}); err != nil {
			t.Fatal(err)
		}

		first, err := e.admin.ListPendingSignups(as(ctx, "", viewer), &adminv1.ListPendingSignupsRequest{AppId: app, PageSize: 2})
		if err != nil {
			t.Fatalf("ListPendingSignups(viewer) = %v", err)
		}
		next, err := e.admin.ListPendingSignups(as(ctx, "", viewer), &adminv1.ListPendingSignupsRequest{AppId: app, PageSize: 2, PageToken: first.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		byHandle := map[string]*adminv1.PendingSignup{}
		for _, p := range append(first.GetPendingSignups(), next.GetPendingSignups()...) {
			got = append(got, p.GetHandle())
			byHandle[p.GetHandle()] = p
			if p.GetCreatedAt() == nil || !p.GetExpiresAt().AsTime().After(p.GetCreatedAt().AsTime()) {
				t.Errorf("pending %s: created %v expires %v, want both, expiry later", p.GetHandle(), p.GetCreatedAt(), p.GetExpiresAt())
			}
		}
		if want := "cy@example.com bob@example.com ann@example.com"; strings.Join(got, " ") != want || next.GetNextPageToken() != "" {
			t.Errorf("pending signups over two pages = %v (last token %q), want %s and no more", got, next.GetNextPageToken(), want)
		}
		if name := byHandle["bob@example.com"].GetMetadata().AsMap()["user_data"]; fmt.Sprint(name) != "map[name:N1]" {
			t.Errorf("bob's pending metadata = %v, want user_data.name N1", name)
		}

		// Over curl JSON: no code, hash or password in the answer.
		r := e.adminJSON(t, dev, "ListPendingSignups", `{"app_id":"`+app+`"}`)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"pendingSignups"`) {
			t.Fatalf("ListPendingSignups over JSON = %d %s", r.status, r.body)
		}
		for _, secret := range []string{"argon2", "password", "hash", codes["ann@example.com"], codes["bob@example.com"]} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("ListPendingSignups JSON carries %q: %s", secret, r.body)
			}
		}

		ann, bob, cy := byHandle["ann@example.com"].GetId(), byHandle["bob@example.com"].GetId(), byHandle["cy@example.com"].GetId()
		// Viewers and strangers change nothing.
		_, err = e.admin.ResendPendingSignup(as(ctx, "", viewer), &adminv1.ResendPendingSignupRequest{AppId: app, PendingSignupId: ann})
		wantReason(t, "ResendPendingSignup(viewer)", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
		_, err = e.admin.DeletePendingSignup(as(ctx, "", viewer), &adminv1.DeletePendingSignupRequest{AppId: app, PendingSignupId: ann})
		wantReason(t, "DeletePendingSignup(viewer)", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
		_, err = e.admin.ListPendingSignups(as(ctx, "", stranger), &adminv1.ListPendingSignupsRequest{AppId: app})
		if c, _ := reason(err); c != connect.CodeNotFound {
			t.Errorf("ListPendingSignups(stranger) = %v, want NotFound", err)
		}
		_, err = e.admin.DeletePendingSignup(as(ctx, "", dev), &adminv1.DeletePendingSignupRequest{AppId: app, PendingSignupId: "no-such-id"})
		wantReason(t, "DeletePendingSignup(unknown id)", err, connect.CodeNotFound, apperr.ReasonNotFound)

		// Resend, a minute later: a fresh code and lifetime, the old code dead.
		e.clock.Advance(time.Minute)
		res, err := e.admin.ResendPendingSignup(as(ctx, "", dev), &adminv1.ResendPendingSignupRequest{AppId: app, PendingSignupId: ann})
		if err != nil {
			t.Fatalf("ResendPendingSignup = %v", err)
		}
		if p := res.GetPendingSignup(); p.GetId() != ann || p.GetHandle() != "ann@example.com" || p.GetMetadata().AsMap()["user_data"] == nil ||
			!p.GetCreatedAt().AsTime().After(byHandle["ann@example.com"].GetCreatedAt().AsTime()) ||
			!p.GetExpiresAt().AsTime().After(byHandle["ann@example.com"].GetExpiresAt().AsTime()) {
			t.Errorf("resent pending signup = %v, want ann's, same id and metadata, mailed again with a new expiry", p)
		}
		fresh := e.outboxCode(t, dev, app, "ann@example.com")
		if fresh == codes["ann@example.com"] {
			t.Fatalf("the resent code equals the old one")
		}
		_, err = e.auth.CompleteSignUp(actx, &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: codes["ann@example.com"]})
		wantReason(t, "CompleteSignUp(old code after resend)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode)
		done, err := e.auth.CompleteSignUp(actx, &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: fresh})
		if err != nil || done.GetSession().GetUser().GetMetadata().AsMap()["user_data"] == nil {
			t.Fatalf("CompleteSignUp(resent code) = %v, %v; want a user with the signup's metadata", done, err)
		}
		_, err = e.admin.ResendPendingSignup(as(ctx, "", dev), &adminv1.ResendPendingSignupRequest{AppId: app, PendingSignupId: ann})
		wantReason(t, "ResendPendingSignup(completed)", err, connect.CodeNotFound, apperr.ReasonNotFound)

		// Delete: the code stops working.
		if _, err := e.admin.DeletePendingSignup(as(ctx, "", dev), &adminv1.DeletePendingSignupRequest{AppId: app, PendingSignupId: bob}); err != nil {
			t.Fatalf("DeletePendingSignup = %v", err)
		}
		_, err = e.auth.CompleteSignUp(actx, &authv1.CompleteSignUpRequest{Handle: "bob@example.com", Code: codes["bob@example.com"]})
		wantReason(t, "CompleteSignUp(deleted)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode)

		// A resend follows the app's flow as it is now: a link.
		e.update(t, dev, app, &adminv1.AppSettings{SignupFlow: authv1.SignupFlow_SIGNUP_FLOW_LINK}, "settings.signup_flow")
		// The handle's signup limit (5 an hour) counts resends: cy signed
		// up once, so four resends pass and the fifth is refused.
		for i := range 4 {
			if _, err := e.admin.ResendPendingSignup(as(ctx, "", dev), &adminv1.ResendPendingSignupRequest{AppId: app, PendingSignupId: cy}); err != nil {
				t.Fatalf("ResendPendingSignup(cy) #%d = %v", i+1, err)
			}
		}
		if m := e.outboxTo(t, dev, app, "cy@example.com"); !strings.Contains(m.GetText(), "/signup/confirm?") {
			t.Errorf("resent mail in the link flow = %q, want a signup link", m.GetText())
		}
		_, err = e.admin.ResendPendingSignup(as(ctx, "", dev), &adminv1.ResendPendingSignupRequest{AppId: app, PendingSignupId: cy})
		wantReason(t, "ResendPendingSignup past the handle's limit", err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)

		list, err := e.admin.ListPendingSignups(as(ctx, "", dev), &adminv1.ListPendingSignupsRequest{AppId: app})
		if err != nil || len(list.GetPendingSignups()) != 1 || list.GetPendingSignups()[0].GetId() != cy {
			t.Errorf("pending signups at the end = %v, %v; want only cy's", list, err)
		}
		for action, want := range map[string]int{"user.signup.resend": 5, "user.signup.delete": 1} {
			if n := audit.count(action, devID); n != want {
				t.Errorf("audit events %s by the developer = %d, want %d", action, n, want)
			}
		}
	})
}
