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
		for _, s := range steps {
			err := svc.ResetPassword(ctx, caller, s.handle, identity.Secret(s.code), identity.Secret(s.password))
			wantReason(t, s.name+": ResetPassword("+s.handle+")", err, s.want)
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
