package identity_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// concurrently runs call n times at once and counts the reasons answered
// ("" for success).
func concurrently(n int, call func(i int) error) map[apperr.Reason]int {
	var mu sync.Mutex
	counts := map[apperr.Reason]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := apperr.ReasonOf(call(i))
			mu.Lock()
			counts[r]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

// enrollTOTP turns authenticators on for the app and enrolls p, and
// returns the secret; the clock is moved past the confirming code's step.
func (f *flowEnv) enrollTOTP(t *testing.T, p identity.Principal) string {
	t.Helper()
	ctx := context.Background()
	f.settings(t, func(s *identity.AppSettings) { s.TwoFactor = identity.TwoFactorTOTP })
	enr, err := f.svc.BeginTotpEnrollment(ctx, p)
	if err != nil {
		t.Fatalf("BeginTotpEnrollment = %v", err)
	}
	if _, _, err := f.svc.ConfirmTotpEnrollment(ctx, p, identity.Secret(totpCode(t, enr.Secret.Reveal(), f.clock.Now()))); err != nil {
		t.Fatalf("ConfirmTotpEnrollment = %v", err)
	}
	f.clock.Advance(30 * time.Second)
	return enr.Secret.Reveal()
}

// challenge signs handle in with rightPassword and returns the challenge's token.
func (f *flowEnv) challenge(t *testing.T, handle string) identity.Secret {
	t.Helper()
	res, err := f.svc.Login(context.Background(), f.caller, handle, rightPassword)
	if err != nil || res.Challenge == nil {
		t.Fatalf("Login(%s) = %+v, %v; want a challenge", handle, res, err)
	}
	return res.Challenge.LoginToken
}

// TestCodeGuessing: of 50 concurrent wrong guesses at one signup code at
// most five are checked, the rest refused as too many; the right code
// afterwards is refused too, and no account is made.
func TestCodeGuessing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		if _, err := f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: "cy@example.com", Password: "a-good-password"}); err != nil {
			t.Fatal(err)
		}
		right := f.lastCode(t, "cy@example.com")
		counts := concurrently(50, func(int) error {
			return errOf(f.svc.CompleteSignUp(ctx, f.caller, "cy@example.com", identity.Secret(otherCode(right))))
		})
		if counts[apperr.ReasonInvalidCode] > 5 || counts[apperr.ReasonInvalidCode]+counts[apperr.ReasonTooManyAttempts] != 50 {
			t.Errorf("50 concurrent wrong guesses answered %v; want at most 5 INVALID_CODE, the rest TOO_MANY_ATTEMPTS", counts)
		}
		f.refuse(t, []string{"cy@example.com"}, []refusal{
			{"the right code after the guesses", func() error {
				return errOf(f.svc.CompleteSignUp(ctx, f.caller, "cy@example.com", identity.Secret(right)))
			}, apperr.ReasonTooManyAttempts},
		})
		if _, err := st.FindUserByEmail(ctx, f.app, "cy@example.com"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after 50 wrong guesses FindUserByEmail = %v, want NotFound", err)
		}
	})
}

// TestCodeExpiry: a signup code is dead after its lifetime (24 hours by
// default) and a reset code after an hour; neither refusal changes anything.
func TestCodeExpiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		if _, err := f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: "di@example.com", Password: "a-good-password"}); err != nil {
			t.Fatal(err)
		}
		signup := f.lastCode(t, "di@example.com")
		if err := f.svc.ForgotPassword(ctx, f.caller, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		reset := f.lastCode(t, "ann@example.com")
		f.clock.Advance(identity.ResetCodeTTL + time.Second)
		f.refuse(t, []string{"ann@example.com"}, []refusal{
			{"a reset code after an hour", func() error {
				return f.svc.ResetPassword(ctx, f.caller, "ann@example.com", identity.Secret(reset), "brand-new-password")
			}, apperr.ReasonCodeExpired},
		})
		f.clock.Advance(24 * time.Hour)
		f.refuse(t, []string{"di@example.com"}, []refusal{
			{"a signup code after 24 hours", func() error {
				return errOf(f.svc.CompleteSignUp(ctx, f.caller, "di@example.com", identity.Secret(signup)))
			}, apperr.ReasonCodeExpired},
		})
	})
}

// TestChallengeLimits: a challenge checks five codes however many arrive
// at once, and the sixth is refused even when right; challenges expire; a
// made-up token is refused; one code sent by three challenges at once
// signs in once.
func TestChallengeLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		_, ann := f.login(t, "ann@example.com", rightPassword)
		secret := f.enrollTOTP(t, ann)
		right := func() string { return totpCode(t, secret, f.clock.Now()) }
		complete := func(token identity.Secret, code string) error {
			return errOf(f.svc.CompleteLogin(ctx, f.caller, token, identity.Secret(code)))
		}

		ch := f.challenge(t, "ann@example.com")
		wrong := otherCode(right())
		counts := concurrently(12, func(int) error { return complete(ch, wrong) })
		if counts[apperr.ReasonInvalidCode] != identity.MaxLoginTokenAttempts || counts[apperr.ReasonTooManyAttempts] != 12-identity.MaxLoginTokenAttempts {
			t.Errorf("12 concurrent wrong codes answered %v; want 5 INVALID_CODE and 7 TOO_MANY_ATTEMPTS", counts)
		}
		wantReason(t, "the right code after five wrong ones", complete(ch, right()), apperr.ReasonTooManyAttempts)

		ch = f.challenge(t, "ann@example.com")
		f.clock.Advance(identity.LoginTokenTTL + time.Second)
		for _, s := range []struct {
			name  string
			token identity.Secret
			want  apperr.Reason
		}{
			{"an expired challenge", ch, apperr.ReasonLoginTokenExpired},
			{"a made-up token", "made-up-token", apperr.ReasonLoginTokenInvalid},
		} {
			wantReason(t, s.name, complete(s.token, right()), s.want)
		}

		f.clock.Advance(30 * time.Second)
		chs := []identity.Secret{f.challenge(t, "ann@example.com"), f.challenge(t, "ann@example.com"), f.challenge(t, "ann@example.com")}
		code := right()
		counts = concurrently(len(chs), func(i int) error { return complete(chs[i], code) })
		if counts[""] != 1 || counts[apperr.ReasonInvalidCode] != len(chs)-1 {
			t.Errorf("one code in %d concurrent challenges answered %v; want 1 session and %d INVALID_CODE", len(chs), counts, len(chs)-1)
		}
	})
}

// TestLogout: a logged-out session stops authenticating and refreshing at
// once; the user's other sessions live until Logout(all).
func TestLogout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		s, p := f.login(t, "ann@example.com", rightPassword)
		other, op := f.login(t, "ann@example.com", rightPassword)
		if err := f.svc.Logout(ctx, p, false); err != nil {
			t.Fatal(err)
		}
		wantReason(t, "Authenticate after Logout", f.authErr(s), apperr.ReasonSessionRevoked)
		wantReason(t, "RefreshSession after Logout", errOf(f.svc.RefreshSession(ctx, f.caller, s.RefreshToken)), apperr.ReasonSessionRevoked)
		wantReason(t, "the other session after Logout", f.authErr(other), "")
		if err := f.svc.Logout(ctx, op, true); err != nil {
			t.Fatal(err)
		}
		wantReason(t, "the other session after Logout(all)", f.authErr(other), apperr.ReasonSessionRevoked)
		wantReason(t, "its refresh token after Logout(all)", errOf(f.svc.RefreshSession(ctx, f.caller, other.RefreshToken)), apperr.ReasonSessionRevoked)
	})
}
