package main

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// TestCosyncJWTSwift replays, request by request, what CosyncJWTSwift 1.1.22
// sends — form bodies with raw values, `%2B` for a `+` in handles, the
// `//api/appuser/` 2FA paths — and checks the replies as it parses them.
func TestCosyncJWTSwift(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		dev := e.developer(t, "dev@example.com")
		app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
		const A, U = "app-token", "access-token"
		pw := md5hex("Secret pass 1")

		// getApplication, called before signup: booleans as booleans.
		m := e.swiftGet(t, "api/appuser/getApplication", A, cjwtAppToken).json(t)
		for _, k := range []string{"signupEnabled", "invitationEnabled", "anonymousLoginEnabled", "userNamesEnabled", "googleLoginEnabled", "appleLoginEnabled", "passwordFilter"} {
			if _, ok := m[k].(bool); !ok {
				t.Errorf("getApplication %s = %#v, want a JSON boolean", k, m[k])
			}
		}
		if m["signupFlow"] != "code" || m["twoFactorVerification"] != "phone" || m["name"] != "Legacy Notes" {
			t.Errorf("getApplication = %v, want signupFlow code, twoFactorVerification phone, name", m)
		}
		if _, ok := m["appData"].(map[string]any); !ok {
			t.Errorf("getApplication appData = %#v, want an object", m["appData"])
		}

		// signup: handle with `+` sent as %2B, metaData raw JSON with a space.
		body := `handle=jo%2Bnotes@example.com&password=` + pw + `&metaData={"user_data":{"name":{"first":"Jo","last":"Van Dyke"}}}&locale=EN`
		e.swift(t, "api/appuser/signup", A, cjwtAppToken, body).wantTrue(t, "signup")
		code := e.outboxCode(t, dev, app, "jo+notes@example.com")
		r := e.swift(t, "api/appuser/completeSignup", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&code="+code)
		_, access := r.wantSession(t, "completeSignup")
		if s, _ := r.json(t)["signed-user-token"].(string); s == "" {
			t.Errorf("completeSignup = %s, want signed-user-token for Swift <= 1.1.21", r.body)
		}

		// getUser: the typed fields Swift reads.
		u := e.swiftGet(t, "api/appuser/getUser", U, access).json(t)
		md, _ := u["metaData"].(map[string]any)
		if u["handle"] != "jo+notes@example.com" || md == nil || !strings.Contains(string(mustJSON(t, md)), "Van Dyke") {
			t.Errorf("getUser = %v, want handle jo+notes@example.com and metaData as an object with the raw value", u)
		}
		if ll, _ := u["lastLogin"].(string); !jsISOTime.MatchString(ll) {
			t.Errorf("getUser lastLogin = %q, want toISOString form", ll)
		}

		// login with the MD5 the SDK sends; a wrong one is 600.
		e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&password="+md5hex("wrong")).wantError(t, "login with a wrong password", 600)
		_, access = e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&password="+pw).wantSession(t, "login")

		// metadata and user name, values raw.
		e.swift(t, "api/appuser/setUserMetadata", U, access, `metaData={"user_data":{"name":{"first":"Jo; Ann","last":"100% Van Dyke"}}}`).wantTrue(t, "setUserMetadata")
		u = e.swiftGet(t, "api/appuser/getUser", U, access).json(t)
		if !strings.Contains(string(mustJSON(t, u["metaData"])), `100% Van Dyke`) || !strings.Contains(string(mustJSON(t, u["metaData"])), `Jo; Ann`) {
			t.Errorf("getUser metaData = %v after setUserMetadata with raw ; and %%", u["metaData"])
		}
		if got := e.swiftGet(t, "api/appuser/userNameAvailable?userName=jonotes", U, access).json(t); got["available"] != true {
			t.Errorf("userNameAvailable = %v, want available true", got)
		}
		e.swift(t, "api/appuser/setUserName", U, access, "userName=jonotes").wantTrue(t, "setUserName")
		if got := e.swiftGet(t, "api/appuser/userNameAvailable?userName=jonotes", U, access).json(t); got["available"] != false {
			t.Errorf("userNameAvailable after setUserName = %v, want available false", got)
		}
		_, access = e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=jonotes&password="+pw).wantSession(t, "login by user name")

		// Phone second factor: a raw `+` arrives as a space; the toggle's path has `//`.
		e.swift(t, "api/appuser/setPhone", U, access, "phone=+14155550123").wantTrue(t, "setPhone")
		e.swift(t, "api/appuser/verifyPhone", U, access, "code="+e.outboxCode(t, dev, app, "+14155550123")).wantTrue(t, "verifyPhone")
		e.swift(t, "/api/appuser/setTwoFactorPhoneVerification", U, access, "twoFactor=true").wantTrue(t, "//setTwoFactorPhoneVerification")
		r = e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&password="+pw)
		lt, _ := r.json(t)["login-token"].(string)
		if r.status != 200 || lt == "" {
			t.Fatalf("login with 2FA = %d %s, want login-token", r.status, r.body)
		}
		e.swift(t, "api/appuser/loginComplete", A, cjwtAppToken, "loginToken="+lt+"&code=000000").wantError(t, "loginComplete with a wrong code", 600)
		_, access = e.swift(t, "api/appuser/loginComplete", A, cjwtAppToken, "loginToken="+lt+"&code="+e.outboxCode(t, dev, app, "+14155550123")).wantSession(t, "loginComplete")
		if u := e.swiftGet(t, "api/appuser/getUser", U, access).json(t); u["twoFactorPhoneVerification"] != true || u["phoneVerified"] != true {
			t.Errorf("getUser = %v, want twoFactorPhoneVerification and phoneVerified true", u)
		}
		// Our rule, not CosyncJWT's: turning the factor off needs the password
		// or a code, which this call cannot carry (docs/cosyncjwt.md).
		e.swift(t, "/api/appuser/setTwoFactorPhoneVerification", U, access, "twoFactor=false").wantError(t, "//setTwoFactorPhoneVerification off", 602)

		// Reset: no enumeration (CosyncJWT answered 603 here).
		e.swift(t, "api/appuser/forgotPassword", A, cjwtAppToken, "handle=nobody@example.com").wantTrue(t, "forgotPassword of an unknown handle")
		e.swift(t, "api/appuser/forgotPassword", A, cjwtAppToken, "handle=jo%2Bnotes@example.com").wantTrue(t, "forgotPassword")
		newPW := md5hex("Another pass 2")
		e.swift(t, "api/appuser/resetPassword", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&password="+newPW+"&code=123").wantError(t, "resetPassword with a bad code", 602)
		e.swift(t, "api/appuser/resetPassword", A, cjwtAppToken, "handle=jo%2Bnotes@example.com&password="+newPW+"&code="+e.outboxCode(t, dev, app, "jo+notes@example.com")).wantTrue(t, "resetPassword")
		e.swiftGet(t, "api/appuser/getUser", U, access).wantError(t, "getUser after a reset (sessions revoked)", 405)
		// The second factor is still on after a reset (a mailbox alone must not pass it).
		access = e.swiftLogin2FA(t, dev, app, "jo%2Bnotes@example.com", newPW, "+14155550123")

		// changePassword, then the user signs in again.
		e.swift(t, "api/appuser/changePassword", U, access, "newPassword="+pw+"&password="+newPW).wantTrue(t, "changePassword")
		e.swiftGet(t, "api/appuser/getUser", U, access).wantError(t, "getUser after changePassword", 405)
		e.swiftLogin2FA(t, dev, app, "jo%2Bnotes@example.com", pw, "+14155550123")

		// The same user through Connect, with the plain password: the app
		// keeps argon2id over the MD5, and Connect callers are MD5-hashed first.
		res, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: "jo+notes@example.com", Password: "Secret pass 1"})
		if err != nil || res.GetChallenge().GetLoginToken() == "" {
			t.Fatalf("Connect Login with the plain password = %v, %v; want a second-factor challenge", res, err)
		}

		// Missing fields, bad tokens.
		e.swift(t, "api/appuser/login", A, cjwtAppToken, "handle=jo%2Bnotes@example.com").wantError(t, "login without password", 403)
		e.swift(t, "api/appuser/login", A, "not-the-token", "handle=a@example.com&password="+pw).wantError(t, "login with a bad app token", 400)
		e.swiftGet(t, "api/appuser/getUser", U, "cjwt1.x.y.z.w").wantError(t, "getUser with a forged access-token", 405)
	})
}

// TestCosyncJWTKotlin replays CosyncJWTKotlin's JSON bodies (Gson, string
// values, twoFactor as the string "true").
func TestCosyncJWTKotlin(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		dev := e.developer(t, "dev@example.com")
		app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
		const A, U = "app-token", "access-token"
		pw := md5hex("Kotlin pass 1")
		e.kotlin(t, "signup", A, cjwtAppToken, map[string]any{"handle": "kim+k@example.com", "password": pw,
			"metaData": `{"user_data":{"name":{"first":"Kim"}}}`}).wantTrue(t, "signup")
		_, access := e.kotlin(t, "completeSignup", A, cjwtAppToken, map[string]any{"handle": "kim+k@example.com",
			"code": e.outboxCode(t, dev, app, "kim+k@example.com")}).wantSession(t, "completeSignup")
		u := e.send(t, "GET", "/api/appuser/getUser", map[string]string{U: access}, "").json(t)
		if _, ok := u["metaData"].(map[string]any); !ok {
			t.Errorf("getUser metaData = %#v, want an object (Gson's JsonObject)", u["metaData"])
		}
		e.kotlin(t, "login", A, cjwtAppToken, map[string]any{"handle": "kim+k@example.com", "password": md5hex("nope")}).wantError(t, "login with a wrong password", 600)
		_, access = e.kotlin(t, "login", A, cjwtAppToken, map[string]any{"handle": "kim+k@example.com", "password": pw}).wantSession(t, "login")
		e.kotlin(t, "setUserMetadata", U, access, map[string]any{"metaData": `{"user_data":{"name":{"first":"Kimberly"}}}`}).wantTrue(t, "setUserMetadata")
		e.kotlin(t, "setUserName", U, access, map[string]any{"userName": "kimk"}).wantTrue(t, "setUserName")
		e.kotlin(t, "setUserName", U, access, map[string]any{"userName": "kimk2"}).wantError(t, "setUserName twice", 602)
		e.kotlin(t, "setPhone", U, access, map[string]any{"phone": "+14155550124"}).wantTrue(t, "setPhone")
		e.kotlin(t, "verifyPhone", U, access, map[string]any{"code": e.outboxCode(t, dev, app, "+14155550124")}).wantTrue(t, "verifyPhone")
		e.kotlin(t, "setTwoFactorPhoneVerification", U, access, map[string]any{"twoFactor": "true"}).wantTrue(t, "setTwoFactorPhoneVerification")
		r := e.kotlin(t, "login", A, cjwtAppToken, map[string]any{"handle": "kim+k@example.com", "password": pw})
		lt, _ := r.json(t)["login-token"].(string)
		if lt == "" {
			t.Fatalf("login with 2FA = %s, want login-token", r.body)
		}
		e.kotlin(t, "loginComplete", A, cjwtAppToken, map[string]any{"loginToken": lt, "code": e.outboxCode(t, dev, app, "+14155550124")}).wantSession(t, "loginComplete")
		e.kotlin(t, "loginAnonymous", A, cjwtAppToken, map[string]any{"handle": "ANON_5f1c"}).wantSession(t, "loginAnonymous")
		e.kotlin(t, "loginAnonymous", A, cjwtAppToken, map[string]any{"handle": "someone"}).wantError(t, "loginAnonymous without ANON_", 600)
		// Kotlin's own bugs stay what they were: changePassword with the app token as access-token is 405.
		e.kotlin(t, "changePassword", U, cjwtAppToken, map[string]any{"password": pw, "newPassword": md5hex("x")}).wantError(t, "changePassword with the app token", 405)
	})
}

// TestCosyncJWTReact replays cosync-jwt-react-native: JSON everywhere,
// and only `access-token` after login, even to getApplication.
func TestCosyncJWTReact(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		dev := e.developer(t, "dev@example.com")
		app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_NONE)
		const A, U = "app-token", "access-token"
		pw := md5hex("React pass 1")
		e.react(t, "GET", "getApplication", A, cjwtAppToken, nil).json(t)
		// Flow none: signup answers the session at once.
		_, access := e.react(t, "POST", "signup", A, cjwtAppToken, map[string]any{"handle": "rea@example.com", "password": pw,
			"locale": "EN", "metaData": `{"user_data":{"name":{"first":"Rea"}}}`}).wantSession(t, "signup (flow none)")
		if m := e.react(t, "GET", "getApplication", U, access, nil).json(t); m["name"] != "Legacy Notes" || m["code"] != nil {
			t.Errorf("getApplication with only access-token = %v", m)
		}
		// Invite and register.
		e.react(t, "POST", "invite", U, access, map[string]any{"handle": "guest@example.com", "senderUserId": "realm-user-1"}).wantTrue(t, "invite")
		code := e.outboxCode(t, dev, app, "guest@example.com")
		gpw := md5hex("Guest pass 1")
		e.react(t, "POST", "register", A, cjwtAppToken, map[string]any{"handle": "guest@example.com", "password": gpw, "code": "000000",
			"metaData": `{"user_data":{"name":{"first":"Guest"}}}`}).wantError(t, "register with a wrong code", 602)
		r := e.react(t, "POST", "register", A, cjwtAppToken, map[string]any{"handle": "guest@example.com", "password": gpw, "code": code,
			"metaData": `{"user_data":{"name":{"first":"Guest"}}}`})
		_, gaccess := r.wantSession(t, "register")
		if s, _ := r.json(t)["signed-user-token"].(string); s == "" {
			t.Errorf("register = %s, want signed-user-token", r.body)
		}
		// After login React sends access-token to forgot/reset too.
		e.react(t, "POST", "forgotPassword", U, gaccess, map[string]any{"handle": "guest@example.com"}).wantTrue(t, "forgotPassword with access-token")
		e.react(t, "POST", "resetPassword", U, gaccess, map[string]any{"handle": "guest@example.com", "password": md5hex("Guest pass 2"),
			"code": e.outboxCode(t, dev, app, "guest@example.com")}).wantTrue(t, "resetPassword with access-token")
		e.react(t, "POST", "login", A, cjwtAppToken, map[string]any{"handle": "guest@example.com", "password": md5hex("Guest pass 2")}).wantSession(t, "login after reset")
		// Twice the same signup: 601.
		e.react(t, "POST", "signup", A, cjwtAppToken, map[string]any{"handle": "rea@example.com", "password": pw,
			"metaData": `{"user_data":{"name":{"first":"Rea"}}}`}).wantError(t, "signup of an existing user", 601)
		// Metadata rules are the app's: a missing required field is 604.
		e.react(t, "POST", "signup", A, cjwtAppToken, map[string]any{"handle": "nomd@example.com", "password": pw}).wantError(t, "signup without the required field", 604)
		e.react(t, "POST", "setLocale", U, access, map[string]any{"locale": "EN"}).wantTrue(t, "setLocale")
		_, anon := e.react(t, "POST", "loginAnonymous", A, cjwtAppToken, map[string]any{"handle": "ANON_1234"}).wantSession(t, "loginAnonymous")
		if u := e.react(t, "GET", "getUser", U, anon, nil).json(t); !strings.HasPrefix(u["handle"].(string), "ANON_") {
			t.Errorf("anonymous getUser = %v, want an ANON_ handle", u)
		}
	})
}

// swiftLogin2FA signs in a user with the phone factor the way the Swift
// SDK does (login, then loginComplete) and returns the access-token.
func (e *env) swiftLogin2FA(tb testing.TB, dev, app, handle, pw, phone string) string {
	tb.Helper()
	r := e.swift(tb, "api/appuser/login", "app-token", cjwtAppToken, "handle="+handle+"&password="+pw)
	lt, _ := r.json(tb)["login-token"].(string)
	if r.status != 200 || lt == "" {
		tb.Fatalf("login of %s = %d %s, want login-token", handle, r.status, r.body)
	}
	_, access := e.swift(tb, "api/appuser/loginComplete", "app-token", cjwtAppToken,
		"loginToken="+lt+"&code="+e.outboxCode(tb, dev, app, phone)).wantSession(tb, "loginComplete")
	return access
}

// TestCosyncJWTSharesRules: the facade is no second path: wrong passwords
// through it count toward the same lockout as Connect's.
func TestCosyncJWTSharesRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	app := e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_NONE)
	e.update(t, dev, app, &adminv1.AppSettings{MaxLoginAttempts: 2}, "settings.max_login_attempts")
	pw := md5hex("Shared pass 1")
	e.react(t, "POST", "signup", "app-token", cjwtAppToken, map[string]any{"handle": "sam@example.com", "password": pw,
		"metaData": `{"user_data":{"name":{"first":"Sam"}}}`}).wantSession(t, "signup")
	for range 2 {
		e.react(t, "POST", "login", "app-token", cjwtAppToken, map[string]any{"handle": "sam@example.com", "password": md5hex("wrong")}).wantError(t, "login with a wrong password", 600)
	}
	_, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: "sam@example.com", Password: "Shared pass 1"})
	wantReason(t, "Connect Login after two wrong passwords through the facade", err, connect.CodeResourceExhausted, apperr.ReasonAccountLocked)
	e.react(t, "POST", "login", "app-token", cjwtAppToken, map[string]any{"handle": "sam@example.com", "password": pw}).wantError(t, "facade login while locked", 600)
}
