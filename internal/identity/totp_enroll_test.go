package identity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestTotpEnrollment: an authenticator is enrolled only where the app
// offers it and only once a code from it proves it; it comes with ten
// recovery codes. Turning it off needs nothing wrong: no proof, a wrong
// password and a wrong code are refused and change nothing; the password,
// a current code or a recovery code turn it off and drop every recovery
// code. Re-enrolling makes a new secret and new codes.
func TestTotpEnrollment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		_, ann := f.login(t, "ann@example.com", rightPassword)
		anns := []string{"ann@example.com"}
		begin := func() error { return errOf(f.svc.BeginTotpEnrollment(ctx, ann)) }
		confirm := func(code string) func() error {
			return func() error {
				_, _, err := f.svc.ConfirmTotpEnrollment(ctx, ann, identity.Secret(code))
				return err
			}
		}
		disable := func(pw, code string) func() error {
			return func() error {
				return errOf(f.svc.DisableTwoFactor(ctx, ann, identity.Secret(pw), identity.Secret(code)))
			}
		}
		f.refuse(t, anns, []refusal{
			{"Begin where the app offers no authenticator", begin, apperr.ReasonTwoFactorDisabled},
			{"Disable with nothing on", disable(rightPassword, ""), apperr.ReasonTwoFactorNotEnrolled},
		})
		f.settings(t, func(s *identity.AppSettings) { s.TwoFactor = identity.TwoFactorTOTP })
		f.refuse(t, anns, []refusal{{"Confirm before Begin", confirm("123456"), apperr.ReasonTwoFactorNotEnrolled}})

		// enroll begins and confirms an enrollment and returns its secret
		// and recovery codes, checking the refusals on the way.
		enroll := func() (string, []identity.Secret) {
			t.Helper()
			enr, err := f.svc.BeginTotpEnrollment(ctx, ann)
			if err != nil {
				t.Fatalf("BeginTotpEnrollment = %v", err)
			}
			secret := enr.Secret.Reveal()
			// The mailbox alone must never pass the second factor: the
			// secret is mailed only to an app that chose the QR mail.
			msgs, err := f.outbox.List(ctx, f.app, 50)
			if err != nil {
				t.Fatal(err)
			}
			mailed := slices.ContainsFunc(msgs, func(m notify.OutboxMessage) bool {
				return m.To == "ann@example.com" && strings.Contains(m.Text, secret)
			})
			a, err := f.st.GetApp(ctx, f.app)
			if err != nil {
				t.Fatal(err)
			}
			if qrMail := a.Settings.TOTPQRMail; mailed != qrMail {
				t.Errorf("the authenticator key was mailed: %v; want %v (the app's QR mail setting)", mailed, qrMail)
			}
			code := totpCode(t, secret, f.clock.Now())
			f.refuse(t, anns, []refusal{{"Confirm with a wrong code", confirm(otherCode(code)), apperr.ReasonInvalidCode}})
			wantReason(t, "Login before confirming", errOf(f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)), "")
			recovery, u, err := f.svc.ConfirmTotpEnrollment(ctx, ann, identity.Secret(code))
			if err != nil || len(recovery) != identity.RecoveryCodeCount || u.TwoFactor != identity.TwoFactorTOTP {
				t.Fatalf("ConfirmTotpEnrollment = %d recovery codes, factor %q, %v; want %d, totp", len(recovery), u.TwoFactor, err, identity.RecoveryCodeCount)
			}
			if n, err := st.CountRecoveryCodes(ctx, f.app, "ann"); err != nil || n != identity.RecoveryCodeCount {
				t.Errorf("stored recovery codes = %d, %v; want %d", n, err, identity.RecoveryCodeCount)
			}
			f.clock.Advance(30 * time.Second) // past the confirming code's step
			return secret, recovery
		}

		secret, recovery := enroll()
		f.refuse(t, anns, []refusal{
			{"Begin when enrolled", begin, apperr.ReasonTwoFactorAlreadyEnrolled},
			{"Confirm when enrolled", confirm(totpCode(t, secret, f.clock.Now())), apperr.ReasonTwoFactorAlreadyEnrolled},
			{"Disable with no proof", disable("", ""), apperr.ReasonInvalidArgument},
			{"Disable with a wrong password", disable("not-my-password", ""), apperr.ReasonInvalidCredentials},
			{"Disable with a wrong code", disable("", otherCode(totpCode(t, secret, f.clock.Now()))), apperr.ReasonInvalidCode},
			{"Disable with a made-up recovery code", disable("", "aaaaa-bbbbb"), apperr.ReasonInvalidCode},
		})

		for _, way := range []struct {
			name     string
			pw, code func() string
		}{
			{"a recovery code", func() string { return "" }, func() string { return recovery[0].Reveal() }},
			{"a current code", func() string { return "" }, func() string { return totpCode(t, secret, f.clock.Now()) }},
			{"the password", func() string { return rightPassword }, func() string { return "" }},
		} {
			t.Run("Disable with "+way.name, func(t *testing.T) {
				u, err := f.svc.DisableTwoFactor(ctx, ann, identity.Secret(way.pw()), identity.Secret(way.code()))
				if err != nil || u.TwoFactor != identity.TwoFactorNone {
					t.Fatalf("DisableTwoFactor = %q, %v; want the factor off", u.TwoFactor, err)
				}
				if n, err := st.CountRecoveryCodes(ctx, f.app, "ann"); err != nil || n != 0 {
					t.Errorf("recovery codes left = %d, %v; want none", n, err)
				}
				res, err := f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
				if err != nil || res.Session == nil {
					t.Errorf("Login after disabling = %+v, %v; want a session", res, err)
				}
				old := recovery
				var next string
				// Again, at an app that chose the CosyncJWT-style QR mail.
				f.settings(t, func(s *identity.AppSettings) { s.TOTPQRMail = true })
				next, recovery = enroll()
				if next == secret || slices.ContainsFunc(recovery, func(c identity.Secret) bool { return slices.Contains(old, c) }) {
					t.Error("re-enrolling reused the old secret or recovery codes")
				}
				secret = next
				ch, err := f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
				if err != nil || ch.Challenge == nil {
					t.Fatalf("Login after re-enrolling = %+v, %v; want a challenge", ch, err)
				}
				wantReason(t, "a recovery code of the old enrollment", errOf(f.svc.CompleteLogin(ctx, f.caller, ch.Challenge.LoginToken, old[1])), apperr.ReasonInvalidCode)
			})
		}
	})
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
