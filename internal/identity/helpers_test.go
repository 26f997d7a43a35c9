package identity_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// fakeSMS is a recording identity.SMSSender: the SMS port's stand-in for
// Twilio. With fail set, every Send fails with it. It is safe for
// concurrent use.
type fakeSMS struct {
	mu    sync.Mutex
	sent  []sentSMS
	fail  error
	flush func() // runs the send queue before a read; nil: nothing to run
}

type sentSMS struct {
	Account  identity.SMSAccount
	To, Body string
}

func (f *fakeSMS) Send(_ context.Context, a identity.SMSAccount, to, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.sent = append(f.sent, sentSMS{Account: a, To: to, Body: body})
	return fmt.Sprintf("SM%032d", len(f.sent)), nil
}

func (f *fakeSMS) failWith(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

// to returns the texts sent to phone, oldest first.
func (f *fakeSMS) to(phone string) []sentSMS {
	f.runQueue()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sentSMS
	for _, m := range f.sent {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeSMS) count() int {
	f.runQueue()
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// runQueue delivers what the flows queued, so reads see every text a
// committed call caused.
func (f *fakeSMS) runQueue() {
	if f.flush != nil {
		f.flush()
	}
}

// lastCode returns the six-digit code of the newest text to phone.
func (f *fakeSMS) lastCode(t *testing.T, phone string) string {
	t.Helper()
	msgs := f.to(phone)
	if len(msgs) == 0 {
		t.Fatalf("nothing was texted to %s", phone)
	}
	code := sixDigits.FindString(msgs[len(msgs)-1].Body)
	if code == "" {
		t.Fatalf("no code in the text %q", msgs[len(msgs)-1].Body)
	}
	return code
}

// otherCode returns a six-digit code that is not code.
func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// settings changes the app's settings in the store.
func (f *flowEnv) settings(t *testing.T, change func(*identity.AppSettings)) {
	t.Helper()
	ctx := context.Background()
	a, err := f.st.GetApp(ctx, f.app)
	if err != nil {
		t.Fatal(err)
	}
	change(&a.Settings)
	if err := f.st.UpdateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// addUser stores an active user with email id@example.com, the password
// rightPassword and metadata md.
func (f *flowEnv) addUser(t *testing.T, id string, md map[string]any) {
	t.Helper()
	ctx := context.Background()
	hash, err := f.hasher.PasswordHasher.Hash(ctx, rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if md == nil {
		md = map[string]any{}
	}
	u := identity.User{ID: id, AppID: f.app, Email: id + "@example.com", Status: identity.UserActive, Metadata: md,
		TwoFactor: identity.TwoFactorNone, Locale: "en", CreatedAt: now, UpdatedAt: now}
	if err := f.st.CreateUser(ctx, u, hash); err != nil {
		t.Fatal(err)
	}
}

// login signs handle in with pw and returns the session and its principal.
func (f *flowEnv) login(t *testing.T, handle, pw string) (identity.SessionTokens, identity.Principal) {
	t.Helper()
	res, err := f.svc.Login(context.Background(), f.caller, handle, identity.Secret(pw))
	if err != nil || res.Session == nil {
		t.Fatalf("Login(%s) = %+v, %v; want a session", handle, res, err)
	}
	return *res.Session, f.principal(t, *res.Session)
}

// principal is who the session's access token says is calling.
func (f *flowEnv) principal(t *testing.T, s identity.SessionTokens) identity.Principal {
	t.Helper()
	p, err := f.svc.Authenticate(context.Background(), f.app, s.AccessToken, f.caller.IP)
	if err != nil {
		t.Fatalf("Authenticate(a fresh session) = %v", err)
	}
	return p
}

// authErr is what Authenticate answers for the session's access token.
func (f *flowEnv) authErr(s identity.SessionTokens) error {
	_, err := f.svc.Authenticate(context.Background(), f.app, s.AccessToken, f.caller.IP)
	return err
}

// user reads the user with email id@example.com.
func (f *flowEnv) user(t *testing.T, id string) identity.User {
	t.Helper()
	u, err := f.st.FindUserByEmail(context.Background(), f.app, id+"@example.com")
	if err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

// snapshot is what a refused call must leave as it was: the app's mail
// and texts, its invitations, and for each email its user row, password
// hash, pending codes and recovery codes (or that there is no such user).
// Failed-login counters are left out: a wrong password counts by design
// (TestLockout checks them), and so is the time of the last change.
func (f *flowEnv) snapshot(t *testing.T, emails ...string) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	msgs, err := f.outbox.List(ctx, f.app, 500)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "mail: %d, texts: %d\n", len(msgs), f.sms.count())
	ivs, err := f.st.ListInvitations(ctx, f.app, "", 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, iv := range ivs {
		fmt.Fprintf(&b, "invitation %s %s %s\n", iv.Handle, iv.State(f.clock.Now()), iv.AcceptedBy)
	}
	for _, email := range emails {
		u, err := f.st.FindUserByEmail(ctx, f.app, email)
		if apperr.Is(err, apperr.NotFound) {
			fmt.Fprintf(&b, "%s: none\n", email)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		hash, err := f.st.PasswordHash(ctx, f.app, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		recovery, err := f.st.CountRecoveryCodes(ctx, f.app, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, purpose := range []string{identity.PurposeSignup, identity.PurposeReset, identity.PurposePhone} {
			for _, h := range []string{u.Email, u.ID} {
				if c, err := f.st.FindCode(ctx, f.app, purpose, h); err == nil {
					codes = append(codes, purpose+":"+c.ID)
				}
			}
		}
		slices.Sort(codes)
		u.FailedLogins, u.LockedUntil, u.UpdatedAt = 0, time.Time{}, time.Time{}
		fmt.Fprintf(&b, "%s: %+v hash %s recovery %d codes %v\n", email, u, hash, recovery, codes)
	}
	return b.String()
}

// refusal is a call a table expects to fail with reason, changing nothing
// of what snapshot sees for the emails named.
type refusal struct {
	name string
	call func() error
	want apperr.Reason
}

// refuse runs each refusal as a subtest, in order.
func (f *flowEnv) refuse(t *testing.T, emails []string, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.snapshot(t, emails...)
			err := c.call()
			if err == nil || apperr.ReasonOf(err) != c.want {
				t.Errorf("%s = %v (%q), want %q", c.name, err, apperr.ReasonOf(err), c.want)
			}
			if after := f.snapshot(t, emails...); after != before {
				t.Errorf("%s changed the state:\nbefore\n%s\nafter\n%s", c.name, before, after)
			}
		})
	}
}
