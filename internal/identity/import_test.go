package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestImportInFlight: imported signups, invitations and authenticators
// work with what people hold, expire when they say, are stored once
// however often they are imported, and a dry run stores nothing.
func TestImportInFlight(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFlowEnv(t, st)
		f.settings(t, func(s *identity.AppSettings) { s.TwoFactor, s.InvitesEnabled = identity.TwoFactorTOTP, true })
		now := f.clock.Now()
		hash, err := f.hasher.Hash(ctx, rightPassword)
		if err != nil {
			t.Fatal(err)
		}
		signup := func(email, code string, created time.Time) identity.ImportedSignup {
			return identity.ImportedSignup{Handle: email, PasswordHash: hash, Code: identity.Secret(code), Locale: "xx",
				CreatedAt: created, ExpiresAt: created.Add(48 * time.Hour)}
		}

		for _, tt := range []struct {
			name string
			in   identity.ImportedSignup
			dry  bool
			want bool
		}{
			{"a dry run", signup("pat@example.com", "123456", now.Add(-time.Hour)), true, true},
			{"a fresh signup", signup("pat@example.com", "123456", now.Add(-time.Hour)), false, true},
			{"the same again", signup("pat@example.com", "999999", now.Add(-time.Hour)), false, false},
			{"an expired one", signup("old@example.com", "234567", now.Add(-49*time.Hour)), false, false},
			{"an email with an account", signup("ann@example.com", "345678", now), false, false},
			{"one that expires soon", signup("soon@example.com", "456789", now.Add(-47*time.Hour)), false, true},
		} {
			if got, err := f.svc.ImportPendingSignup(ctx, f.app, tt.in, tt.dry); got != tt.want || err != nil {
				t.Errorf("ImportPendingSignup(%s) = %v, %v; want %v", tt.name, got, err, tt.want)
			}
		}
		wantReason(t, "CompleteSignUp with another code", errOf(f.svc.CompleteSignUp(ctx, f.caller, "pat@example.com", "999999")), apperr.ReasonInvalidCode)
		sess, err := f.svc.CompleteSignUp(ctx, f.caller, "pat@example.com", "123456")
		if err != nil || sess.User.Email != "pat@example.com" {
			t.Fatalf("CompleteSignUp with the imported code = %+v, %v", sess.User, err)
		}
		if _, err := f.svc.Login(ctx, f.caller, "pat@example.com", rightPassword); err != nil {
			t.Errorf("Login with the password of the imported signup = %v", err)
		}
		f.clock.Advance(2 * time.Hour)
		wantReason(t, "CompleteSignUp after 48 h", errOf(f.svc.CompleteSignUp(ctx, f.caller, "soon@example.com", "456789")), apperr.ReasonCodeExpired)

		iv := identity.ImportedInvitation{Handle: "ivy@example.com", Code: "654321", InviterID: "ann", CreatedAt: now, ExpiresAt: f.clock.Now().Add(time.Hour)}
		for i, want := range []bool{true, false} {
			if got, err := f.svc.ImportInvitation(ctx, f.app, iv, false); got != want || err != nil {
				t.Errorf("ImportInvitation #%d = %v, %v; want %v", i+1, got, err, want)
			}
		}
		if _, err := f.svc.Register(ctx, f.caller, identity.RegisterInput{Handle: "ivy@example.com", Password: "Ivy pass 12", InviteCode: "654321"}); err != nil {
			t.Errorf("Register with the imported invitation = %v", err)
		}

		const secret = "jbsw y3dp ehpk 3pxp" // as people copy it: spaces, lower case
		wantReason(t, "ImportTotp with a secret that is not base32", errOf(f.svc.ImportTotp(ctx, f.app, "ann", "not base32!", false)), apperr.ReasonInvalidArgument)
		for i, want := range []bool{true, false} {
			if got, err := f.svc.ImportTotp(ctx, f.app, "ann", secret, false); got != want || err != nil {
				t.Errorf("ImportTotp #%d = %v, %v; want %v", i+1, got, err, want)
			}
		}
		res, err := f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
		if err != nil || res.Challenge == nil || res.Challenge.Method != identity.TwoFactorTOTP {
			t.Fatalf("Login after ImportTotp = %+v, %v; want a TOTP challenge", res, err)
		}
		code, _ := totp.GenerateCode("JBSWY3DPEHPK3PXP", f.clock.Now())
		if _, err := f.svc.CompleteLogin(ctx, f.caller, res.Challenge.LoginToken, identity.Secret(code)); err != nil {
			t.Errorf("CompleteLogin with the authenticator's code = %v", err)
		}
	})
}
