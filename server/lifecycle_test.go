package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestPasswordReset: the mailed code (read from real SMTP) resets the
// password once, signs out everywhere, and ForgotPassword answers the same
// for any handle.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t)
	e := newEnv(t, storetest.SQLite(t), withSMTP(mail.URL()))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})
	if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
		t.Fatal(err)
	}
	signupCode := codeRE.FindStringSubmatch(mail.WaitFor(t, "ann@example.com").Text)[1]
	first, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: signupCode})
	if err != nil {
		t.Fatal(err)
	}
	second := e.login(t, app, "ann@example.com", "long-enough-pw")
	// The welcome mail leaves through the queue after CompleteSignUp: wait
	// for it (code, then welcome) before counting what ForgotPassword sends.
	mail.WaitForN(t, "ann@example.com", 2)
	before := len(mail.Messages())

	for _, h := range []string{"ann@example.com", "nobody@example.com"} {
		if _, err := e.auth.ForgotPassword(as(ctx, app, ""), &authv1.ForgotPasswordRequest{Handle: h}); err != nil {
			t.Fatalf("ForgotPassword(%q) = %v, want the same empty answer for any handle", h, err)
		}
	}
	deadline := time.Now().Add(time.Minute) // a give-up bound, not a speed check
	for len(mail.Messages()) < before+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	msgs := mail.Messages()
	if len(msgs) != before+1 || msgs[len(msgs)-1].To[0] != "ann@example.com" {
		t.Fatalf("ForgotPassword sent %d mails (last to %v), want one to ann", len(msgs)-before, msgs[len(msgs)-1].To)
	}
	code := codeRE.FindStringSubmatch(msgs[len(msgs)-1].Text)[1]
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1000000)

	reset := func(c, pw string) error {
		_, err := e.auth.ResetPassword(as(ctx, app, ""), &authv1.ResetPasswordRequest{Handle: "ann@example.com", Code: c, NewPassword: pw})
		return err
	}
	wantReason(t, "ResetPassword with a wrong code", reset(wrong, "brand-new-password"), connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
	wantReason(t, "ResetPassword to a weak password", reset(code, "short"), connect.CodeInvalidArgument, apperr.ReasonPasswordPolicy, "new_password")
	if err := reset(code, "brand-new-password"); err != nil {
		t.Fatalf("ResetPassword = %v", err)
	}
	wantReason(t, "ResetPassword with a used code", reset(code, "another-new-password"), connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
	for i, tok := range []string{first.GetSession().GetAccessToken(), second} {
		if _, err := e.auth.GetUser(as(ctx, app, tok), &authv1.GetUserRequest{}); err == nil {
			t.Errorf("session %d still works after a reset", i)
		}
	}
	_, err = e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
	wantReason(t, "Login with the old password", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
	e.login(t, app, "ann@example.com", "brand-new-password")

	// A reset code lives one hour.
	if _, err := e.auth.ForgotPassword(as(ctx, app, ""), &authv1.ForgotPasswordRequest{Handle: "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for len(mail.Messages()) < before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	late := codeRE.FindStringSubmatch(mail.Messages()[len(mail.Messages())-1].Text)[1]
	e.clock.Advance(61 * time.Minute)
	wantReason(t, "ResetPassword after an hour", reset(late, "brand-new-password-2"), connect.CodeFailedPrecondition, apperr.ReasonCodeExpired)
}

// TestChangePassword: the current password is checked, the new one must
// meet the policy, and only the fresh session survives.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		s := e.signUp(t, dev, app, "ann@example.com")
		other := e.login(t, app, "ann@example.com", "long-enough-pw")
		change := func(cur, next string) (*authv1.ChangePasswordResponse, error) {
			return e.auth.ChangePassword(as(ctx, app, s.GetAccessToken()), &authv1.ChangePasswordRequest{Password: cur, NewPassword: next})
		}
		_, err := change("not-my-password", "brand-new-password")
		wantReason(t, "ChangePassword with a wrong current password", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCredentials, "password")
		_, err = change("long-enough-pw", "short")
		wantReason(t, "ChangePassword to a weak password", err, connect.CodeInvalidArgument, apperr.ReasonPasswordPolicy, "new_password")
		res, err := change("long-enough-pw", "brand-new-password")
		if err != nil {
			t.Fatalf("ChangePassword = %v", err)
		}
		if _, err := e.auth.GetUser(as(ctx, app, res.GetSession().GetAccessToken()), &authv1.GetUserRequest{}); err != nil {
			t.Errorf("the fresh session = %v", err)
		}
		for name, tok := range map[string]string{"this": s.GetAccessToken(), "other": other} {
			if _, err := e.auth.GetUser(as(ctx, app, tok), &authv1.GetUserRequest{}); err == nil {
				t.Errorf("the %s old session still works", name)
			}
		}
		e.login(t, app, "ann@example.com", "brand-new-password")
	})
}

// TestUserNames: set once, unique ignoring case, and a way to log in.
func TestUserNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	ann := e.signUp(t, dev, app, "ann@example.com").GetAccessToken()
	bob := e.signUp(t, dev, app, "bob@example.com").GetAccessToken()
	set := func(tok, name string) error {
		_, err := e.auth.SetUserName(as(ctx, app, tok), &authv1.SetUserNameRequest{UserName: name})
		return err
	}
	wantReason(t, "SetUserName with names off", set(ann, "Ann1"), connect.CodeFailedPrecondition, apperr.ReasonUserNamesDisabled)
	e.update(t, dev, app, &adminv1.AppSettings{UserNamesEnabled: true}, "settings.user_names_enabled")
	if err := set(ann, "1ann"); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("SetUserName(1ann) = %v, want InvalidArgument", err)
	}
	if err := set(ann, "Ann1"); err != nil {
		t.Fatalf("SetUserName = %v", err)
	}
	wantReason(t, "SetUserName twice", set(ann, "Ann2"), connect.CodeFailedPrecondition, apperr.ReasonUserNameAlreadySet)
	wantReason(t, "SetUserName taken in another case", set(bob, "aNN1"), connect.CodeInvalidArgument, apperr.ReasonUserNameTaken, "user_name")
	for name, want := range map[string]bool{"ANN1": false, "bob": true} {
		res, err := e.auth.CheckUserName(as(ctx, app, bob), &authv1.CheckUserNameRequest{UserName: name})
		if err != nil || res.GetAvailable() != want {
			t.Errorf("CheckUserName(%q) = %v, %v; want %v", name, res.GetAvailable(), err, want)
		}
	}
	res, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann1", Password: "long-enough-pw"})
	if err != nil || res.GetSession().GetUser().GetUserName() != "Ann1" {
		t.Errorf("Login by user name = %v, %v", res, err)
	}
	if claims := jwtClaims(t, res.GetSession().GetAccessToken()); claims["user_name"] != "Ann1" {
		t.Errorf("token claims = %v, want user_name Ann1", claims)
	}
}

// TestMetadataAndLocale: only editable fields change; the next token carries
// them at their paths; locales come from the app's list.
func TestMetadataAndLocale(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev) // user_data.name editable, user_data.age not
		s := e.signUp(t, dev, app, "ann@example.com")
		set := func(md map[string]any) (*authv1.SetUserMetadataResponse, error) {
			return e.auth.SetUserMetadata(as(ctx, app, s.GetAccessToken()), &authv1.SetUserMetadataRequest{Metadata: mustStruct(t, md)})
		}
		_, err := set(map[string]any{"user_data": map[string]any{"age": 30}})
		wantReason(t, "SetUserMetadata of a non-editable field", err, connect.CodeInvalidArgument, apperr.ReasonMetadataNotEditable, "metadata.user_data.age")
		_, err = set(map[string]any{"role": "admin"})
		wantReason(t, "SetUserMetadata of an unknown field", err, connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.role")
		res, err := set(map[string]any{"user_data": map[string]any{"name": "Annie"}})
		if err != nil || res.GetUser().GetMetadata().AsMap()["user_data"].(map[string]any)["name"] != "Annie" {
			t.Fatalf("SetUserMetadata = %v, %v", res, err)
		}
		r, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: s.GetRefreshToken()})
		if err != nil {
			t.Fatal(err)
		}
		if ud, _ := jwtClaims(t, r.GetSession().GetAccessToken())["user_data"].(map[string]any); ud["name"] != "Annie" {
			t.Errorf("refreshed token user_data = %v, want name Annie", ud)
		}

		_, err = e.auth.SetLocale(as(ctx, app, s.GetAccessToken()), &authv1.SetLocaleRequest{Locale: "fr"})
		wantReason(t, "SetLocale outside the app's locales", err, connect.CodeInvalidArgument, apperr.ReasonLocaleUnsupported, "locale")
		e.update(t, dev, app, &adminv1.AppSettings{Locales: []string{"en", "fr"}}, "settings.locales")
		if res, err := e.auth.SetLocale(as(ctx, app, s.GetAccessToken()), &authv1.SetLocaleRequest{Locale: "fr"}); err != nil || res.GetUser().GetLocale() != "fr" {
			t.Errorf("SetLocale(fr) = %v, %v", res, err)
		}
	})
}

// TestAnonymousUpgrade: an anonymous user becomes an email account and
// keeps the same id.
func TestAnonymousUpgrade(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		_, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{})
		wantReason(t, "LoginAnonymous when off", err, connect.CodeFailedPrecondition, apperr.ReasonAnonymousDisabled)
		e.update(t, dev, app, &adminv1.AppSettings{AnonymousLoginEnabled: true}, "settings.anonymous_login_enabled")
		anon, err := e.auth.LoginAnonymous(as(ctx, app, ""), &authv1.LoginAnonymousRequest{})
		if err != nil {
			t.Fatal(err)
		}
		id := anon.GetSession().GetUser().GetId()
		if u := anon.GetSession().GetUser(); !u.GetAnonymous() || u.GetEmail() != "" || u.GetHasPassword() {
			t.Fatalf("anonymous user = %v", u)
		}
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})
		if _, err := e.auth.SignUp(as(ctx, app, anon.GetSession().GetAccessToken()), &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatalf("SignUp as the anonymous user = %v", err)
		}
		done, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "ann@example.com", Code: e.outboxCode(t, dev, app, "ann@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if u := done.GetSession().GetUser(); u.GetId() != id || u.GetAnonymous() || u.GetEmail() != "ann@example.com" {
			t.Errorf("upgraded user = %v, want id %s, not anonymous, with the email", u, id)
		}
		if got := e.login(t, app, "ann@example.com", "long-enough-pw"); jwtClaims(t, got)["sub"] != id {
			t.Errorf("login after the upgrade has another sub")
		}
		// A real account cannot be "upgraded" again.
		_, err = e.auth.SignUp(as(ctx, app, done.GetSession().GetAccessToken()), &authv1.SignUpRequest{Handle: "x@example.com", Password: "long-enough-pw", Metadata: md})
		wantReason(t, "SignUp with a non-anonymous session", err, connect.CodeAlreadyExists, apperr.ReasonAlreadyExists)
	})
}

// jwtClaims decodes a token's payload (the signature is checked elsewhere).
func jwtClaims(tb testing.TB, tok string) map[string]any {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

var _ = apperr.ReasonRateLimited

// TestDeleteAccount: the password is re-checked, and afterwards nothing of
// the user is left: sessions end, the email is free again.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		s := e.signUp(t, dev, app, "ann@example.com")
		del := func(pw string) error {
			_, err := e.auth.DeleteAccount(as(ctx, app, s.GetAccessToken()), &authv1.DeleteAccountRequest{Password: pw})
			return err
		}
		wantReason(t, "DeleteAccount without a password", del(""), connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "password")
		wantReason(t, "DeleteAccount with a wrong password", del("not-my-password"), connect.CodeInvalidArgument, apperr.ReasonInvalidCredentials, "password")
		if _, err := e.p.store.FindUserByEmail(ctx, app, "ann@example.com"); err != nil {
			t.Fatalf("a refused DeleteAccount removed the user: %v", err)
		}
		if err := del("long-enough-pw"); err != nil {
			t.Fatalf("DeleteAccount = %v", err)
		}
		if _, err := e.auth.GetUser(as(ctx, app, s.GetAccessToken()), &authv1.GetUserRequest{}); err == nil {
			t.Error("the session works after DeleteAccount")
		}
		if _, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: s.GetRefreshToken()}); err == nil {
			t.Error("the refresh token works after DeleteAccount")
		}
		_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
		wantReason(t, "Login after DeleteAccount", err, connect.CodeUnauthenticated, apperr.ReasonInvalidCredentials)
		e.signUp(t, dev, app, "ann@example.com") // the address is free again
	})
}
