package identity_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// TestResetPassword runs the reset flow on the domain over both databases,
// step by step: each step's outcome depends on the ones before it (a code
// works once), so the table runs in order.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		svc, caller := f.svc, f.caller
		if err := svc.ForgotPassword(ctx, caller, "ann@example.com"); err != nil {
			t.Fatalf("ForgotPassword(ann) = %v", err)
		}
		code := f.lastCode(t, "ann@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}

		steps := []struct {
			name, handle, code, password string
			want                         apperr.Reason // "" for success
		}{
			{"a weak password", "ann@example.com", code, "short", apperr.ReasonPasswordPolicy},
			{"a wrong code", "ann@example.com", wrong, "brand-new-password", apperr.ReasonInvalidCode},
			{"another user's handle", "sue@example.com", code, "brand-new-password", apperr.ReasonInvalidCode},
			{"the right code by user name", "ann", code, "brand-new-password", ""},
			{"the same code again", "ann@example.com", code, "another-new-password", apperr.ReasonInvalidCode},
		}
		users := []string{"ann@example.com", "sue@example.com"}
		for _, s := range steps {
			before := f.snapshot(t, users...)
			err := svc.ResetPassword(ctx, caller, s.handle, identity.Secret(s.code), identity.Secret(s.password))
			wantReason(t, s.name+": ResetPassword("+s.handle+")", err, s.want)
			if after := f.snapshot(t, users...); s.want != "" && after != before {
				t.Errorf("%s: the refused ResetPassword changed the state:\n%s\n%s", s.name, before, after)
			}
		}
		for _, l := range []struct {
			password string
			want     apperr.Reason
		}{
			{rightPassword, apperr.ReasonInvalidCredentials},
			{"brand-new-password", ""},
		} {
			_, err := svc.Login(ctx, caller, "ann@example.com", identity.Secret(l.password))
			wantReason(t, "Login with "+l.password+" after the reset", err, l.want)
		}
	})
}

// TestResetKeepsSecondFactor: resetting a forgotten password leaves the
// second factor on (CosyncJWT's reset turned it off): a mailbox alone
// must not be enough to take over an account that has one.
func TestResetKeepsSecondFactor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		_, ann := f.login(t, "ann@example.com", rightPassword)
		f.enrollTOTP(t, ann)
		if err := f.svc.ForgotPassword(ctx, f.caller, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ResetPassword(ctx, f.caller, "ann@example.com", identity.Secret(f.lastCode(t, "ann@example.com")), "brand-new-password"); err != nil {
			t.Fatalf("ResetPassword = %v", err)
		}
		res, err := f.svc.Login(ctx, f.caller, "ann@example.com", "brand-new-password")
		if err != nil || res.Challenge == nil || res.Challenge.Method != identity.TwoFactorTOTP {
			t.Errorf("Login after a reset = %+v, %v; want a TOTP challenge", res, err)
		}
	})
}
