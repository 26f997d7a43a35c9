package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func withDeveloperSettings(signup, require2FA bool) envOption {
	return func(c *config.Config) { c.DeveloperSignup, c.DeveloperRequire2FA = signup, require2FA }
}

// callerOf returns GetCaller's answer for bearer.
func (e *env) callerOf(tb testing.TB, bearer string) *adminv1.GetCallerResponse {
	tb.Helper()
	res, err := e.admin.GetCaller(as(context.Background(), "", bearer), &adminv1.GetCallerRequest{})
	if err != nil {
		tb.Fatalf("GetCaller = %v", err)
	}
	return res
}

// newApp creates an app owned by dev and returns its id.
func (e *env) newApp(tb testing.TB, dev, name string) string {
	tb.Helper()
	res, err := e.admin.CreateApp(as(context.Background(), "", dev), &adminv1.CreateAppRequest{Name: name})
	if err != nil {
		tb.Fatalf("CreateApp(%q) = %v", name, err)
	}
	return res.GetApp().GetId()
}

func (e *env) addMember(tb testing.TB, owner, app, email string, role adminv1.MemberRole) *adminv1.AddMemberResponse {
	tb.Helper()
	res, err := e.admin.AddMember(as(context.Background(), "", owner), &adminv1.AddMemberRequest{AppId: app, Email: email, Role: role})
	if err != nil {
		tb.Fatalf("AddMember(%s, %v) = %v", email, role, err)
	}
	return res
}

func (e *env) members(tb testing.TB, dev, app string) map[string]*adminv1.Member {
	tb.Helper()
	res, err := e.admin.ListMembers(as(context.Background(), "", dev), &adminv1.ListMembersRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListMembers = %v", err)
	}
	out := map[string]*adminv1.Member{}
	for _, m := range res.GetMembers() {
		out[m.GetEmail()] = m
	}
	return out
}

// Operators see the console app; plain developers do not, even its outbox
// (other developers' codes) or its users' second factors.
func TestOperatorsAndDevelopers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		op := e.operator(t, "op@example.com")
		dev := e.developer(t, "plain@example.com")
		if c := e.callerOf(t, op); !c.GetOperator() || c.GetEmail() != "op@example.com" || c.GetDeveloperId() == "" {
			t.Errorf("GetCaller(operator) = %v", c)
		}
		plain := e.callerOf(t, dev)
		if plain.GetOperator() || plain.GetEmail() != "plain@example.com" || plain.GetDeveloperSignupEnabled() || plain.GetDeveloperTwoFactorRequired() {
			t.Errorf("GetCaller(developer) = %v", plain)
		}

		_, err := e.admin.ListOutbox(as(ctx, "", dev), &adminv1.ListOutboxRequest{AppId: identity.ConsoleAppID})
		wantReason(t, "ListOutbox(console) by a developer", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		_, err = e.admin.ResetUserTwoFactor(as(ctx, "", dev), &adminv1.ResetUserTwoFactorRequest{AppId: identity.ConsoleAppID, UserId: plain.GetDeveloperId()})
		wantReason(t, "ResetUserTwoFactor(console) by a developer", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		_, err = e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: identity.ConsoleAppID})
		wantReason(t, "GetApp(console) by a developer", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		if _, err := e.admin.ListOutbox(as(ctx, "", op), &adminv1.ListOutboxRequest{AppId: identity.ConsoleAppID}); err != nil {
			t.Errorf("ListOutbox(console) by the operator = %v", err)
		}
		if _, err := e.admin.ResetUserTwoFactor(as(ctx, "", op), &adminv1.ResetUserTwoFactorRequest{AppId: identity.ConsoleAppID, UserId: plain.GetDeveloperId()}); err != nil {
			t.Errorf("ResetUserTwoFactor(console) by the operator = %v", err)
		}

		// ListApps all: every app for operators, refused for developers.
		app := e.newApp(t, dev, "Plain's")
		res, err := e.admin.ListApps(as(ctx, "", op), &adminv1.ListAppsRequest{All: true})
		if err != nil {
			t.Fatalf("ListApps(all) by the operator = %v", err)
		}
		roles := map[string]adminv1.MemberRole{}
		for _, a := range res.GetApps() {
			roles[a.GetId()] = a.GetRole()
		}
		if roles[app] != adminv1.MemberRole_MEMBER_ROLE_VIEWER || roles[identity.ConsoleAppID] != adminv1.MemberRole_MEMBER_ROLE_OWNER {
			t.Errorf("ListApps(all) roles = %v, want viewer of %s and owner of the console", roles, app)
		}
		mine, err := e.admin.ListApps(as(ctx, "", op), &adminv1.ListAppsRequest{})
		if err != nil || len(mine.GetApps()) != 1 || mine.GetApps()[0].GetId() != identity.ConsoleAppID {
			t.Errorf("ListApps by the operator = %v, %v; want only the console", mine, err)
		}
		_, err = e.admin.ListApps(as(ctx, "", dev), &adminv1.ListAppsRequest{All: true})
		wantReason(t, "ListApps(all) by a developer", err, connect.CodePermissionDenied, apperr.ReasonOperatorOnly)
	})
}

// Teams: owners add existing developers and invite new ones, change roles,
// and never lose the last owner; members may leave.
func TestMembers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		op := e.operator(t, "op@example.com")
		owner := e.developer(t, "owner@example.com")
		bob := e.developer(t, "bob@example.com")
		app := e.newApp(t, owner, "Team App")
		bobID := e.callerOf(t, bob).GetDeveloperId()
		ownerID := e.callerOf(t, owner).GetDeveloperId()

		_, err := e.admin.GetApp(as(ctx, "", bob), &adminv1.GetAppRequest{AppId: app})
		wantReason(t, "GetApp by a stranger", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		res := e.addMember(t, owner, app, "Bob@Example.com", adminv1.MemberRole_MEMBER_ROLE_VIEWER)
		if res.GetInvited() || res.GetMember().GetDeveloperId() != bobID || res.GetMember().GetPending() {
			t.Errorf("AddMember(existing developer) = %v", res)
		}
		if _, err := e.admin.GetApp(as(ctx, "", bob), &adminv1.GetAppRequest{AppId: app}); err != nil {
			t.Errorf("GetApp by a viewer = %v", err)
		}
		_, err = e.admin.UpdateApp(as(ctx, "", bob), &adminv1.UpdateAppRequest{AppId: app, Name: "x", UpdateMask: mask("name")})
		wantReason(t, "UpdateApp by a viewer", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
		_, err = e.admin.AddMember(as(ctx, "", bob), &adminv1.AddMemberRequest{AppId: app, Email: "bob@example.com", Role: adminv1.MemberRole_MEMBER_ROLE_OWNER})
		wantReason(t, "AddMember(self as owner) by a viewer", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)

		// Role change: admin may change settings; still not members.
		e.addMember(t, owner, app, "bob@example.com", adminv1.MemberRole_MEMBER_ROLE_ADMIN)
		if _, err := e.admin.UpdateApp(as(ctx, "", bob), &adminv1.UpdateAppRequest{AppId: app, Name: "Renamed", UpdateMask: mask("name")}); err != nil {
			t.Errorf("UpdateApp by an admin = %v", err)
		}
		_, err = e.admin.RemoveMember(as(ctx, "", bob), &adminv1.RemoveMemberRequest{AppId: app, DeveloperId: ownerID})
		wantReason(t, "RemoveMember(owner) by an admin", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)

		// The last owner can neither leave nor be demoted.
		_, err = e.admin.RemoveMember(as(ctx, "", owner), &adminv1.RemoveMemberRequest{AppId: app, DeveloperId: ownerID})
		wantReason(t, "RemoveMember(last owner)", err, connect.CodeFailedPrecondition, apperr.ReasonLastOwner)
		_, err = e.admin.AddMember(as(ctx, "", owner), &adminv1.AddMemberRequest{AppId: app, Email: "owner@example.com", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
		wantReason(t, "AddMember(demote last owner)", err, connect.CodeFailedPrecondition, apperr.ReasonLastOwner)
		// With a second owner, the first may step down.
		e.addMember(t, owner, app, "bob@example.com", adminv1.MemberRole_MEMBER_ROLE_OWNER)
		e.addMember(t, bob, app, "owner@example.com", adminv1.MemberRole_MEMBER_ROLE_VIEWER)
		if got := e.members(t, bob, app)["owner@example.com"].GetRole(); got != adminv1.MemberRole_MEMBER_ROLE_VIEWER {
			t.Errorf("role after demotion = %v", got)
		}

		// A new email gets a console invitation; registering makes a member.
		inv := e.addMember(t, bob, app, "carol@example.com", adminv1.MemberRole_MEMBER_ROLE_ADMIN)
		if !inv.GetInvited() || !inv.GetMember().GetPending() || inv.GetMember().GetDeveloperId() == "" {
			t.Fatalf("AddMember(new email) = %v, want a pending invitation", inv)
		}
		if m := e.members(t, bob, app)["carol@example.com"]; !m.GetPending() || m.GetDeveloperId() != inv.GetMember().GetDeveloperId() {
			t.Errorf("ListMembers pending = %v", m)
		}
		code := e.outboxCode(t, op, identity.ConsoleAppID, "carol@example.com")
		sess, err := e.auth.Register(as(ctx, identity.ConsoleAppID, ""), &authv1.RegisterRequest{Handle: "carol@example.com", Password: "carol's password", InviteCode: code})
		if err != nil {
			t.Fatalf("Register(console invitation) = %v", err)
		}
		carol := sess.GetSession().GetAccessToken()
		if c := e.callerOf(t, carol); c.GetOperator() {
			t.Errorf("an invited developer is an operator: %v", c)
		}
		m := e.members(t, bob, app)["carol@example.com"]
		if m.GetPending() || m.GetRole() != adminv1.MemberRole_MEMBER_ROLE_ADMIN || m.GetDeveloperId() != e.callerOf(t, carol).GetDeveloperId() {
			t.Errorf("member after Register = %v, want carol as admin", m)
		}
		if _, err := e.admin.GetApp(as(ctx, "", carol), &adminv1.GetAppRequest{AppId: app}); err != nil {
			t.Errorf("GetApp by the new member = %v", err)
		}

		// A pending invitation can be withdrawn; its code stops working.
		inv = e.addMember(t, bob, app, "dan@example.com", adminv1.MemberRole_MEMBER_ROLE_VIEWER)
		danCode := e.outboxCode(t, op, identity.ConsoleAppID, "dan@example.com")
		if _, err := e.admin.RemoveMember(as(ctx, "", bob), &adminv1.RemoveMemberRequest{AppId: app, DeveloperId: inv.GetMember().GetDeveloperId()}); err != nil {
			t.Fatalf("RemoveMember(pending) = %v", err)
		}
		if _, ok := e.members(t, bob, app)["dan@example.com"]; ok {
			t.Error("a withdrawn invitation is still listed")
		}
		_, err = e.auth.Register(as(ctx, identity.ConsoleAppID, ""), &authv1.RegisterRequest{Handle: "dan@example.com", Password: "dan's password", InviteCode: danCode})
		wantReason(t, "Register(withdrawn invitation)", err, connect.CodeFailedPrecondition, apperr.ReasonInviteRevoked)

		// Anyone may leave; then the app is gone for them.
		if _, err := e.admin.RemoveMember(as(ctx, "", carol), &adminv1.RemoveMemberRequest{AppId: app, DeveloperId: e.callerOf(t, carol).GetDeveloperId()}); err != nil {
			t.Errorf("RemoveMember(self) = %v", err)
		}
		_, err = e.admin.GetApp(as(ctx, "", carol), &adminv1.GetAppRequest{AppId: app})
		wantReason(t, "GetApp after leaving", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		_, err = e.admin.RemoveMember(as(ctx, "", bob), &adminv1.RemoveMemberRequest{AppId: app, DeveloperId: "no-such-member"})
		wantReason(t, "RemoveMember(unknown)", err, connect.CodeNotFound, apperr.ReasonNotFound)
		// Console users' own invitations stay off: a developer cannot invite people onto the server.
		err = func() error {
			_, err := e.auth.Invite(as(ctx, identity.ConsoleAppID, bob), &authv1.InviteRequest{Handle: "eve@example.com"})
			return err
		}()
		wantReason(t, "Invite from a console user", err, connect.CodeFailedPrecondition, apperr.ReasonInvitesDisabled)
	})
}

var secretRE = regexp.MustCompile(`^csk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$`)

// API keys act in one app with one role; revoked and expired keys stop at once.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		owner := e.developer(t, "owner@example.com")
		app := e.newApp(t, owner, "Keyed")
		other := e.newApp(t, owner, "Other")

		created, err := e.admin.CreateApiKey(as(ctx, "", owner), &adminv1.CreateApiKeyRequest{AppId: app, Name: "ci", Role: adminv1.MemberRole_MEMBER_ROLE_VIEWER})
		if err != nil {
			t.Fatalf("CreateApiKey = %v", err)
		}
		viewer := created.GetSecret()
		if !secretRE.MatchString(viewer) || created.GetApiKey().GetPrefix() != viewer[:12] {
			t.Errorf("secret %q, prefix %q: want csk_<8 hex>_<43 base64url> and its first 12 characters", viewer, created.GetApiKey().GetPrefix())
		}
		adminKey, err := e.admin.CreateApiKey(as(ctx, "", owner), &adminv1.CreateApiKeyRequest{AppId: app, Name: "deploy", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN,
			ExpiresAt: timestamppb.New(e.clock.Now().Add(time.Hour))})
		if err != nil {
			t.Fatalf("CreateApiKey(admin, expiring) = %v", err)
		}
		_, err = e.admin.CreateApiKey(as(ctx, "", owner), &adminv1.CreateApiKeyRequest{AppId: app, Name: "late", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN,
			ExpiresAt: timestamppb.New(e.clock.Now().Add(-time.Second))})
		wantReason(t, "CreateApiKey(expired)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "expires_at")

		c := e.callerOf(t, viewer)
		if c.GetApiKeyId() != created.GetApiKey().GetId() || c.GetAppId() != app || c.GetRole() != adminv1.MemberRole_MEMBER_ROLE_VIEWER || c.GetDeveloperId() != "" {
			t.Errorf("GetCaller(key) = %v", c)
		}
		if _, err := e.admin.GetApp(as(ctx, "", viewer), &adminv1.GetAppRequest{AppId: app}); err != nil {
			t.Errorf("GetApp by its viewer key = %v", err)
		}
		_, err = e.admin.GetApp(as(ctx, "", viewer), &adminv1.GetAppRequest{AppId: other})
		wantReason(t, "GetApp(other app) by a key", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		_, err = e.admin.UpdateApp(as(ctx, "", viewer), &adminv1.UpdateAppRequest{AppId: app, Name: "x", UpdateMask: mask("name")})
		wantReason(t, "UpdateApp by a viewer key", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
		if _, err := e.admin.UpdateApp(as(ctx, "", adminKey.GetSecret()), &adminv1.UpdateAppRequest{AppId: app, Name: "By key", UpdateMask: mask("name")}); err != nil {
			t.Errorf("UpdateApp by an admin key = %v", err)
		}
		listed, err := e.admin.ListApps(as(ctx, "", adminKey.GetSecret()), &adminv1.ListAppsRequest{})
		if err != nil || len(listed.GetApps()) != 1 || listed.GetApps()[0].GetId() != app {
			t.Errorf("ListApps by a key = %v, %v; want its one app", listed, err)
		}
		// What a key may never do.
		for name, call := range map[string]func(string) error{
			"CreateApp": func(k string) error {
				_, err := e.admin.CreateApp(as(ctx, "", k), &adminv1.CreateAppRequest{Name: "nope"})
				return err
			},
			"ListApps(all)": func(k string) error {
				_, err := e.admin.ListApps(as(ctx, "", k), &adminv1.ListAppsRequest{All: true})
				return err
			},
			"SetGlobalSwitches": func(k string) error {
				_, err := e.admin.SetGlobalSwitches(as(ctx, "", k), &adminv1.SetGlobalSwitchesRequest{SignupEnabled: proto.Bool(false)})
				return err
			},
			"AddMember": func(k string) error {
				_, err := e.admin.AddMember(as(ctx, "", k), &adminv1.AddMemberRequest{AppId: app, Email: "x@example.com", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
				return err
			},
			"CreateApiKey": func(k string) error {
				_, err := e.admin.CreateApiKey(as(ctx, "", k), &adminv1.CreateApiKeyRequest{AppId: app, Name: "x", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
				return err
			},
			"RevokeApiKey": func(k string) error {
				_, err := e.admin.RevokeApiKey(as(ctx, "", k), &adminv1.RevokeApiKeyRequest{AppId: app, ApiKeyId: created.GetApiKey().GetId()})
				return err
			},
		} {
			if code, _ := reason(call(adminKey.GetSecret())); code != connect.CodePermissionDenied {
				t.Errorf("%s by an admin key = %v, want PermissionDenied", name, call(adminKey.GetSecret()))
			}
		}

		// Listing (admins) shows no secret; last use is written at most once a minute.
		keys := func() map[string]*adminv1.ApiKey {
			t.Helper()
			res, err := e.admin.ListApiKeys(as(ctx, "", adminKey.GetSecret()), &adminv1.ListApiKeysRequest{AppId: app})
			if err != nil {
				t.Fatalf("ListApiKeys = %v", err)
			}
			out := map[string]*adminv1.ApiKey{}
			for _, k := range res.GetApiKeys() {
				out[k.GetId()] = k
			}
			return out
		}
		_, err = e.admin.ListApiKeys(as(ctx, "", viewer), &adminv1.ListApiKeysRequest{AppId: app})
		wantReason(t, "ListApiKeys by a viewer key", err, connect.CodePermissionDenied, apperr.ReasonPermissionDenied)
		first := keys()[created.GetApiKey().GetId()].GetLastUsedAt().AsTime()
		if first.IsZero() || keys()[created.GetApiKey().GetId()].GetCreatedBy() != e.callerOf(t, owner).GetDeveloperId() {
			t.Errorf("viewer key = %v, want a last use and its creator", keys()[created.GetApiKey().GetId()])
		}
		e.clock.Advance(30 * time.Second)
		e.callerOf(t, viewer)
		if got := keys()[created.GetApiKey().GetId()].GetLastUsedAt().AsTime(); !got.Equal(first) {
			t.Errorf("last used %v after a use 30s later, want still %v", got, first)
		}
		e.clock.Advance(31 * time.Second)
		e.callerOf(t, viewer)
		if got := keys()[created.GetApiKey().GetId()].GetLastUsedAt().AsTime(); !got.After(first) {
			t.Errorf("last used %v after a use a minute later, want after %v", got, first)
		}

		// Revoked: refused at once. Expired: refused.
		if _, err := e.admin.RevokeApiKey(as(ctx, "", owner), &adminv1.RevokeApiKeyRequest{AppId: app, ApiKeyId: created.GetApiKey().GetId()}); err != nil {
			t.Fatalf("RevokeApiKey = %v", err)
		}
		_, err = e.admin.GetApp(as(ctx, "", viewer), &adminv1.GetAppRequest{AppId: app})
		wantReason(t, "GetApp by a revoked key", err, connect.CodeUnauthenticated, apperr.ReasonAPIKeyInvalid)
		_, err = e.admin.RevokeApiKey(as(ctx, "", owner), &adminv1.RevokeApiKeyRequest{AppId: other, ApiKeyId: adminKey.GetApiKey().GetId()})
		wantReason(t, "RevokeApiKey(key of another app)", err, connect.CodeNotFound, apperr.ReasonNotFound)
		if _, ok := keys()[created.GetApiKey().GetId()]; ok {
			t.Error("a revoked key is still listed")
		}
		e.clock.Advance(time.Hour)
		_, err = e.admin.GetApp(as(ctx, "", adminKey.GetSecret()), &adminv1.GetAppRequest{AppId: app})
		wantReason(t, "GetApp by an expired key", err, connect.CodeUnauthenticated, apperr.ReasonAPIKeyInvalid)
		_, err = e.admin.GetApp(as(ctx, "", "csk_00000000_"+viewer[13:]), &adminv1.GetAppRequest{AppId: app})
		wantReason(t, "GetApp by an unknown key", err, connect.CodeUnauthenticated, apperr.ReasonAPIKeyInvalid)
	})
}

// An API key works over curl-style JSON with a bearer header.
func TestAPIKeyJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	owner := e.developer(t, "owner@example.com")
	app := e.newApp(t, owner, "JSON")
	post := func(bearer, method, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/cosync.admin.v1.AdminService/"+method, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v in %s", method, err, b)
		}
		return res.StatusCode, out
	}
	code, out := post(owner, "CreateApiKey", `{"app_id": "`+app+`", "name": "script", "role": "MEMBER_ROLE_ADMIN"}`)
	secret, _ := out["secret"].(string)
	if code != http.StatusOK || !secretRE.MatchString(secret) {
		t.Fatalf("CreateApiKey = %d %v", code, out)
	}
	code, out = post(secret, "GetCaller", `{}`)
	if code != http.StatusOK || out["appId"] != app || out["role"] != "MEMBER_ROLE_ADMIN" {
		t.Errorf("GetCaller(key) = %d %v", code, out)
	}
	code, out = post("csk_nope", "GetApp", `{"app_id": "`+app+`"}`)
	if code != http.StatusUnauthorized || out["code"] != "unauthenticated" {
		t.Errorf("GetApp(bad key) = %d %v", code, out)
	}
}

// With COSYNC_DEVELOPER_SIGNUP, developers sign up to the console through
// AuthService and start as plain developers; without it, they cannot.
func TestDeveloperSignup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := context.Background()
		key := withMasterKey(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))) // restarts share the database
		e := newEnv(t, s, key)
		_, err := e.auth.SignUp(as(ctx, identity.ConsoleAppID, ""), &authv1.SignUpRequest{Handle: "new@example.com", Password: "long-enough-pw"})
		wantReason(t, "SignUp(console) by default", err, connect.CodeFailedPrecondition, apperr.ReasonSignupDisabled)

		e = newEnv(t, s, key, withDeveloperSettings(true, false)) // a restart with the setting on
		op := e.operator(t, "op@example.com")
		if _, err := e.auth.SignUp(as(ctx, identity.ConsoleAppID, ""), &authv1.SignUpRequest{Handle: "new@example.com", Password: "short"}); err == nil {
			t.Error("SignUp(console) with a short password succeeded; the console's password policy applies")
		}
		if _, err := e.auth.SignUp(as(ctx, identity.ConsoleAppID, ""), &authv1.SignUpRequest{Handle: "new@example.com", Password: "long-enough-pw"}); err != nil {
			t.Fatalf("SignUp(console) = %v", err)
		}
		res, err := e.auth.CompleteSignUp(as(ctx, identity.ConsoleAppID, ""), &authv1.CompleteSignUpRequest{Handle: "new@example.com",
			Code: e.outboxCode(t, op, identity.ConsoleAppID, "new@example.com")})
		if err != nil {
			t.Fatalf("CompleteSignUp(console) = %v", err)
		}
		dev := res.GetSession().GetAccessToken()
		c := e.callerOf(t, dev)
		if c.GetOperator() || !c.GetDeveloperSignupEnabled() || c.GetEmail() != "new@example.com" {
			t.Errorf("GetCaller(signed-up developer) = %v", c)
		}
		app := e.newApp(t, dev, "Mine")
		if _, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: app}); err != nil {
			t.Errorf("GetApp(own app) = %v", err)
		}
		_, err = e.admin.ListOutbox(as(ctx, "", dev), &adminv1.ListOutboxRequest{AppId: identity.ConsoleAppID})
		wantReason(t, "ListOutbox(console) by a signed-up developer", err, connect.CodeNotFound, apperr.ReasonAppNotFound)

		// Turned off again at the next start.
		e = newEnv(t, s, key)
		_, err = e.auth.SignUp(as(ctx, identity.ConsoleAppID, ""), &authv1.SignUpRequest{Handle: "late@example.com", Password: "long-enough-pw"})
		wantReason(t, "SignUp(console) after the setting is off", err, connect.CodeFailedPrecondition, apperr.ReasonSignupDisabled)
	})
}

// With COSYNC_DEVELOPER_REQUIRE_2FA, a developer without a second factor
// is refused every Admin call until they enroll one through AuthService.
func TestDeveloperRequire2FA(t *testing.T) {
	t.Parallel()
	each2FA := func(t *testing.T, fn func(t *testing.T, e *env)) {
		storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newEnv(t, s, withDeveloperSettings(false, true))) })
	}
	each2FA(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		_, err := e.admin.GetCaller(as(ctx, "", dev), &adminv1.GetCallerRequest{})
		wantReason(t, "GetCaller without a second factor", err, connect.CodeFailedPrecondition, apperr.ReasonDeveloperTwoFactorRequired)
		_, err = e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: "x"})
		wantReason(t, "CreateApp without a second factor", err, connect.CodeFailedPrecondition, apperr.ReasonDeveloperTwoFactorRequired)
		e.enrollTOTP(t, identity.ConsoleAppID, dev)
		c := e.callerOf(t, dev)
		if !c.GetDeveloperTwoFactorRequired() {
			t.Errorf("GetCaller = %v, want developer_two_factor_required", c)
		}
		e.newApp(t, dev, "Now allowed")
	})
}

// SetGlobalSwitches changes every app the developer owns or administers,
// and no other.
func TestSetGlobalSwitches(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		dev := e.operator(t, "dev@example.com")
		other := e.developer(t, "other@example.com")
		owned := e.newApp(t, dev, "Owned")
		administered := e.newApp(t, other, "Administered")
		viewed := e.newApp(t, other, "Viewed")
		e.addMember(t, other, administered, "dev@example.com", adminv1.MemberRole_MEMBER_ROLE_ADMIN)
		e.addMember(t, other, viewed, "dev@example.com", adminv1.MemberRole_MEMBER_ROLE_VIEWER)

		res, err := e.admin.SetGlobalSwitches(as(ctx, "", dev), &adminv1.SetGlobalSwitchesRequest{SignupEnabled: proto.Bool(false), InvitesEnabled: proto.Bool(true)})
		if err != nil {
			t.Fatalf("SetGlobalSwitches = %v", err)
		}
		changed := map[string]bool{}
		for _, a := range res.GetApps() {
			changed[a.GetId()] = true
			if a.GetSettings().GetSignupEnabled() || !a.GetSettings().GetInvitesEnabled() {
				t.Errorf("changed app %s settings = %v", a.GetId(), a.GetSettings())
			}
		}
		if len(changed) != 2 || !changed[owned] || !changed[administered] {
			t.Errorf("SetGlobalSwitches changed %v, want %s and %s", changed, owned, administered)
		}
		for _, id := range []string{viewed, identity.ConsoleAppID} {
			a, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: id})
			if err != nil {
				t.Fatal(err)
			}
			if id == viewed && (!a.GetApp().GetSettings().GetSignupEnabled() || a.GetApp().GetSettings().GetInvitesEnabled()) {
				t.Errorf("viewed app's settings changed: %v", a.GetApp().GetSettings())
			}
			if id == identity.ConsoleAppID && a.GetApp().GetSettings().GetInvitesEnabled() {
				t.Errorf("the console's invitations were switched on")
			}
		}
		// Only signup this time, and nothing left to change.
		res, err = e.admin.SetGlobalSwitches(as(ctx, "", dev), &adminv1.SetGlobalSwitchesRequest{SignupEnabled: proto.Bool(false)})
		if err != nil || len(res.GetApps()) != 0 {
			t.Errorf("SetGlobalSwitches again = %v, %v; want no app changed", res, err)
		}
		_, err = e.admin.SetGlobalSwitches(as(ctx, "", dev), &adminv1.SetGlobalSwitchesRequest{})
		if code, _ := reason(err); code != connect.CodeInvalidArgument {
			t.Errorf("SetGlobalSwitches(no switch) = %v, want InvalidArgument", err)
		}
	})
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// Two owners demoting each other at once: one wins, the app keeps an owner.
func TestLastOwnerRace(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		ann := e.developer(t, "ann@example.com")
		bob := e.developer(t, "bob@example.com")
		app := e.newApp(t, ann, "Shared")
		e.addMember(t, ann, app, "bob@example.com", adminv1.MemberRole_MEMBER_ROLE_OWNER)
		errs := make(chan error, 2)
		for _, c := range []struct{ by, other string }{{ann, "bob@example.com"}, {bob, "ann@example.com"}} {
			go func() {
				_, err := e.admin.AddMember(as(ctx, "", c.by), &adminv1.AddMemberRequest{AppId: app, Email: c.other, Role: adminv1.MemberRole_MEMBER_ROLE_VIEWER})
				errs <- err
			}()
		}
		refused := 0
		for range 2 {
			if err := <-errs; err != nil {
				// The loser was demoted first (PermissionDenied), or saw the
				// other demoted and would leave none (LAST_OWNER).
				if code, r := reason(err); r != apperr.ReasonLastOwner && code != connect.CodePermissionDenied {
					t.Errorf("AddMember(demote the other owner) = %v, want LAST_OWNER or PermissionDenied", err)
				}
				refused++
			}
		}
		owners := 0
		for _, m := range e.members(t, ann, app) {
			if m.GetRole() == adminv1.MemberRole_MEMBER_ROLE_OWNER {
				owners++
			}
		}
		if refused != 1 || owners != 1 {
			t.Errorf("%d of two crossing demotions refused, %d owners left; want 1 and 1", refused, owners)
		}
	})
}
