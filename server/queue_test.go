package main

import (
	"context"
	"testing"
	"time"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestSMTPOutageLosesNoMail follows the test over the whole
// server: the SMTP server stops, a user signs up (the request succeeds:
// it only queues the mail), the developer sees the failed attempt, the
// server comes back, and once the backoff has passed on the server's
// clock the running worker delivers the code, which completes the signup.
func TestSMTPOutageLosesNoMail(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		mail := smtptest.Start(t)
		e := newEnv(t, st, withSMTP(mail.URL()))
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		const email = "out@example.com"

		mail.Stop()
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Oz"}})
		if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: email, Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatalf("SignUp with the SMTP server down = %v, want the mail queued", err)
		}
		e.flush(t)
		e.wantFailedDelivery(t, dev, app, email)

		mail.Restart(t)
		e.clock.Advance(10 * time.Second) // notify's default BaseDelay bounds the first backoff
		m := mail.WaitFor(t, email)       // the worker serve runs delivers it; no flush
		c := codeRE.FindStringSubmatch(m.Text)
		if c == nil {
			t.Fatalf("the signup mail %q has no code", m.Text)
		}
		if _, err := e.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: email, Code: c[1]}); err != nil {
			t.Fatalf("CompleteSignUp with the code that came after the outage = %v", err)
		}
		// The signup mail went on its second attempt (the welcome mail that
		// CompleteSignUp queued may be there too, sent on its first).
		sent := e.deliveries(t, dev, app, adminv1.DeliveryState_DELIVERY_STATE_SENT)
		var retried int
		for _, d := range sent {
			if d.GetTo() == email && d.GetAttempts() == 2 && d.GetSubject() == m.Subject {
				retried++
			}
		}
		if retried != 1 {
			t.Errorf("sent deliveries = %v; want the signup mail (%q) sent on its second attempt", sent, m.Subject)
		}
	})
}
