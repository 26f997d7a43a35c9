package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/sms/twiliotest"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "fedcba9876543210fedcba9876543210"
	twilioFrom  = "+15005550006"
)

// fakeTwilio starts a local Twilio that knows the test account, and
// returns it with the env option pointing the server at it.
func fakeTwilio(tb testing.TB) (*twiliotest.Server, envOption) {
	tb.Helper()
	fake := twiliotest.New()
	fake.AddAccount(twilioSID, twilioToken)
	url := twiliotest.Start(tb, fake)
	return fake, func(c *config.Config) { c.TwilioAPIURL, c.TwilioTimeout = url, 500*time.Millisecond }
}

func withSMSLimits(perNumber, perIP, perApp int) envOption {
	return func(c *config.Config) { c.SMSPerNumber, c.SMSPerIP, c.SMSPerApp = perNumber, perIP, perApp }
}

func testTwilio() *adminv1.TwilioSettings {
	return &adminv1.TwilioSettings{AccountSid: twilioSID, AuthToken: twilioToken, FromNumber: twilioFrom}
}

// textedCode returns the code in the newest text the fake sent to phone.
// textedCode delivers what the requests so far queued and returns the code
// of the newest text to phone.
func (e *env) textedCode(tb testing.TB, fake *twiliotest.Server, phone string) string {
	tb.Helper()
	e.flush(tb)
	msgs := fake.To(phone)
	if len(msgs) == 0 {
		tb.Fatalf("nothing was texted to %s", phone)
	}
	m := codeRE.FindStringSubmatch(msgs[len(msgs)-1].Body)
	if m == nil {
		tb.Fatalf("no code in the text %q", msgs[len(msgs)-1].Body)
	}
	return m[1]
}

// verifyPhone sets and verifies phone for the user of access.
func (e *env) verifyPhone(tb testing.TB, fake *twiliotest.Server, app, access, phone string) {
	tb.Helper()
	ctx := as(context.Background(), app, access)
	if _, err := e.auth.SetPhone(ctx, &authv1.SetPhoneRequest{Phone: phone}); err != nil {
		tb.Fatalf("SetPhone(%s) = %v", phone, err)
	}
	if _, err := e.auth.VerifyPhone(ctx, &authv1.VerifyPhoneRequest{Code: e.textedCode(tb, fake, phone)}); err != nil {
		tb.Fatalf("VerifyPhone(%s) = %v", phone, err)
	}
}

// TestSMS is the SMS journey through the app's Twilio account: the token
// shows masked, set and verify a phone, turn SMS sign-in on, log in with
// the texted code; a sixth wrong code and an expired challenge are refused.
func TestSMS(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fake, opt := fakeTwilio(t)
		e := newEnv(t, st, opt)
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, testTwilio())

		got, err := e.admin.GetApp(as(ctx, "", dev), &adminv1.GetAppRequest{AppId: app})
		if err != nil {
			t.Fatal(err)
		}
		if tw := got.GetApp().GetSettings().GetTwilio(); tw.GetAuthToken() != "****3210" || tw.GetAccountSid() != twilioSID || tw.GetFromNumber() != twilioFrom {
			t.Errorf("GetApp shows Twilio %v; want the token masked as ****3210", tw)
		}
		raw, _ := json.Marshal(got)
		if bytes.Contains(raw, []byte(twilioToken)) {
			t.Error("GetApp shows the Twilio auth token")
		}

		sess := e.signUp(t, dev, app, "ann@example.com")
		uctx := as(ctx, app, sess.GetAccessToken())
		const phone = "+14155550100"
		_, err = e.auth.SetSmsTwoFactor(uctx, &authv1.SetSmsTwoFactorRequest{Enabled: true})
		wantReason(t, "SetSmsTwoFactor before a phone", err, connect.CodeFailedPrecondition, apperr.ReasonPhoneNotVerified)

		if _, err := e.auth.SetPhone(uctx, &authv1.SetPhoneRequest{Phone: phone}); err != nil {
			t.Fatalf("SetPhone = %v", err)
		}
		e.flush(t)
		msgs := fake.To(phone)
		if len(msgs) != 1 || msgs[0].From != twilioFrom || msgs[0].AccountSID != twilioSID || !strings.Contains(msgs[0].Body, "is your Field Notes code") {
			t.Fatalf("texts to %s = %+v; want one from the app's account and template", phone, msgs)
		}
		code := e.textedCode(t, fake, phone)
		_, err = e.auth.VerifyPhone(uctx, &authv1.VerifyPhoneRequest{Code: fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1000000)})
		wantReason(t, "VerifyPhone(wrong code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		u, err := e.auth.GetUser(uctx, &authv1.GetUserRequest{})
		if err != nil || u.GetUser().GetPhone() != "" {
			t.Errorf("before VerifyPhone the user's phone is %q (%v), want none", u.GetUser().GetPhone(), err)
		}
		v, err := e.auth.VerifyPhone(uctx, &authv1.VerifyPhoneRequest{Code: code})
		if err != nil {
			t.Fatalf("VerifyPhone = %v", err)
		}
		if v.GetUser().GetPhone() != phone || !v.GetUser().GetPhoneVerified() {
			t.Errorf("VerifyPhone gave %v", v.GetUser())
		}
		_, err = e.auth.VerifyPhone(uctx, &authv1.VerifyPhoneRequest{Code: code})
		wantReason(t, "VerifyPhone(used code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")

		on, err := e.auth.SetSmsTwoFactor(uctx, &authv1.SetSmsTwoFactorRequest{Enabled: true})
		if err != nil || on.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS {
			t.Fatalf("SetSmsTwoFactor(on) = %v, %v", on, err)
		}
		_, err = e.auth.SetSmsTwoFactor(uctx, &authv1.SetSmsTwoFactorRequest{Enabled: false})
		wantReason(t, "SetSmsTwoFactor(off)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "enabled")

		// Login texts a code and answers a challenge; the texted code signs in.
		before := len(fake.To(phone))
		ch := e.challenge(t, app, "ann@example.com")
		if ch.GetMethod() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS || ch.GetPhoneHint() != "0100" {
			t.Errorf("challenge = %v, want SMS to …0100", ch)
		}
		e.flush(t)
		if n := len(fake.To(phone)); n != before+1 {
			t.Fatalf("Login texted %d messages, want 1", n-before)
		}
		s2, err := e.completeLogin(app, ch.GetLoginToken(), e.textedCode(t, fake, phone))
		if err != nil {
			t.Fatalf("CompleteLogin(texted code) = %v", err)
		}
		if s2.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS {
			t.Errorf("session user = %v", s2.GetUser())
		}

		// The sixth wrong code is refused, even the right one.
		ch = e.challenge(t, app, "ann@example.com")
		right := e.textedCode(t, fake, phone)
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, right)+1)%1000000)
		for i := range 5 {
			_, err := e.completeLogin(app, ch.GetLoginToken(), wrong)
			wantReason(t, fmt.Sprintf("CompleteLogin(wrong code #%d)", i+1), err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		}
		_, err = e.completeLogin(app, ch.GetLoginToken(), right)
		wantReason(t, "CompleteLogin(6th code)", err, connect.CodeFailedPrecondition, apperr.ReasonTooManyAttempts)

		// An expired challenge is refused.
		ch = e.challenge(t, app, "ann@example.com")
		e.clock.Advance(5*time.Minute + time.Second)
		_, err = e.completeLogin(app, ch.GetLoginToken(), e.textedCode(t, fake, phone))
		wantReason(t, "CompleteLogin(expired challenge)", err, connect.CodeUnauthenticated, apperr.ReasonLoginTokenExpired)

		// SMS users turn the factor off with the password.
		_, err = e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Code: "123456"})
		wantReason(t, "DisableTwoFactor(an SMS code)", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
		off, err := e.auth.DisableTwoFactor(uctx, &authv1.DisableTwoFactorRequest{Password: "long-enough-pw"})
		if err != nil || off.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE || !off.GetUser().GetPhoneVerified() {
			t.Errorf("DisableTwoFactor(password) = %v, %v; want the factor off and the phone kept", off.GetUser(), err)
		}
		before = len(fake.Messages())
		signedIn := e.login(t, app, "ann@example.com", "long-enough-pw") != ""
		e.flush(t)
		if !signedIn || len(fake.Messages()) != before {
			t.Error("Login after disabling SMS should sign in without a text")
		}

		// The admin's test message goes through the same account.
		if _, err := e.admin.SendTestSms(as(ctx, "", dev), &adminv1.SendTestSmsRequest{AppId: app, Phone: "+14155550199"}); err != nil {
			t.Fatalf("SendTestSms = %v", err)
		}
		if m := fake.To("+14155550199"); len(m) != 1 || !strings.Contains(m[0].Body, "test message") {
			t.Errorf("SendTestSms texted %+v", m)
		}
	})
}

// TestPhoneTaken: a number one user verified is refused to another, even
// when both verify at the same moment.
func TestPhoneTaken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fake, opt := fakeTwilio(t)
		e := newEnv(t, st, opt)
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, testTwilio())
		const phone = "+14155550123"
		users := []*authv1.Session{e.signUp(t, dev, app, "a@example.com"), e.signUp(t, dev, app, "b@example.com"), e.signUp(t, dev, app, "c@example.com")}

		// Both ask for codes before either verifies; then both verify at once.
		codes := make([]string, 2)
		for i, u := range users[:2] {
			if _, err := e.auth.SetPhone(as(ctx, app, u.GetAccessToken()), &authv1.SetPhoneRequest{Phone: phone}); err != nil {
				t.Fatalf("SetPhone(user %d) = %v", i, err)
			}
			codes[i] = e.textedCode(t, fake, phone)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, u := range users[:2] {
			wg.Go(func() {
				_, errs[i] = e.auth.VerifyPhone(as(ctx, app, u.GetAccessToken()), &authv1.VerifyPhoneRequest{Code: codes[i]})
			})
		}
		wg.Wait()
		var won int
		for i, err := range errs {
			if err == nil {
				won++
				continue
			}
			wantReason(t, fmt.Sprintf("VerifyPhone(user %d)", i), err, connect.CodeAlreadyExists, apperr.ReasonPhoneTaken)
		}
		if won != 1 {
			t.Fatalf("two users verifying one number at once: %d succeeded, want 1 (%v)", won, errs)
		}
		// A third user is refused before any text goes out.
		sent := len(fake.Messages())
		_, err := e.auth.SetPhone(as(ctx, app, users[2].GetAccessToken()), &authv1.SetPhoneRequest{Phone: phone})
		wantReason(t, "SetPhone(a number another user verified)", err, connect.CodeAlreadyExists, apperr.ReasonPhoneTaken)
		e.flush(t)
		if len(fake.Messages()) != sent {
			t.Error("SetPhone texted a number another user verified")
		}
	})
}

// TestTwilioFailures: Twilio refusing the credentials, throttling, failing
// or not answering reaches the developer's test message as a clear
// FailedPrecondition or Unavailable. A user's SetPhone and Login only queue
// their texts, so they answer as usual; the failure shows on the queued
// delivery, and nothing is half-made: no phone until a code is proven.
func TestTwilioFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		failure twiliotest.Failure
		code    connect.Code
		reason  apperr.Reason
	}{
		{"401", twiliotest.Unauthorized, connect.CodeFailedPrecondition, apperr.ReasonSMSNotConfigured},
		{"429", twiliotest.RateLimited, connect.CodeUnavailable, apperr.ReasonSMSDeliveryFailed},
		{"500", twiliotest.ServerError, connect.CodeUnavailable, apperr.ReasonSMSDeliveryFailed},
		{"timeout", twiliotest.Hang, connect.CodeUnavailable, apperr.ReasonSMSDeliveryFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, opt := fakeTwilio(t)
			e := newEnv(t, storetest.SQLite(t), opt)
			ctx := context.Background()
			dev := e.developer(t, "dev@example.com")
			app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, testTwilio())
			ready := e.signUp(t, dev, app, "on@example.com")
			e.verifyPhone(t, fake, app, ready.GetAccessToken(), "+14155550111")
			if _, err := e.auth.SetSmsTwoFactor(as(ctx, app, ready.GetAccessToken()), &authv1.SetSmsTwoFactorRequest{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			fresh := e.signUp(t, dev, app, "new@example.com")
			fctx := as(ctx, app, fresh.GetAccessToken())

			fake.Fail(tc.failure)
			if _, err := e.auth.SetPhone(fctx, &authv1.SetPhoneRequest{Phone: "+14155550122"}); err != nil {
				t.Fatalf("SetPhone while Twilio fails = %v, want the text queued", err)
			}
			e.flush(t)
			e.wantFailedDelivery(t, dev, app, "+14155550122")
			res, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "on@example.com", Password: "long-enough-pw"})
			if err != nil || res.GetChallenge() == nil {
				t.Fatalf("Login of an SMS user while Twilio fails = %v, %v; want a challenge, its text queued", res, err)
			}
			_, err = e.admin.SendTestSms(as(ctx, "", dev), &adminv1.SendTestSmsRequest{AppId: app, Phone: "+14155550133"})
			wantReason(t, "SendTestSms", err, tc.code, tc.reason)

			// Nothing half-made: no code to verify, no phone, the factor as it was.
			fake.Fail(twiliotest.OK)
			for _, c := range []string{"000000", "123456"} {
				_, err = e.auth.VerifyPhone(fctx, &authv1.VerifyPhoneRequest{Code: c})
				wantReason(t, "VerifyPhone after the failed text", err, connect.CodeInvalidArgument, apperr.ReasonInvalidCode, "code")
			}
			u, err := e.auth.GetUser(fctx, &authv1.GetUserRequest{})
			if err != nil || u.GetUser().GetPhone() != "" || u.GetUser().GetTwoFactor() != authv1.TwoFactorMethod_TWO_FACTOR_METHOD_NONE {
				t.Errorf("after the failed text the user is %v (%v)", u.GetUser(), err)
			}
			// With Twilio back, the SMS user signs in as before.
			ch := e.challenge(t, app, "on@example.com")
			if _, err := e.completeLogin(app, ch.GetLoginToken(), e.textedCode(t, fake, "+14155550111")); err != nil {
				t.Errorf("CompleteLogin once Twilio is back = %v", err)
			}
			// A text whose code expired before it could go is a dead letter
			// the developer sees, with Twilio's last error; it is not sent.
			sent := len(fake.Messages())
			e.clock.Advance(10 * time.Minute) // identity.PhoneCodeTTL
			e.flush(t)
			if n := len(fake.Messages()); n != sent {
				t.Errorf("%d texts with expired codes went out", n-sent)
			}
			dead := e.deliveries(t, dev, app, adminv1.DeliveryState_DELIVERY_STATE_DEAD)
			if d := findDelivery(dead, "+14155550122"); d == nil || d.GetLastError() == "" || d.GetFinishedAt() == nil {
				t.Errorf("dead letters = %v; want SetPhone's text, its last error and when it died", dead)
			}
		})
	}
}

// TestSMSNotConfigured: without Twilio settings an SMS app texts into the
// dev outbox in development, and refuses clearly in production (real
// mail configured). Wrong stored credentials read the same.
func TestSMSNotConfigured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("dev outbox", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, storetest.SQLite(t))
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, nil)
		sess := e.signUp(t, dev, app, "ann@example.com")
		uctx := as(ctx, app, sess.GetAccessToken())
		if _, err := e.auth.SetPhone(uctx, &authv1.SetPhoneRequest{Phone: "+14155550100"}); err != nil {
			t.Fatalf("SetPhone in dev mode = %v", err)
		}
		m := e.tfOutbox(t, dev, app, notify.ChannelSMS, "+14155550100")
		c := codeRE.FindStringSubmatch(m.GetText())
		if c == nil {
			t.Fatalf("outbox text %q has no code", m.GetText())
		}
		if _, err := e.auth.VerifyPhone(uctx, &authv1.VerifyPhoneRequest{Code: c[1]}); err != nil {
			t.Fatalf("VerifyPhone with the outbox code = %v", err)
		}
		// The test message checks Twilio itself, so it never goes to the outbox.
		_, err := e.admin.SendTestSms(as(ctx, "", dev), &adminv1.SendTestSmsRequest{AppId: app, Phone: "+14155550100"})
		wantReason(t, "SendTestSms without Twilio", err, connect.CodeFailedPrecondition, apperr.ReasonSMSNotConfigured)
	})
	t.Run("production", func(t *testing.T) {
		t.Parallel()
		mail := smtptest.Start(t)
		e := newEnv(t, storetest.SQLite(t), withSMTP(mail.URL()))
		dev := e.developer(t, "dev@example.com")
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, nil)
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bo"}})
		if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bo@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatal(err)
		}
		c := codeRE.FindStringSubmatch(mail.WaitFor(t, "bo@example.com").Text)
		sess, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "bo@example.com", Code: c[1]})
		if err != nil {
			t.Fatal(err)
		}
		uctx := as(ctx, app, sess.GetSession().GetAccessToken())
		_, err = e.auth.SetPhone(uctx, &authv1.SetPhoneRequest{Phone: "+14155550100"})
		wantReason(t, "SetPhone without Twilio", err, connect.CodeFailedPrecondition, apperr.ReasonSMSNotConfigured)
	})
	t.Run("wrong credentials", func(t *testing.T) {
		t.Parallel()
		fake, opt := fakeTwilio(t)
		e := newEnv(t, storetest.SQLite(t), opt)
		dev := e.developer(t, "dev@example.com")
		bad := testTwilio()
		bad.AuthToken = "00000000000000000000000000000000"
		app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, bad)
		sess := e.signUp(t, dev, app, "cy@example.com")
		// SetPhone only queues the text; Twilio's refusal shows on the
		// delivery, which the worker retries (the developer may fix the
		// settings) and, in the end, gives up as a dead letter.
		if _, err := e.auth.SetPhone(as(ctx, app, sess.GetAccessToken()), &authv1.SetPhoneRequest{Phone: "+14155550100"}); err != nil {
			t.Fatalf("SetPhone with a wrong Twilio token = %v, want the text queued", err)
		}
		e.flush(t)
		if n := len(fake.Messages()); n != 0 {
			t.Errorf("%d messages went out with wrong credentials", n)
		}
		e.wantFailedDelivery(t, dev, app, "+14155550100")
	})
}

// TestSMSCaps: past the hourly cap per number, per client IP or per app a
// text is refused with ResourceExhausted and nothing is sent.
func TestSMSCaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		limits       envOption
		phone        func(i int) string // the number of the i-th text
		ip           func(i int) string // the client IP of the i-th text
		freshApp     bool               // the refused text's twin from another app passes
		freshIP      bool               // … from another IP passes
		freshNumber  bool               // … to another number passes
		wantAccepted int
	}{
		{"per number", withSMSLimits(2, 100, 100), func(int) string { return "+14155550150" }, func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, true, false, true, 2},
		{"per ip", withSMSLimits(100, 3, 100), func(i int) string { return fmt.Sprintf("+1415555016%d", i) }, func(int) string { return "203.0.113.9" }, true, true, false, 3},
		{"per app", withSMSLimits(100, 100, 2), func(i int) string { return fmt.Sprintf("+1415555017%d", i) }, func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, true, false, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, opt := fakeTwilio(t)
			e := newEnv(t, storetest.SQLite(t), opt, tc.limits, func(c *config.Config) { c.TrustProxy = true })
			dev := e.developer(t, "dev@example.com")
			app := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, testTwilio())
			other := e.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS, testTwilio())
			sess := e.signUp(t, dev, app, "ann@example.com")
			otherSess := e.signUp(t, dev, other, "ann@example.com")
			for i := range tc.wantAccepted {
				if st, body := e.setPhoneFrom(t, app, sess.GetAccessToken(), tc.ip(i), tc.phone(i)); st != http.StatusOK {
					t.Fatalf("text %d = %d %s, want it sent", i+1, st, body)
				}
			}
			e.flush(t)
			sent := fake.Requests()
			n := tc.wantAccepted
			st, body := e.setPhoneFrom(t, app, sess.GetAccessToken(), tc.ip(n), tc.phone(n))
			if st != http.StatusTooManyRequests || !strings.Contains(body, "resource_exhausted") || !strings.Contains(body, "RATE_LIMITED") {
				t.Errorf("text %d past the cap = %d %s, want 429 resource_exhausted", n+1, st, body)
			}
			e.flush(t)
			if fake.Requests() != sent {
				t.Error("a capped text reached Twilio")
			}
			twins := []struct {
				on               bool
				name, app, token string
				ip, phone        string
			}{
				{tc.freshApp, "another app", other, otherSess.GetAccessToken(), "198.51.100.1", tc.phone(n)},
				{tc.freshIP, "another IP", app, sess.GetAccessToken(), "198.51.100.2", tc.phone(n)},
				{tc.freshNumber, "another number", app, sess.GetAccessToken(), tc.ip(n), "+14155550199"},
			}
			for _, tw := range twins {
				if !tw.on {
					continue
				}
				if st, body := e.setPhoneFrom(t, tw.app, tw.token, tw.ip, tw.phone); st != http.StatusOK {
					t.Errorf("the capped text's twin from %s = %d %s, want it sent", tw.name, st, body)
				}
			}
		})
	}
}

// setPhoneFrom calls SetPhone over plain HTTP as if from ip (the server
// trusts X-Forwarded-For in this test) and returns the status and body.
func (e *env) setPhoneFrom(tb testing.TB, app, access, ip, phone string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/cosync.auth.v1.AuthService/SetPhone", strings.NewReader(`{"phone":"`+phone+`"}`))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cosync-App-Id", app)
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("X-Forwarded-For", ip)
	res, err := e.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
