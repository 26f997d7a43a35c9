package sms_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/sms"
	"github.com/cosync/cosync-auth/internal/sms/twiliotest"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "fedcba9876543210fedcba9876543210"
)

func start(t *testing.T, timeout time.Duration) (*twiliotest.Server, *sms.Twilio) {
	t.Helper()
	fake := twiliotest.New()
	fake.AddAccount(sid, token)
	url := twiliotest.Start(t, fake)
	return fake, sms.New(sms.Config{BaseURL: url, HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}, Timeout: timeout})
}

func TestSend(t *testing.T) {
	t.Parallel()
	fake, tw := start(t, 5*time.Second)
	for _, acct := range []sms.Account{
		{SID: sid, AuthToken: token, From: "+15005550006"},
		{SID: sid, AuthToken: token, MessagingServiceSID: "MG0123456789abcdef0123456789abcdef"},
	} {
		msid, err := tw.Send(context.Background(), acct, "+14155550100", "123456 is your code")
		if err != nil {
			t.Fatalf("Send(%v) = %v", acct, err)
		}
		got := fake.Messages()
		last := got[len(got)-1]
		if last.SID != msid || last.To != "+14155550100" || last.Body != "123456 is your code" ||
			last.From != acct.From || last.MessagingServiceSID != acct.MessagingServiceSID || last.AccountSID != sid {
			t.Errorf("Send(%v) delivered %+v (sid %q)", acct, last, msid)
		}
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	good := sms.Account{SID: sid, AuthToken: token, From: "+15005550006"}
	tests := []struct {
		name    string
		failure twiliotest.Failure
		acct    sms.Account
		to      string
		kind    sms.Kind
		status  int
		code    int
	}{
		{"wrong token", twiliotest.OK, sms.Account{SID: sid, AuthToken: "00000000000000000000000000000000", From: "+15005550006"}, "+14155550100", sms.BadCredentials, 401, 20003},
		{"unknown account", twiliotest.OK, sms.Account{SID: "AC00000000000000000000000000000000", AuthToken: token, From: "+15005550006"}, "+14155550100", sms.BadCredentials, 401, 20003},
		{"token with illegal characters", twiliotest.OK, sms.Account{SID: sid, AuthToken: "not/a/token", From: "+15005550006"}, "+14155550100", sms.BadCredentials, 400, 21224},
		{"401", twiliotest.Unauthorized, good, "+14155550100", sms.BadCredentials, 401, 20003},
		{"429", twiliotest.RateLimited, good, "+14155550100", sms.Unavailable, 429, 20429},
		{"500", twiliotest.ServerError, good, "+14155550100", sms.Unavailable, 500, 20500},
		{"timeout", twiliotest.Hang, good, "+14155550100", sms.Unavailable, 0, 0},
		{"bad number", twiliotest.OK, good, "555-0100", sms.Rejected, 400, 21211},
		{"no sender", twiliotest.OK, sms.Account{SID: sid, AuthToken: token}, "+14155550100", sms.Rejected, 400, 21603},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, tw := start(t, 300*time.Millisecond)
			fake.Fail(tc.failure)
			// A hanging fake answers only when the client gives up, so a
			// return proves the 300ms timeout bounds the send.
			_, err := tw.Send(context.Background(), tc.acct, tc.to, "hello")
			var e *sms.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want an *sms.Error", err)
			}
			if e.Kind != tc.kind || e.Status != tc.status || e.Code != tc.code {
				t.Errorf("Send = %v (kind %v, status %d, code %d), want kind %v, status %d, code %d", err, e.Kind, e.Status, e.Code, tc.kind, tc.status, tc.code)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Send = %v reads as the caller's deadline; Twilio's silence is Unavailable", err)
			}
			if n := len(fake.Messages()); n != 0 {
				t.Errorf("a failed send left %d messages", n)
			}
		})
	}
}

// TestSendContext: the caller's context bounds a send even when the
// timeout is long. The fake hangs until the client gives up and the
// timeout is an hour, so only the context can end the send: a return
// proves it did, with no clock read.
func TestSendContext(t *testing.T) {
	t.Parallel()
	fake, tw := start(t, time.Hour)
	fake.Fail(twiliotest.Hang)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := tw.Send(ctx, sms.Account{SID: sid, AuthToken: token, From: "+15005550006"}, "+14155550100", "hi")
	var e *sms.Error
	if !errors.As(err, &e) || e.Kind != sms.Unavailable {
		t.Fatalf("Send with a canceled context = %v, want Unavailable", err)
	}
}

func TestBadBaseURLFailsSends(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"ftp://x", "not a url", "/relative"} {
		_, err := sms.New(sms.Config{BaseURL: u}).Send(context.Background(), sms.Account{SID: sid, AuthToken: token, From: "+15005550006"}, "+14155550100", "hi")
		var e *sms.Error
		if !errors.As(err, &e) || e.Kind != sms.Unavailable {
			t.Errorf("Send with BaseURL %q = %v, want Unavailable", u, err)
		}
	}
}
