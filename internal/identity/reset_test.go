package identity_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/otp"
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
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		clk := func() time.Time { return now }
		outbox := notify.NewOutbox(st, nil, clk)
		e := newCostEnv(t, st, cheapArgon2)
		svc := identity.New(identity.Deps{Store: st, Passwords: e.hasher, Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")),
			Tokens: fakeTokens{}, Mailer: outbox, Now: clk}, identity.Config{})
		caller := identity.Caller{AppID: e.app, IP: "192.0.2.1"}

		if err := svc.ForgotPassword(ctx, caller, "ann@example.com"); err != nil {
			t.Fatalf("ForgotPassword(ann) = %v", err)
		}
		msgs, err := outbox.List(ctx, e.app, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox after ForgotPassword = %d messages, %v; want 1", len(msgs), err)
		}
		code := sixDigits.FindString(msgs[0].Text)
		if code == "" {
			t.Fatalf("reset mail has no code: %q", msgs[0].Text)
		}
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
			if got := apperr.ReasonOf(err); got != s.want || (err == nil) != (s.want == "") {
				t.Errorf("%s: ResetPassword(%q) = %v (%q), want %q", s.name, s.handle, err, got, s.want)
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
			if got := apperr.ReasonOf(err); got != l.want || (err == nil) != (l.want == "") {
				t.Errorf("Login with %q after the reset = %v (%q), want %q", l.password, err, got, l.want)
			}
		}
	})
}
