package main

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// curlJSON posts a Connect JSON body as curl would and decodes the reply.
func (e *env) curlJSON(tb testing.TB, path string, hdr map[string]string, body string) (int, map[string]any) {
	tb.Helper()
	h := map[string]string{"Content-Type": "application/json", "User-Agent": "curl/8.5.0"}
	for k, v := range hdr {
		h[k] = v
	}
	r := e.send(tb, http.MethodPost, path, h, body)
	return r.status, r.json(tb)
}

// wantErr fails tb unless err carries code and reason.
func wantErr(tb testing.TB, what string, err error, code connect.Code, want apperr.Reason) {
	tb.Helper()
	if c, r := reason(err); c != code || r != want {
		tb.Errorf("%s = %v (%v %q), want %v %q", what, err, c, r, code, want)
	}
}

// TestAdminUsers runs the users RPCs end to end over HTTP: create (curl
// JSON), list with search, filters, total and paging, get with sessions
// and where they came from, revoke one session (only it stops), suspend
// (the user's refresh fails at once, login too), reactivate, reset mail,
// delete, and a stranger who sees nothing.
func TestAdminUsers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		t.Parallel()
		ctx := context.Background()
		dev := e.developer(t, "owner@example.com")
		app := e.appWithNameField(t, dev)
		adm := as(ctx, "", dev)
		ann := e.signUp(t, dev, app, "ann@example.com")
		annID := ann.GetUser().GetId()

		// A second session of ann, from curl.
		status, reply := e.curlJSON(t, "/cosync.auth.v1.AuthService/Login", map[string]string{"Cosync-App-Id": app},
			`{"handle":"ann@example.com","password":"long-enough-pw"}`)
		if status != http.StatusOK {
			t.Fatalf("Login over curl = %d %v", status, reply)
		}
		curlRefresh, _ := reply["session"].(map[string]any)["refreshToken"].(string)

		// CreateUser over curl JSON, then again: ALREADY_EXISTS (409).
		create := `{"app_id":"` + app + `","handle":"Bob@Example.com","password":"long-enough-pw","metadata":{"user_data":{"name":"Bobby"}}}`
		status, reply = e.curlJSON(t, "/cosync.admin.v1.AdminService/CreateUser", map[string]string{"Authorization": "Bearer " + dev}, create)
		user, _ := reply["user"].(map[string]any)
		if status != http.StatusOK || user["email"] != "bob@example.com" || user["hasPassword"] != true {
			t.Fatalf("CreateUser over curl = %d %v, want bob with a password", status, reply)
		}
		bobID, _ := user["id"].(string)
		status, reply = e.curlJSON(t, "/cosync.admin.v1.AdminService/CreateUser", map[string]string{"Authorization": "Bearer " + dev}, create)
		if status != http.StatusConflict || reply["code"] != "already_exists" {
			t.Errorf("CreateUser(taken email) over curl = %d %v, want 409 already_exists", status, reply)
		}
		_, err := e.admin.CreateUser(adm, &adminv1.CreateUserRequest{AppId: app, Handle: "cy@example.com", Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": 7}})})
		if c, _ := reason(err); c != connect.CodeInvalidArgument || !slices.Contains(fields(err), "metadata.user_data.name") {
			t.Errorf("CreateUser(bad metadata) = %v, want InvalidArgument naming metadata.user_data.name", err)
		}

		// ListUsers over curl: the total is every match, int64 as a string.
		status, reply = e.curlJSON(t, "/cosync.admin.v1.AdminService/ListUsers", map[string]string{"Authorization": "Bearer " + dev},
			`{"app_id":"`+app+`","page_size":1}`)
		if users, _ := reply["users"].([]any); status != http.StatusOK || len(users) != 1 || reply["totalSize"] != "2" || reply["nextPageToken"] == "" {
			t.Errorf("ListUsers over curl = %d %v, want one user, totalSize \"2\" and a next page", status, reply)
		}
		list := func(req *adminv1.ListUsersRequest) []string {
			t.Helper()
			req.AppId = app
			res, err := e.admin.ListUsers(adm, req)
			if err != nil {
				t.Fatalf("ListUsers(%v) = %v", req, err)
			}
			var out []string
			for _, u := range res.GetUsers() {
				out = append(out, u.GetEmail())
			}
			if int(res.GetTotalSize()) < len(out) {
				t.Errorf("ListUsers(%v) total %d < %d users", req, res.GetTotalSize(), len(out))
			}
			return out
		}
		for _, tt := range []struct {
			name string
			req  *adminv1.ListUsersRequest
			want []string
		}{
			{"newest first", &adminv1.ListUsersRequest{}, []string{"bob@example.com", "ann@example.com"}},
			{"email prefix", &adminv1.ListUsersRequest{Query: "AN"}, []string{"ann@example.com"}},
			{"metadata value", &adminv1.ListUsersRequest{Query: "bobby"}, []string{"bob@example.com"}},
			{"id", &adminv1.ListUsersRequest{Query: annID}, []string{"ann@example.com"}},
			{"provider apple", &adminv1.ListUsersRequest{Provider: "apple"}, nil},
			{"no second factor", &adminv1.ListUsersRequest{TwoFactor: authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE}, []string{"bob@example.com", "ann@example.com"}},
			{"signed in since", &adminv1.ListUsersRequest{LastLoginAfter: ann.GetUser().GetCreatedAt()}, []string{"ann@example.com"}},
		} {
			if got := list(tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("ListUsers(%s) = %v, want %v", tt.name, got, tt.want)
			}
		}
		_, err = e.admin.ListUsers(adm, &adminv1.ListUsersRequest{AppId: app, PageToken: "bm90LWEtdG9rZW4"})
		if c, _ := reason(err); c != connect.CodeInvalidArgument || !slices.Equal(fields(err), []string{"page_token"}) {
			t.Errorf("ListUsers(forged token) = %v, want InvalidArgument page_token", err)
		}

		// GetUser: both of ann's sessions, the curl one with its User-Agent.
		got, err := e.admin.GetUser(adm, &adminv1.GetUserRequest{AppId: app, UserId: annID})
		if err != nil || len(got.GetSessions()) != 2 {
			t.Fatalf("GetUser(ann) = %v, %v; want two sessions", got, err)
		}
		var curlSession string
		methods := map[string]bool{}
		for _, s := range got.GetSessions() {
			methods[s.GetMethod()] = true
			if s.GetUserAgent() == "curl/8.5.0" {
				curlSession = s.GetId()
				if s.GetIp() != "127.0.0.1" || s.GetMethod() != "password" || s.GetCreatedAt() == nil || s.GetExpiresAt() == nil {
					t.Errorf("curl session = %v, want IP 127.0.0.1, method password, times", s)
				}
			}
		}
		if curlSession == "" || !methods["signup"] {
			t.Errorf("GetUser(ann) sessions = %v, want the curl login and the signup", got.GetSessions())
		}

		// Revoking one session stops only it.
		if _, err := e.admin.RevokeUserSession(adm, &adminv1.RevokeUserSessionRequest{AppId: app, UserId: annID, SessionId: curlSession}); err != nil {
			t.Fatalf("RevokeUserSession = %v", err)
		}
		refresh := func(tok string) (*authv1.Session, error) {
			res, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: tok})
			return res.GetSession(), err
		}
		_, err = refresh(curlRefresh)
		wantErr(t, "RefreshSession(revoked session)", err, connect.CodeUnauthenticated, apperr.ReasonSessionRevoked)
		next, err := refresh(ann.GetRefreshToken())
		if err != nil {
			t.Fatalf("RefreshSession(the other session) = %v", err)
		}
		got, err = e.admin.GetUser(adm, &adminv1.GetUserRequest{AppId: app, UserId: annID})
		if err != nil || len(got.GetSessions()) != 1 || got.GetSessions()[0].GetLastUsedAt() == nil {
			t.Errorf("GetUser(ann) after revoking one and refreshing the other = %v, %v; want one session with a last use", got, err)
		}

		// Suspension: the remaining session's refresh fails at once; so does login.
		_, err = e.admin.UpdateUser(adm, &adminv1.UpdateUserRequest{AppId: app, UserId: annID, Status: authv1.UserStatus_USER_STATUS_SUSPENDED,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status", "email"}}})
		if c, _ := reason(err); c != connect.CodeInvalidArgument || !slices.Equal(fields(err), []string{"update_mask"}) {
			t.Errorf("UpdateUser(mask email) = %v, want InvalidArgument update_mask", err)
		}
		upd, err := e.admin.UpdateUser(adm, &adminv1.UpdateUserRequest{AppId: app, UserId: annID, Status: authv1.UserStatus_USER_STATUS_SUSPENDED,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}})
		if err != nil || upd.GetUser().GetStatus() != authv1.UserStatus_USER_STATUS_SUSPENDED {
			t.Fatalf("UpdateUser(suspend) = %v, %v", upd, err)
		}
		_, err = refresh(next.GetRefreshToken())
		wantErr(t, "RefreshSession after the suspension", err, connect.CodeUnauthenticated, apperr.ReasonSessionRevoked)
		_, err = e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
		wantErr(t, "Login while suspended", err, connect.CodePermissionDenied, apperr.ReasonAccountSuspended)
		upd, err = e.admin.UpdateUser(adm, &adminv1.UpdateUserRequest{AppId: app, UserId: annID, Status: authv1.UserStatus_USER_STATUS_ACTIVE,
			Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Annie", "age": 41}}), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status", "metadata"}}})
		if err != nil || upd.GetUser().GetStatus() != authv1.UserStatus_USER_STATUS_ACTIVE || upd.GetUser().GetMetadata().AsMap()["user_data"].(map[string]any)["name"] != "Annie" {
			t.Fatalf("UpdateUser(reactivate, metadata) = %v, %v", upd, err)
		}
		e.login(t, app, "ann@example.com", "long-enough-pw")
		if _, err := e.admin.ResetUserTwoFactor(adm, &adminv1.ResetUserTwoFactorRequest{AppId: app, UserId: annID}); err != nil {
			t.Errorf("ResetUserTwoFactor = %v", err)
		}
		if _, err := e.admin.RevokeUserSessions(adm, &adminv1.RevokeUserSessionsRequest{AppId: app, UserId: annID}); err != nil {
			t.Fatalf("RevokeUserSessions = %v", err)
		}
		if got, err := e.admin.GetUser(adm, &adminv1.GetUserRequest{AppId: app, UserId: annID}); err != nil || len(got.GetSessions()) != 0 {
			t.Errorf("GetUser after RevokeUserSessions = %v, %v; want no sessions", got, err)
		}

		// A reset mail from the developer, then delete.
		if _, err := e.admin.SendPasswordReset(adm, &adminv1.SendPasswordResetRequest{AppId: app, UserId: bobID}); err != nil {
			t.Fatalf("SendPasswordReset = %v", err)
		}
		code := e.outboxCode(t, dev, app, "bob@example.com")
		if _, err := e.auth.ResetPassword(as(ctx, app, ""), &authv1.ResetPasswordRequest{Handle: "bob@example.com", Code: code, NewPassword: "bobs-new-password"}); err != nil {
			t.Fatalf("ResetPassword with the developer's mail = %v", err)
		}
		if _, err := e.admin.DeleteUser(adm, &adminv1.DeleteUserRequest{AppId: app, UserId: bobID}); err != nil {
			t.Fatalf("DeleteUser = %v", err)
		}
		_, err = e.admin.GetUser(adm, &adminv1.GetUserRequest{AppId: app, UserId: bobID})
		wantErr(t, "GetUser(deleted)", err, connect.CodeNotFound, apperr.ReasonNotFound)

		// A developer who is not a member sees no app, hence no users.
		stranger := as(ctx, "", e.developer(t, "stranger@example.com"))
		_, err = e.admin.GetUser(stranger, &adminv1.GetUserRequest{AppId: app, UserId: annID})
		wantErr(t, "GetUser by a stranger", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		_, err = e.admin.UpdateUser(stranger, &adminv1.UpdateUserRequest{AppId: app, UserId: annID, Status: authv1.UserStatus_USER_STATUS_SUSPENDED,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}})
		wantErr(t, "UpdateUser by a stranger", err, connect.CodeNotFound, apperr.ReasonAppNotFound)
		e.login(t, app, "ann@example.com", "long-enough-pw") // still active
	})
}
