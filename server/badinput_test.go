package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// TestBadInput sends every implemented RPC bad input and checks the code,
// the reason or field, and that nothing was written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// Start 90 minutes ago, so one user's token has expired by "now".
		e.clock.Advance(-90 * time.Minute)
		dev := e.developer(t, "dev@example.com")
		other := e.developer(t, "other@example.com")
		app := e.appWithNameField(t, dev)
		otherApp := e.appWithNameField(t, other)
		old := e.signUp(t, dev, app, "old@example.com")
		e.clock.Advance(90 * time.Minute)
		dev, other = e.login(t, identity.ConsoleAppID, "dev@example.com", "dev-password-1"), e.login(t, identity.ConsoleAppID, "other@example.com", "dev-password-1")
		op := e.operator(t, "op@example.com")
		sess := e.signUp(t, dev, app, "ann@example.com")
		good := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bo"}})
		tampered := sess.GetAccessToken()[:len(sess.GetAccessToken())-6] + "AAAAAA"
		foreign := e.signUp(t, other, otherApp, "ann@example.com").GetAccessToken()

		before := e.snapshot(t, dev, app)
		cases := []struct {
			name   string
			call   func() error
			code   connect.Code
			reason apperr.Reason // ErrorInfo reason, when the domain answers
			field  string        // a field the error must name
		}{
			{"signup empty email", func() error {
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "", Password: "long-enough-pw", Metadata: good})
				return err
			}, connect.CodeInvalidArgument, "", "handle"},
			{"signup malformed email", func() error {
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo.example.com", Password: "long-enough-pw", Metadata: good})
				return err
			}, connect.CodeInvalidArgument, "", "handle"},
			{"signup 2-character password", func() error {
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "ab", Metadata: good})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonPasswordPolicy, "password"},
			{"signup unknown app", func() error {
				_, err := e.auth.SignUp(as(ctx, "no-such-app", ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: good})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"signup without app id", func() error {
				_, err := e.auth.SignUp(ctx, &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: good})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonAppIDRequired, ""},
			{"signup missing required metadata", func() error {
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw"})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.user_data.name"},
			{"signup metadata of the wrong type", func() error {
				md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bo", "age": "old"}})
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: md})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.user_data.age"},
			{"signup unknown metadata", func() error {
				md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bo"}, "admin": true})
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: md})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.admin"},
			{"signup unsupported locale", func() error {
				_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: good, Locale: "fr"})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonLocaleUnsupported, "locale"},
			{"complete signup malformed code", func() error {
				_, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "bo@example.com", Code: "12ab"})
				return err
			}, connect.CodeInvalidArgument, "", "code"},
			{"complete signup with no pending signup", func() error {
				_, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "bo@example.com", Code: "123456"})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code"},
			{"login empty handle", func() error {
				_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "", Password: "x"})
				return err
			}, connect.CodeInvalidArgument, "", "handle"},
			{"login wrong password", func() error {
				_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials, ""},
			{"login unknown user", func() error {
				_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "nobody@example.com", Password: "wrong-password"})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials, ""},
			{"get user without bearer", func() error {
				_, err := e.auth.GetUser(as(ctx, app, ""), &authv1.GetUserRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenMissing, ""},
			{"get user with tampered bearer", func() error {
				_, err := e.auth.GetUser(as(ctx, app, tampered), &authv1.GetUserRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenInvalid, ""},
			{"get user with expired bearer", func() error {
				_, err := e.auth.GetUser(as(ctx, app, old.GetAccessToken()), &authv1.GetUserRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenExpired, ""},
			{"get user with another app's token", func() error {
				_, err := e.auth.GetUser(as(ctx, app, foreign), &authv1.GetUserRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenInvalid, ""},
			{"refresh with garbage", func() error {
				_, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: "garbage"})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonRefreshTokenInvalid, ""},
			{"refresh with another app's token", func() error {
				_, err := e.auth.RefreshSession(as(ctx, otherApp, ""), &authv1.RefreshSessionRequest{RefreshToken: sess.GetRefreshToken()})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonRefreshTokenInvalid, ""},
			{"logout without bearer", func() error {
				_, err := e.auth.Logout(as(ctx, app, ""), &authv1.LogoutRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenMissing, ""},
			{"admin without bearer", func() error {
				_, err := e.admin.ListApps(ctx, &adminv1.ListAppsRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenMissing, ""},
			{"admin with an app user's token", func() error {
				_, err := e.admin.ListApps(as(ctx, "", sess.GetAccessToken()), &adminv1.ListAppsRequest{})
				return err
			}, connect.CodeUnauthenticated, apperr.ReasonTokenInvalid, ""},
			{"create app without name", func() error {
				_, err := e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: ""})
				return err
			}, connect.CodeInvalidArgument, "", "name"},
			{"create app with bad settings", func() error {
				_, err := e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: "x", Settings: &adminv1.AppSettings{TokenLifetime: durationpb.New(time.Second)}})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.token_lifetime"},
			{"get another developer's app", func() error {
				_, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: otherApp})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"update another developer's app", func() error {
				_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{AppId: otherApp, Name: "mine", UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"list another developer's keys", func() error {
				_, err := e.admin.ListSigningKeys(as(ctx, "", dev), &adminv1.ListSigningKeysRequest{AppId: otherApp})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"delete another developer's app", func() error {
				_, err := e.admin.DeleteApp(as(ctx, "", dev), &adminv1.DeleteAppRequest{AppId: otherApp})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"update with an unknown mask path", func() error {
				_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{AppId: app, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.nope"}}})
				return err
			}, connect.CodeInvalidArgument, "", "update_mask"},
			{"update the app id", func() error {
				_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{AppId: app, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"app_id"}}})
				return err
			}, connect.CodeInvalidArgument, "", "update_mask"},
			{"update to an invalid policy", func() error {
				_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{AppId: app,
					Settings:   &adminv1.AppSettings{PasswordPolicy: &authv1.PasswordPolicy{MinLength: 3}},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.password_policy.min_length"}}})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.password_policy.min_length"},
			{"update metadata field onto a reserved claim", func() error {
				_, err := e.admin.UpdateApp(as(ctx, "", dev), &adminv1.UpdateAppRequest{AppId: app,
					Settings: &adminv1.AppSettings{SignupMetadataFields: []*authv1.MetadataField{
						{Path: "sub", Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING}}},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.signup_metadata_fields"}}})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.signup_metadata_fields[0].path"},
			{"delete the console app as a developer", func() error {
				_, err := e.admin.DeleteApp(as(ctx, "", dev), &adminv1.DeleteAppRequest{AppId: identity.ConsoleAppID})
				return err
			}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
			{"delete the console app as its operator", func() error {
				_, err := e.admin.DeleteApp(as(ctx, "", op), &adminv1.DeleteAppRequest{AppId: identity.ConsoleAppID})
				return err
			}, connect.CodeFailedPrecondition, apperr.ReasonBuiltinApp, ""},
			{"outbox of an empty app id", func() error {
				_, err := e.admin.ListOutbox(as(ctx, "", dev), &adminv1.ListOutboxRequest{AppId: ""})
				return err
			}, connect.CodeInvalidArgument, "", "app_id"},
			{"list users with a forged page token", func() error {
				_, err := e.admin.ListUsers(as(ctx, "", dev), &adminv1.ListUsersRequest{AppId: app, PageToken: "eyJjIjoxLCJpIjoieCIsImYiOiJ5In0"})
				return err
			}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "page_token"},
			{"update a user with an unknown mask path", func() error {
				_, err := e.admin.UpdateUser(as(ctx, "", dev), &adminv1.UpdateUserRequest{AppId: app, UserId: "nobody",
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email"}}})
				return err
			}, connect.CodeInvalidArgument, "", "update_mask"},
		}
		for _, tc := range cases {
			err := tc.call()
			code, r := reason(err)
			if code != tc.code {
				t.Errorf("%s: code = %v (%v), want %v", tc.name, code, err, tc.code)
			}
			if tc.reason != "" && r != tc.reason {
				t.Errorf("%s: reason = %q, want %q", tc.name, r, tc.reason)
			}
			if tc.field != "" && !slices.Contains(fields(err), tc.field) {
				t.Errorf("%s: fields = %v, want %q named (%v)", tc.name, fields(err), tc.field, err)
			}
			if code == connect.CodeInternal {
				t.Errorf("%s: Internal for bad input: %v", tc.name, err)
			}
		}
		if after := e.snapshot(t, dev, app); after != before {
			t.Errorf("bad input changed state:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}

// state is what a bad request must not change.
type state struct{ outbox, appSettings, keys, pending string }

func (e *env) snapshot(t *testing.T, dev, app string) state {
	t.Helper()
	ctx := context.Background()
	ob, err := e.admin.ListOutbox(as(ctx, "", dev), &adminv1.ListOutboxRequest{AppId: app, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: app})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := e.admin.ListSigningKeys(as(ctx, "", dev), &adminv1.ListSigningKeysRequest{AppId: app})
	if err != nil {
		t.Fatal(err)
	}
	var pending []string
	for _, h := range []string{"bo@example.com", "nobody@example.com"} {
		if _, err := e.p.store.FindCode(ctx, app, identity.PurposeSignup, h); !apperr.Is(err, apperr.NotFound) {
			pending = append(pending, h)
		}
		if _, err := e.p.store.FindUserByEmail(ctx, app, h); !apperr.Is(err, apperr.NotFound) {
			pending = append(pending, "user:"+h)
		}
	}
	var ids []string
	for _, m := range ob.GetMessages() {
		ids = append(ids, m.GetId())
	}
	var kids []string
	for _, k := range ks.GetKeys() {
		kids = append(kids, k.GetKid())
	}
	return state{
		outbox: strings.Join(ids, ","), appSettings: a.GetApp().String(), keys: strings.Join(kids, ","),
		pending: strings.Join(pending, ","),
	}
}
