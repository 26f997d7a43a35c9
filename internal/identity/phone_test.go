package identity_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

const (
	twilioSID  = "AC0123456789abcdef0123456789abcdef"
	twilioFrom = "+15005550006"
)

// smsApp makes the app offer SMS sign-in codes through its own Twilio
// account, its auth token sealed as the console seals it.
func (f *flowEnv) smsApp(t *testing.T) {
	t.Helper()
	sealed, err := f.box.Seal(context.Background(), []byte("fedcba9876543210fedcba9876543210"), identity.TwilioTokenAssociatedData(f.app))
	if err != nil {
		t.Fatal(err)
	}
	f.settings(t, func(s *identity.AppSettings) {
		s.TwoFactor = identity.TwoFactorSMS
		s.Twilio = identity.TwilioSettings{AccountSID: twilioSID, AuthTokenSealed: sealed, FromNumber: twilioFrom}
	})
}

// verifyPhone sets and verifies phone for p.
func (f *flowEnv) verifyPhone(t *testing.T, p identity.Principal, phone string) {
	t.Helper()
	ctx := context.Background()
	if err := f.svc.SetPhone(ctx, p, phone); err != nil {
		t.Fatalf("SetPhone(%s) = %v", phone, err)
	}
	if _, err := f.svc.VerifyPhone(ctx, p, identity.Secret(f.sms.lastCode(t, phone))); err != nil {
		t.Fatalf("VerifyPhone(%s) = %v", phone, err)
	}
}

// TestSMSSecondFactor is the SMS journey through the app's Twilio account
// on the domain: set and verify a phone, turn SMS sign-in on, sign in with
// the texted code; wrong, used, sixth and late codes are refused, and no
// refusal changes the user.
func TestSMSSecondFactor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		f.smsApp(t)
		_, ann := f.login(t, "ann@example.com", rightPassword)
		const phone = "+14155550100"
		anns := []string{"ann@example.com"}
		smsOn := func(on bool) func() error { return func() error { return errOf(f.svc.SetSmsTwoFactor(ctx, ann, on)) } }
		setPhone := func(n string) func() error { return func() error { return f.svc.SetPhone(ctx, ann, n) } }
		verify := func(code string) func() error {
			return func() error { return errOf(f.svc.VerifyPhone(ctx, ann, identity.Secret(code))) }
		}
		f.refuse(t, anns, []refusal{
			{"SMS sign-in before a phone", smsOn(true), apperr.ReasonPhoneNotVerified},
			{"a phone without its country code", setPhone("4155550100"), apperr.ReasonInvalidArgument},
			{"a phone that is no number", setPhone("+1999"), apperr.ReasonInvalidArgument},
			{"VerifyPhone before SetPhone", verify("123456"), apperr.ReasonInvalidCode},
		})

		if err := setPhone(phone)(); err != nil {
			t.Fatalf("SetPhone = %v", err)
		}
		texts := f.sms.to(phone)
		if len(texts) != 1 || texts[0].Account.SID != twilioSID || texts[0].Account.From != twilioFrom || texts[0].Account.AuthToken != "fedcba9876543210fedcba9876543210" {
			t.Fatalf("texts to %s = %+v; want one through the app's account", phone, texts)
		}
		code := f.sms.lastCode(t, phone)
		f.refuse(t, anns, []refusal{{"VerifyPhone with a wrong code", verify(otherCode(code)), apperr.ReasonInvalidCode}})
		if u := f.user(t, "ann"); u.Phone != "" || u.PhoneVerified {
			t.Errorf("before VerifyPhone the phone is %q (verified %v), want none", u.Phone, u.PhoneVerified)
		}
		u, err := f.svc.VerifyPhone(ctx, ann, identity.Secret(code))
		if err != nil || u.Phone != phone || !u.PhoneVerified {
			t.Fatalf("VerifyPhone = %+v, %v; want the phone verified", u, err)
		}
		sent := f.sms.count()
		if err := setPhone(phone)(); err != nil || f.sms.count() != sent {
			t.Errorf("SetPhone of the verified number = %v and %d texts; want nothing sent", err, f.sms.count()-sent)
		}
		f.refuse(t, anns, []refusal{{"VerifyPhone with the used code", verify(code), apperr.ReasonInvalidCode}})

		if u, err := f.svc.SetSmsTwoFactor(ctx, ann, true); err != nil || u.TwoFactor != identity.TwoFactorSMS {
			t.Fatalf("SetSmsTwoFactor(on) = %+v, %v", u, err)
		}
		f.refuse(t, anns, []refusal{{"SetSmsTwoFactor(off)", smsOn(false), apperr.ReasonInvalidArgument}})

		// Login texts a code and answers a challenge; the texted code signs in.
		challenge := func() identity.Secret {
			t.Helper()
			before := len(f.sms.to(phone))
			res, err := f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
			if err != nil || res.Challenge == nil || res.Challenge.Method != identity.TwoFactorSMS || res.Challenge.PhoneHint != "0100" {
				t.Fatalf("Login of an SMS user = %+v, %v; want an SMS challenge to …0100", res, err)
			}
			if n := len(f.sms.to(phone)) - before; n != 1 {
				t.Fatalf("Login texted %d messages, want 1", n)
			}
			return res.Challenge.LoginToken
		}
		complete := func(token identity.Secret, code string) error {
			return errOf(f.svc.CompleteLogin(ctx, f.caller, token, identity.Secret(code)))
		}
		first := challenge()
		right := f.sms.lastCode(t, phone)
		for _, s := range []struct {
			name, code string
			want       apperr.Reason
		}{
			{"a wrong code", otherCode(right), apperr.ReasonInvalidCode},
			{"the texted code", right, ""},
			{"the texted code again", right, apperr.ReasonLoginTokenInvalid},
		} {
			wantReason(t, s.name, complete(first, s.code), s.want)
		}

		// The sixth code is refused, even the right one.
		second := challenge()
		right = f.sms.lastCode(t, phone)
		for range identity.MaxLoginTokenAttempts {
			wantReason(t, "a wrong code", complete(second, otherCode(right)), apperr.ReasonInvalidCode)
		}
		wantReason(t, "the right code after five wrong ones", complete(second, right), apperr.ReasonTooManyAttempts)

		// A late answer is refused.
		third := challenge()
		f.clock.Advance(identity.LoginTokenTTL + time.Second)
		wantReason(t, "the texted code after the challenge expired", complete(third, f.sms.lastCode(t, phone)), apperr.ReasonLoginTokenExpired)

		// SMS users turn the factor off with the password.
		disable := func(pw, code string) func() error {
			return func() error {
				return errOf(f.svc.DisableTwoFactor(ctx, ann, identity.Secret(pw), identity.Secret(code)))
			}
		}
		f.refuse(t, anns, []refusal{
			{"DisableTwoFactor with a six-digit code", disable("", "123456"), apperr.ReasonInvalidCode},
			{"DisableTwoFactor with a wrong password", disable("not-my-password", ""), apperr.ReasonInvalidCredentials},
			{"DisableTwoFactor with nothing", disable("", ""), apperr.ReasonInvalidArgument},
		})
		off, err := f.svc.DisableTwoFactor(ctx, ann, rightPassword, "")
		if err != nil || off.TwoFactor != identity.TwoFactorNone || !off.PhoneVerified || off.Phone != phone {
			t.Errorf("DisableTwoFactor(password) = %+v, %v; want the factor off and the phone kept", off, err)
		}
		sent = f.sms.count()
		f.login(t, "ann@example.com", rightPassword)
		if f.sms.count() != sent {
			t.Error("Login after turning SMS off texted")
		}
	})
}

// TestPhoneTaken: a number one user verified is refused to another, even
// when both verify at the same moment, and a third is refused before any
// text goes out.
func TestPhoneTaken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		f.smsApp(t)
		const phone = "+14155550123"
		var users []identity.Principal
		for _, id := range []string{"a", "b", "c"} {
			f.addUser(t, id, nil)
			_, p := f.login(t, id+"@example.com", rightPassword)
			users = append(users, p)
		}
		codes := make([]string, 2)
		for i, p := range users[:2] { // both ask for codes before either verifies
			if err := f.svc.SetPhone(ctx, p, phone); err != nil {
				t.Fatalf("SetPhone(user %d) = %v", i, err)
			}
			codes[i] = f.sms.lastCode(t, phone)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, p := range users[:2] {
			wg.Go(func() { errs[i] = errOf(f.svc.VerifyPhone(ctx, p, identity.Secret(codes[i]))) })
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			if err == nil {
				won++
				continue
			}
			wantReason(t, "VerifyPhone of the loser", err, apperr.ReasonPhoneTaken)
			if u := f.user(t, []string{"a", "b"}[i]); u.PhoneVerified {
				t.Errorf("the loser's phone is verified: %+v", u)
			}
		}
		if won != 1 {
			t.Fatalf("two users verifying one number at once: %d succeeded, want 1 (%v)", won, errs)
		}
		f.refuse(t, []string{"c@example.com"}, []refusal{
			{"SetPhone of a number another user verified", func() error { return f.svc.SetPhone(ctx, users[2], phone) }, apperr.ReasonPhoneTaken},
		})
	})
}

// TestSMSFailures: an app without Twilio settings (and no dev outbox)
// cannot text at all; Twilio refusing the credentials, refusing the message
// or failing is the send queue's business, not the caller's: the call
// answers at once, and the text arrives once Twilio works, unless Twilio
// refused the message itself.
func TestSMSFailures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		_, ann := f.login(t, "ann@example.com", rightPassword)
		f.addUser(t, "sam", nil)
		_, sam := f.login(t, "sam@example.com", rightPassword)
		const phone = "+14155550100"
		setPhone := func() error { return f.svc.SetPhone(ctx, ann, phone) }
		both := []string{"ann@example.com", "sam@example.com"}
		f.refuse(t, both, []refusal{{"SetPhone in an app without Twilio", setPhone, apperr.ReasonSMSNotConfigured}})

		f.smsApp(t)
		f.verifyPhone(t, sam, "+14155550177")
		if _, err := f.svc.SetSmsTwoFactor(ctx, sam, true); err != nil {
			t.Fatal(err)
		}
		// Twilio's answers no longer reach the caller: the text is queued
		// with its code in the call's transaction, SetPhone answers at once,
		// and the worker retries what may pass later and drops what never
		// will (the developer sees both on ListDeliveries).
		for _, tc := range []struct {
			name      string
			fail      error
			delivered bool // once Twilio works again and the backoff passed
		}{
			{"a refused message", &identity.SMSError{Kind: identity.SMSRejected, Status: 400, Code: 21211}, false},
			{"refused credentials", &identity.SMSError{Kind: identity.SMSBadCredentials, Status: 401, Code: 20003}, true},
			{"throttled", &identity.SMSError{Kind: identity.SMSUnavailable, Status: 429}, true},
			{"no answer", &identity.SMSError{Kind: identity.SMSUnavailable, Err: errors.New("timeout")}, true},
		} { // the last one's code is the phone's current code, verified below
			f.sms.failWith(tc.fail)
			before := len(f.sms.to(phone))
			if err := setPhone(); err != nil {
				t.Fatalf("%s: SetPhone = %v, want the text queued", tc.name, err)
			}
			if n := len(f.sms.to(phone)) - before; n != 0 {
				t.Errorf("%s: %d texts went out while Twilio failed", tc.name, n)
			}
			f.sms.failWith(nil)
			f.clock.Advance(time.Minute)
			if got := len(f.sms.to(phone))-before == 1; got != tc.delivered {
				t.Errorf("%s: delivered once Twilio works = %v, want %v", tc.name, got, tc.delivered)
			}
		}
		if _, err := f.svc.VerifyPhone(ctx, ann, identity.Secret(f.sms.lastCode(t, phone))); err != nil {
			t.Errorf("VerifyPhone with the code that arrived after the retries = %v", err)
		}
		res, err := f.svc.Login(ctx, f.caller, "sam@example.com", rightPassword)
		if err != nil || res.Challenge == nil || !strings.HasSuffix("+14155550177", res.Challenge.PhoneHint) {
			t.Errorf("Login once Twilio works = %+v, %v; want an SMS challenge", res, err)
		}
	})
}
