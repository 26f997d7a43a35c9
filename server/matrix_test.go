package main

// The tenant-isolation matrix: every AdminService RPC, run as every kind of
// caller, must answer as the caller's standing allows — and a refusal must
// change nothing in the database.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// need is the least standing an RPC needs.
type need int

const (
	needViewer    need = iota // a role in the app named by app_id
	needAdmin                 //
	needOwner                 //
	needDeveloper             // any developer, never an API key (CreateApp, SetGlobalSwitches)
	needAnyone                // any valid credential (GetCaller)
	needOperator              // operators only (ListApps with all)
)

func (n need) role() identity.Role {
	return [...]identity.Role{identity.RoleViewer, identity.RoleAdmin, identity.RoleOwner}[n]
}

// matrixRow says how to call one RPC. build returns a valid request against
// the seeded app A; with fresh (the call is expected to succeed and would
// use up what it acts on) it first seeds a new target of its own.
type matrixRow struct {
	need  need
	build func(t *testing.T, f *matrixFixture, fresh bool) proto.Message
	fresh bool // build seeds a new target for an allowed call
}

// matrixCaller is one kind of caller.
type matrixCaller struct {
	name   string
	bearer func(f *matrixFixture) string
	dev    bool          // a developer's console token
	op     bool          // the operator
	key    string        // "A" or "B": an API key of that app
	role   identity.Role // standing in app A ("" for none)
	unauth bool          // no valid credential
}

var matrixCallers = []matrixCaller{
	{name: "stranger", bearer: func(f *matrixFixture) string { return f.stranger }, dev: true},
	{name: "viewer", bearer: func(f *matrixFixture) string { return f.viewer }, dev: true, role: identity.RoleViewer},
	{name: "admin", bearer: func(f *matrixFixture) string { return f.admin }, dev: true, role: identity.RoleAdmin},
	{name: "owner", bearer: func(f *matrixFixture) string { return f.owner }, dev: true, role: identity.RoleOwner},
	// Operators see every app as viewers where they are not members.
	{name: "operator", bearer: func(f *matrixFixture) string { return f.operator }, dev: true, op: true, role: identity.RoleViewer},
	{name: "admin API key of app A", bearer: func(f *matrixFixture) string { return f.keyA }, key: "A", role: identity.RoleAdmin},
	{name: "admin API key of another app", bearer: func(f *matrixFixture) string { return f.keyB }, key: "B"},
	{name: "app user's access token", bearer: func(f *matrixFixture) string { return f.userToken }, unauth: true},
	{name: "expired console token", bearer: func(f *matrixFixture) string { return f.expired }, unauth: true},
	{name: "no token", bearer: func(*matrixFixture) string { return "" }, unauth: true},
}

// expected is the answer a caller must get: allowed, or a refusal's code
// (and reason, when it is fixed).
type expected struct {
	allowed bool
	code    connect.Code
	reason  apperr.Reason
}

func (r matrixRow) expect(c matrixCaller) expected {
	notFound := expected{code: connect.CodeNotFound, reason: apperr.ReasonAppNotFound}
	denied := expected{code: connect.CodePermissionDenied}
	switch {
	case c.unauth:
		return expected{code: connect.CodeUnauthenticated}
	case r.need == needAnyone:
		return expected{allowed: true}
	case r.need == needDeveloper:
		if c.key != "" {
			return denied
		}
		return expected{allowed: true}
	case r.need == needOperator:
		if c.op {
			return expected{allowed: true}
		}
		return expected{code: connect.CodePermissionDenied, reason: apperr.ReasonOperatorOnly}
	case c.key == "B" || c.role == "":
		return notFound
	case c.role.Allows(r.need.role()):
		return expected{allowed: true}
	}
	return denied
}

// matrixRows has a row for every AdminService RPC; TestTenantMatrix fails
// for an RPC without one.
var matrixRows = map[string]matrixRow{
	"CreateApp": {need: needDeveloper, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.CreateAppRequest{Name: "Matrix"}
	}},
	"GetCaller": {need: needAnyone, build: func(*testing.T, *matrixFixture, bool) proto.Message { return &adminv1.GetCallerRequest{} }},
	"ListApps": {need: needOperator, build: func(*testing.T, *matrixFixture, bool) proto.Message {
		return &adminv1.ListAppsRequest{All: true}
	}},
	"GetApp": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.GetAppRequest{AppId: f.app}
	}},
	"UpdateApp": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.UpdateAppRequest{AppId: f.app, Name: "App A", UpdateMask: mask("name")}
	}},
	"DeleteApp": {need: needOwner, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if fresh {
			return &adminv1.DeleteAppRequest{AppId: f.e.newApp(t, f.owner, "Doomed")}
		}
		return &adminv1.DeleteAppRequest{AppId: f.app}
	}},
	"ListSigningKeys": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListSigningKeysRequest{AppId: f.app}
	}},
	"RotateSigningKey": {need: needOwner, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.RotateSigningKeyRequest{AppId: f.app}
	}},
	"ListMembers": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListMembersRequest{AppId: f.app}
	}},
	"AddMember": {need: needOwner, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.AddMemberRequest{AppId: f.app, Email: f.email("member"), Role: adminv1.MemberRole_MEMBER_ROLE_VIEWER}
	}},
	// Owners remove anyone (a member may remove themselves: TestMembers).
	"RemoveMember": {need: needOwner, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.RemoveMemberRequest{AppId: f.app, DeveloperId: f.ownerID}
		}
		email := f.email("leaver")
		f.e.newDeveloper(t, email, false)
		m := f.e.addMember(t, f.owner, f.app, email, adminv1.MemberRole_MEMBER_ROLE_VIEWER)
		return &adminv1.RemoveMemberRequest{AppId: f.app, DeveloperId: m.GetMember().GetDeveloperId()}
	}},
	"CreateApiKey": {need: needOwner, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.CreateApiKeyRequest{AppId: f.app, Name: "matrix", Role: adminv1.MemberRole_MEMBER_ROLE_VIEWER}
	}},
	// Admins may list keys (never their secrets); owners manage them.
	"ListApiKeys": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListApiKeysRequest{AppId: f.app}
	}},
	"RevokeApiKey": {need: needOwner, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.RevokeApiKeyRequest{AppId: f.app, ApiKeyId: f.keyAID}
		}
		res, err := f.e.admin.CreateApiKey(as(context.Background(), "", f.owner), &adminv1.CreateApiKeyRequest{AppId: f.app, Name: "doomed", Role: adminv1.MemberRole_MEMBER_ROLE_VIEWER})
		if err != nil {
			t.Fatalf("CreateApiKey = %v", err)
		}
		return &adminv1.RevokeApiKeyRequest{AppId: f.app, ApiKeyId: res.GetApiKey().GetId()}
	}},
	"ListUsers": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListUsersRequest{AppId: f.app}
	}},
	"GetUser": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.GetUserRequest{AppId: f.app, UserId: f.userID}
	}},
	"CreateUser": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.CreateUserRequest{AppId: f.app, Handle: f.email("created"), Password: "long-enough-pw"}
	}},
	"UpdateUser": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.UpdateUserRequest{AppId: f.app, UserId: f.userID, Status: authv1.UserStatus_USER_STATUS_ACTIVE, UpdateMask: mask("status")}
	}},
	"DeleteUser": {need: needAdmin, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.DeleteUserRequest{AppId: f.app, UserId: f.userID}
		}
		return &adminv1.DeleteUserRequest{AppId: f.app, UserId: f.newUser(t).GetUser().GetId()}
	}},
	"RevokeUserSessions": {need: needAdmin, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.RevokeUserSessionsRequest{AppId: f.app, UserId: f.userID}
		}
		return &adminv1.RevokeUserSessionsRequest{AppId: f.app, UserId: f.newUser(t).GetUser().GetId()}
	}},
	"RevokeUserSession": {need: needAdmin, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.RevokeUserSessionRequest{AppId: f.app, UserId: f.userID, SessionId: sessionID(t, f.userToken)}
		}
		s := f.newUser(t)
		return &adminv1.RevokeUserSessionRequest{AppId: f.app, UserId: s.GetUser().GetId(), SessionId: sessionID(t, s.GetAccessToken())}
	}},
	"ResetUserTwoFactor": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ResetUserTwoFactorRequest{AppId: f.app, UserId: f.userID}
	}},
	"SendPasswordReset": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.SendPasswordResetRequest{AppId: f.app, UserId: f.userID}
	}},
	"CreateInvitations": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.CreateInvitationsRequest{AppId: f.app, Invitations: []*adminv1.InvitationInput{{Handle: f.email("invitee")}}}
	}},
	"ListInvitations": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListInvitationsRequest{AppId: f.app}
	}},
	"ResendInvitation": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ResendInvitationRequest{AppId: f.app, InvitationId: f.invitationID}
	}},
	"RevokeInvitation": {need: needAdmin, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.RevokeInvitationRequest{AppId: f.app, InvitationId: f.invitationID}
		}
		return &adminv1.RevokeInvitationRequest{AppId: f.app, InvitationId: f.invite(t, f.email("revoked"))}
	}},
	"ListPendingSignups": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListPendingSignupsRequest{AppId: f.app}
	}},
	"DeletePendingSignup": {need: needAdmin, fresh: true, build: func(t *testing.T, f *matrixFixture, fresh bool) proto.Message {
		if !fresh {
			return &adminv1.DeletePendingSignupRequest{AppId: f.app, PendingSignupId: f.pendingID}
		}
		return &adminv1.DeletePendingSignupRequest{AppId: f.app, PendingSignupId: f.pendingSignup(t, f.email("pending"))}
	}},
	"ResendPendingSignup": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ResendPendingSignupRequest{AppId: f.app, PendingSignupId: f.pendingID}
	}},
	// Signup is on in app A already: an allowed call changes nothing there.
	"SetGlobalSwitches": {need: needDeveloper, build: func(*testing.T, *matrixFixture, bool) proto.Message {
		return &adminv1.SetGlobalSwitchesRequest{SignupEnabled: proto.Bool(true)}
	}},
	"ListEmailTemplates": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListEmailTemplatesRequest{AppId: f.app, Locale: "en"}
	}},
	"UpdateEmailTemplate": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.UpdateEmailTemplateRequest{AppId: f.app, Template: matrixTemplate()}
	}},
	"PreviewEmailTemplate": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.PreviewEmailTemplateRequest{AppId: f.app, Template: matrixTemplate()}
	}},
	"ListLocales": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListLocalesRequest{AppId: f.app}
	}},
	"GetStats": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.GetStatsRequest{AppId: f.app}
	}},
	"ListAuditEvents": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListAuditEventsRequest{AppId: f.app}
	}},
	"SendTestEmail": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.SendTestEmailRequest{AppId: f.app, To: "qa@example.com", Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en"}
	}},
	// No Twilio in app A: an allowed call fails SMS_NOT_CONFIGURED, after the access check.
	"SendTestSms": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.SendTestSmsRequest{AppId: f.app, Phone: "+15550100"}
	}},
	"GetIntegrationSnippets": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.GetIntegrationSnippetsRequest{AppId: f.app}
	}},
	// A dry run of an export with no users: writes nothing even when allowed.
	"ImportCosyncJwtUsers": {need: needAdmin, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ImportCosyncJwtUsersRequest{AppId: f.app, Export: []byte("_id,handle\n"), DryRun: true}
	}},
	"ListOutbox": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListOutboxRequest{AppId: f.app}
	}},
	"ListDeliveries": {need: needViewer, build: func(t *testing.T, f *matrixFixture, _ bool) proto.Message {
		return &adminv1.ListDeliveriesRequest{AppId: f.app}
	}},
}

func matrixTemplate() *adminv1.EmailTemplate {
	return &adminv1.EmailTemplate{Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en",
		Subject: "Your {{.AppName}} code", Text: "Code {{.Code}}", Html: "<p>Code {{.Code}}</p>"}
}

// matrixFixture is what the rows act on: app A with an owner, an admin and
// a viewer, an API key of A (admin) and of another app B, a user of A with
// a session, an invitation and a pending signup.
type matrixFixture struct {
	e                                          *env
	app, appB                                  string
	owner, admin, viewer, stranger, operator   string // console access tokens
	ownerID                                    string
	keyA, keyAID, keyB                         string
	userToken, userID, invitationID, pendingID string
	expired                                    string
	n                                          atomic.Int64
}

// email returns a new address, so repeated allowed calls never collide.
func (f *matrixFixture) email(what string) string {
	return fmt.Sprintf("%s-%d@example.com", what, f.n.Add(1))
}

// newUser signs a user up to app A and returns their session.
func (f *matrixFixture) newUser(t *testing.T) *authv1.Session {
	t.Helper()
	email := f.email("user")
	f.pendingSignup(t, email)
	ctx := as(context.Background(), f.app, "")
	res, err := f.e.auth.CompleteSignUp(ctx, &authv1.CompleteSignUpRequest{Handle: email, Code: f.e.outboxCode(t, f.owner, f.app, email)})
	if err != nil {
		t.Fatalf("CompleteSignUp(%s) = %v", email, err)
	}
	return res.GetSession()
}

// pendingSignup starts a signup to app A and returns its pending signup id.
func (f *matrixFixture) pendingSignup(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := f.e.auth.SignUp(as(ctx, f.app, ""), &authv1.SignUpRequest{Handle: email, Password: "long-enough-pw"}); err != nil {
		t.Fatalf("SignUp(%s) = %v", email, err)
	}
	c, err := f.e.p.store.FindCode(ctx, f.app, identity.PurposeSignup, email)
	if err != nil {
		t.Fatalf("FindCode(%s) = %v", email, err)
	}
	f.e.flush(t)
	return c.ID
}

// invite invites email to app A as its owner and returns the invitation id.
func (f *matrixFixture) invite(t *testing.T, email string) string {
	t.Helper()
	res, err := f.e.admin.CreateInvitations(as(context.Background(), "", f.owner), &adminv1.CreateInvitationsRequest{
		AppId: f.app, Invitations: []*adminv1.InvitationInput{{Handle: email}}})
	if err != nil || len(res.GetInvitations()) != 1 {
		t.Fatalf("CreateInvitations(%s) = %v, %v", email, res, err)
	}
	return res.GetInvitations()[0].GetId()
}

// sessionID reads the sid claim of an access token.
func sessionID(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(b, &claims); err != nil || claims.SID == "" {
		t.Fatalf("no sid in %s (%v)", b, err)
	}
	return claims.SID
}

func seedMatrix(t *testing.T, e *env) *matrixFixture {
	t.Helper()
	ctx := context.Background()
	f := &matrixFixture{e: e}
	// A console token that expired: signed in two hours ago, valid for one.
	e.clock.Advance(-2 * time.Hour)
	f.expired = e.developer(t, "expired@example.com")
	e.clock.Advance(2 * time.Hour)

	f.operator = e.operator(t, "operator@example.com")
	f.owner = e.developer(t, "owner@example.com")
	f.admin = e.developer(t, "admin@example.com")
	f.viewer = e.developer(t, "viewer@example.com")
	f.stranger = e.developer(t, "stranger@example.com")
	f.ownerID = e.callerOf(t, f.owner).GetDeveloperId()
	f.app = e.newApp(t, f.owner, "App A")
	e.update(t, f.owner, f.app, &adminv1.AppSettings{InvitesEnabled: true}, "settings.invites_enabled")
	e.addMember(t, f.owner, f.app, "admin@example.com", adminv1.MemberRole_MEMBER_ROLE_ADMIN)
	e.addMember(t, f.owner, f.app, "viewer@example.com", adminv1.MemberRole_MEMBER_ROLE_VIEWER)
	key, err := e.admin.CreateApiKey(as(ctx, "", f.owner), &adminv1.CreateApiKeyRequest{AppId: f.app, Name: "A", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
	if err != nil {
		t.Fatalf("CreateApiKey(A) = %v", err)
	}
	f.keyA, f.keyAID = key.GetSecret(), key.GetApiKey().GetId()

	other := e.developer(t, "other-owner@example.com")
	f.appB = e.newApp(t, other, "App B")
	key, err = e.admin.CreateApiKey(as(ctx, "", other), &adminv1.CreateApiKeyRequest{AppId: f.appB, Name: "B", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
	if err != nil {
		t.Fatalf("CreateApiKey(B) = %v", err)
	}
	f.keyB = key.GetSecret()

	s := f.newUser(t)
	f.userToken, f.userID = s.GetAccessToken(), s.GetUser().GetId()
	f.invitationID = f.invite(t, "invited@example.com")
	f.pendingID = f.pendingSignup(t, "pending@example.com")
	// Each key's first use records it; the frozen clock keeps later uses
	// from writing again (once a minute), so a refused call by a key
	// leaves its row as it was.
	e.callerOf(t, f.keyA)
	e.callerOf(t, f.keyB)
	e.flush(t)
	return f
}

// matrixDB opens a second connection to the test database, for snapshots.
type matrixDB struct {
	db      *sql.DB
	dialect string
}

// snapshot dumps every table's rows, sorted, except:
//   - rate_limits: limiter counters are spent before some checks (a key's
//     CreateApp counts against the creation limit, then is given back) and
//     are not state a refusal could leak or corrupt;
//   - outbox_messages, and deliveries' progress columns: the send worker
//     running beside the server writes them as it delivers what earlier,
//     allowed calls queued. A call's own mail is a new deliveries row,
//     which is compared (id, app, channel, recipient, subject, created).
//
// audit_events are compared: refusals are not audited.
func (m matrixDB) snapshot(t *testing.T) map[string][]string {
	t.Helper()
	ctx := context.Background()
	q := "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
	if m.dialect == store.SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	}
	tables := snapshotStrings(t, m.db, q)
	out := map[string][]string{}
	for _, table := range tables {
		cols := "*"
		switch table {
		case "rate_limits", "outbox_messages":
			continue
		case "deliveries":
			cols = "id, app_id, channel, to_addr, subject, created_at"
		}
		rows, err := m.db.QueryContext(ctx, "SELECT "+cols+" FROM "+table)
		if err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		names, _ := rows.Columns()
		var dump []string
		for rows.Next() {
			vals := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("snapshot %s: %v", table, err)
			}
			var b strings.Builder
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s=%v ", names[i], v)
			}
			dump = append(dump, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(dump)
		out[table] = dump
	}
	return out
}

func snapshotStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// diff names the tables whose rows differ and the rows that do.
func diff(before, after map[string][]string) string {
	var b strings.Builder
	for table, rows := range after {
		was := before[table]
		if slices.Equal(was, rows) {
			continue
		}
		fmt.Fprintf(&b, "%s:\n", table)
		for _, r := range rows {
			if !slices.Contains(was, r) {
				fmt.Fprintf(&b, "  + %s\n", r)
			}
		}
		for _, r := range was {
			if !slices.Contains(rows, r) {
				fmt.Fprintf(&b, "  - %s\n", r)
			}
		}
	}
	return b.String()
}

// TestTenantMatrix runs every AdminService RPC as every kind of caller on
// SQLite and Postgres, one server each.
func TestTenantMatrix(t *testing.T) {
	t.Parallel()
	methods := adminv1.File_cosync_admin_v1_admin_proto.Services().ByName("AdminService").Methods()
	for i := range methods.Len() {
		if _, ok := matrixRows[string(methods.Get(i).Name())]; !ok {
			t.Errorf("AdminService.%s has no row in matrixRows: say who may call it", methods.Get(i).Name())
		}
	}
	if len(matrixRows) != methods.Len() {
		t.Errorf("matrixRows has %d rows for %d RPCs: remove rows of RPCs that are gone", len(matrixRows), methods.Len())
	}
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s, db := matrixStore(t, dialect)
			e := newEnv(t, s)
			f := seedMatrix(t, e)
			client := reflect.ValueOf(e.admin)
			for i := range methods.Len() {
				name := string(methods.Get(i).Name())
				row, ok := matrixRows[name]
				if !ok {
					continue
				}
				t.Run(name, func(t *testing.T) {
					for _, c := range matrixCallers {
						want := row.expect(c)
						req := row.build(t, f, want.allowed && row.fresh)
						var before map[string][]string
						if !want.allowed {
							e.flush(t)
							before = db.snapshot(t)
						}
						out := client.MethodByName(name).Call([]reflect.Value{
							reflect.ValueOf(as(context.Background(), "", c.bearer(f))), reflect.ValueOf(req)})
						err, _ := out[1].Interface().(error)
						code, r := reason(err)
						if want.allowed {
							if code == connect.CodePermissionDenied || code == connect.CodeNotFound || code == connect.CodeUnauthenticated || code == connect.CodeUnimplemented {
								t.Errorf("%s as %s = %v; want it allowed", name, c.name, err)
							}
							continue
						}
						if code != want.code || (want.reason != "" && r != want.reason) {
							t.Errorf("%s as %s = %v (%v %q); want %v %q", name, c.name, err, code, r, want.code, want.reason)
						}
						if d := diff(before, db.snapshot(t)); d != "" {
							t.Errorf("%s as %s was refused but changed the database:\n%s", name, c.name, d)
						}
					}
				})
			}
		})
	}
}

// matrixStore returns a fresh migrated store and a second connection to
// the same database for snapshots.
func matrixStore(t *testing.T, dialect string) (*store.Store, matrixDB) {
	t.Helper()
	var url, driver string
	var db *sql.DB
	if dialect == store.Postgres {
		url = storetest.EmptyPostgres(t)
		db = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(storetest.DriverURL(t, url))))
	} else {
		url = filepath.Join(t.TempDir(), "cosync.db")
		driver = sqliteshim.ShimName
	}
	s, err := store.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if db == nil {
		if db, err = sql.Open(driver, "file:"+url+"?_pragma=busy_timeout(10000)"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = db.Close() })
	return s, matrixDB{db: db, dialect: dialect}
}
