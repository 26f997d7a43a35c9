package main

import (
	"context"
	"testing"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestPasswordResetKeepsSecondFactor: resetting a forgotten password does
// not turn the second factor off (CosyncJWT's did).
func TestPasswordResetKeepsSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.SQLite(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
	sess := e.signUp(t, dev, app, "di@example.com")
	e.enrollTOTP(t, app, sess.GetAccessToken())
	// A password reset does not drop the second factor.
	if _, err := e.auth.ForgotPassword(as(ctx, app, ""), &authv1.ForgotPasswordRequest{Handle: "di@example.com"}); err != nil {
		t.Fatal(err)
	}
	code := e.outboxCode(t, dev, app, "di@example.com")
	if _, err := e.auth.ResetPassword(as(ctx, app, ""), &authv1.ResetPasswordRequest{Handle: "di@example.com", Code: code, NewPassword: "a new long password"}); err != nil {
		t.Fatalf("ResetPassword = %v", err)
	}

	res, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "di@example.com", Password: "a new long password"})
	if err != nil || res.GetChallenge() == nil {
		t.Fatalf("Login after a password reset = %v, %v; want a second-factor challenge", res, err)
	}
}
