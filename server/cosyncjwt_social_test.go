package main

import (
	"testing"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/social/socialtest"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestCosyncJWTSocial replays CosyncJWTSwift's social calls against the
// local Apple and Google: 1.1.22's socialLogin/socialSignup (provider in a
// field) and 1.1.21's appleLogin/googleLogin/appleSignup/googleSignup
// (provider in the path), with the codes the SDK maps (403, 415, 416,
// 603, 613) and the session it needs.
func TestCosyncJWTSocial(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSocialEnv(t, st)
		app := e.cjwtApp(t, e.dev, authv1.SignupFlow_SIGNUP_FLOW_CODE) // signup needs user_data.name.first
		e.set(t, app, &adminv1.AppSettings{
			Apple:  &adminv1.AppleSettings{Enabled: true, BundleIds: []string{bundleID}},
			Google: &adminv1.GoogleSettings{Enabled: true, ClientIds: []string{clientID}},
		}, "apple", "google")
		const A, U = "app-token", "access-token"
		post := func(path, body string) wireReply {
			return e.swift(t, "api/appuser/"+path, A, cjwtAppToken, body)
		}
		md := `&metaData={"user_data":{"name":{"first":"Ann"}}}&locale=EN`

		// 1.1.22: a new person's socialLogin is 603; the app then signs up.
		ann := e.token(t, apple, "001.ann", "ann+apple@example.com")
		post("socialLogin", "token="+ann+"&provider=apple").wantError(t, "socialLogin of a new person", 603)
		_, access := post("socialSignup", "token="+ann+"&handle=ann+apple@example.com&provider=apple"+md).wantSession(t, "socialSignup")
		u := e.swiftGet(t, "api/appuser/getUser", U, access).json(t)
		if u["handle"] != "ann+apple@example.com" {
			t.Errorf("getUser after socialSignup = %v, want the token's email", u)
		}
		post("socialLogin", "token="+e.token(t, apple, "001.ann", "")+"&provider=apple").wantSession(t, "socialLogin of a known person")

		// 1.1.21: the provider in the path.
		bob := e.token(t, google, "1098", "bob@example.com")
		post("googleLogin", "token="+bob).wantError(t, "googleLogin of a new person", 603)
		post("googleSignup", "token="+bob+"&handle=bob@example.com"+md).wantSession(t, "googleSignup")
		post("googleLogin", "token="+e.token(t, google, "1098", "bob@example.com")).wantSession(t, "googleLogin")
		post("appleLogin", "token="+e.token(t, apple, "001.ann", "")).wantSession(t, "appleLogin")
		cy := e.token(t, apple, "002.cy", "cy@example.com")
		post("appleSignup", "token="+cy+"&handle=cy@example.com"+md).wantSession(t, "appleSignup")

		// Refusals as the SDK maps them.
		post("socialLogin", "provider=apple").wantError(t, "socialLogin without token", 403)
		post("socialSignup", "token="+ann+"&provider=apple").wantError(t, "socialSignup without handle", 403)
		post("socialLogin", "token="+ann+"&provider=facebook").wantError(t, "socialLogin with an unknown provider", 602)
		post("socialLogin", "token=not-a-jwt&provider=google").wantError(t, "socialLogin with a bad token", 613)
		wrongAud := e.apple.MustMint(t, socialtest.Token{Subject: "001.ann", Audience: "com.attacker.app", Email: "ann+apple@example.com"})
		post("appleLogin", "token="+wrongAud).wantError(t, "appleLogin with another app's token", 613)
		withNonce := e.apple.MustMint(t, socialtest.Token{Subject: "001.ann", Audience: bundleID, Nonce: "n-1"})
		post("appleLogin", "token="+withNonce).wantError(t, "appleLogin with a nonce the SDK cannot send", 613)
		// An email account exists for the address Google names: 610.
		e.swift(t, "api/appuser/signup", A, cjwtAppToken, "handle=dee@example.com&password="+md5hex("Dee pass 1")+md).wantTrue(t, "signup dee")
		e.swift(t, "api/appuser/completeSignup", A, cjwtAppToken, "handle=dee@example.com&code="+e.outboxCode(t, e.dev, app, "dee@example.com")).wantSession(t, "completeSignup dee")
		post("googleSignup", "token="+e.token(t, google, "2001", "dee@example.com")+"&handle=dee@example.com"+md).wantError(t, "googleSignup over an email account", 610)

		// deleteAccount of a social account: a fresh ID token of a linked
		// identity (1.1.22 sends no provider; 1.1.21 sends loginProvider).
		_, cyAccess := post("appleLogin", "token="+e.token(t, apple, "002.cy", "")).wantSession(t, "appleLogin cy")
		e.swift(t, "api/appuser/deleteAccount", U, cyAccess, "token="+e.token(t, google, "1098", "bob@example.com")).wantError(t, "deleteAccount with another person's token", 613)
		e.swift(t, "api/appuser/deleteAccount", U, cyAccess, "token="+e.token(t, apple, "002.cy", "")).wantTrue(t, "deleteAccount (1.1.22)")
		e.swiftGet(t, "api/appuser/getUser", U, cyAccess).wantError(t, "getUser after deleteAccount", 405)
		_, bobAccess := post("googleLogin", "token="+e.token(t, google, "1098", "bob@example.com")).wantSession(t, "googleLogin bob")
		e.swift(t, "api/appuser/deleteAccount", U, bobAccess, "token="+e.token(t, google, "1098", "bob@example.com")+"&loginProvider=google").wantTrue(t, "deleteAccount (1.1.21)")

		e.set(t, app, &adminv1.AppSettings{}, "apple")
		post("socialLogin", "token="+e.token(t, apple, "001.ann", "")+"&provider=apple").wantError(t, "socialLogin with Apple off", 415)
		post("appleSignup", "token="+cy+"&handle=cy@example.com"+md).wantError(t, "appleSignup with Apple off", 415)
		e.set(t, app, &adminv1.AppSettings{}, "google")
		post("googleLogin", "token="+e.token(t, google, "1098", "bob@example.com")).wantError(t, "googleLogin with Google off", 416)
		post("socialSignup", "token="+bob+"&handle=bob@example.com&provider=google"+md).wantError(t, "socialSignup with Google off", 416)
	})
}
