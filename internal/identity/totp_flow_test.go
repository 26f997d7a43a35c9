package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestLoginWithTOTP follows one request path of the architecture on the
// domain, over both databases: enroll an authenticator, then Login answers
// a challenge and CompleteLogin takes a TOTP code once, a recovery code
// once, and refuses replays and used challenges.
func TestLoginWithTOTP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFlowEnv(t, st)
		a, err := st.GetApp(ctx, f.app)
		if err != nil {
			t.Fatal(err)
		}
		a.Settings.TwoFactor = identity.TwoFactorTOTP
		if err := st.UpdateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		box, err := secrets.NewLocal(make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		svc := identity.New(identity.Deps{Store: st, Passwords: f.hasher, Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")), Tokens: fakeTokens{},
			Secrets: box, Now: f.clock.Now}, identity.Config{})
		ann := identity.Principal{AppID: f.app, UserID: "ann", IP: "192.0.2.1"}

		enr, err := svc.BeginTotpEnrollment(ctx, ann)
		if err != nil {
			t.Fatalf("BeginTotpEnrollment = %v", err)
		}
		code := func() identity.Secret {
			c, err := totp.GenerateCode(enr.Secret.Reveal(), f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return identity.Secret(c)
		}
		recovery, _, err := svc.ConfirmTotpEnrollment(ctx, ann, code())
		if err != nil || len(recovery) != identity.RecoveryCodeCount {
			t.Fatalf("ConfirmTotpEnrollment = %d recovery codes, %v", len(recovery), err)
		}
		login := func() identity.Secret {
			t.Helper()
			res, err := svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
			if err != nil || res.Challenge == nil || res.Challenge.Method != identity.TwoFactorTOTP {
				t.Fatalf("Login of a TOTP user = %+v, %v; want a TOTP challenge", res, err)
			}
			return res.Challenge.LoginToken
		}

		f.clock.Advance(30 * time.Second) // the next time step: the enrollment's code is spent
		first := login()
		used := code()
		steps := []struct {
			name        string
			token, code identity.Secret
			want        apperr.Reason
		}{
			{"a wrong code", first, "000000", apperr.ReasonInvalidCode},
			{"the current code", first, used, ""},
			{"the used challenge", first, used, apperr.ReasonLoginTokenInvalid},
			{"garbage for a token", "no-such-token", used, apperr.ReasonLoginTokenInvalid},
		}
		if used == "000000" {
			steps[0].code = "111111"
		}
		for _, s := range steps {
			_, err := svc.CompleteLogin(ctx, f.caller, s.token, s.code)
			wantReason(t, s.name+": CompleteLogin", err, s.want)
		}

		second := login()
		wantReason(t, "the same TOTP code again (a replay)", errOf(svc.CompleteLogin(ctx, f.caller, second, used)), apperr.ReasonInvalidCode)
		wantReason(t, "a recovery code", errOf(svc.CompleteLogin(ctx, f.caller, second, recovery[0])), "")
		third := login()
		wantReason(t, "the same recovery code again", errOf(svc.CompleteLogin(ctx, f.caller, third, recovery[0])), apperr.ReasonInvalidCode)
	})
}

func errOf[T any](_ T, err error) error { return err }
