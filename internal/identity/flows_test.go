package identity_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// testClock is a clock a test moves by hand. It is safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// flowEnv is a Service whose queued mail the real dev outbox keeps, over st,
// on costEnv's app and users, with a clock the test moves.
// Its tokens name their session (fakeTokens), so Authenticate works; it
// seals with a local box and texts through sms, a recording SMSSender.
type flowEnv struct {
	*costEnv
	st     *store.Store
	svc    *identity.Service
	outbox notify.FlushedOutbox // the dev outbox, read after a pass of the send queue
	box    identity.SecretBox
	sms    *fakeSMS
	clock  *testClock
	caller identity.Caller
}

func newFlowEnv(t *testing.T, st *store.Store) *flowEnv {
	t.Helper()
	e := newCostEnv(t, st, cheapArgon2)
	clk := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	ob := notify.NewOutbox(st, nil, clk.Now)
	box, err := secrets.NewLocal(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	texts := &fakeSMS{}
	svc := identity.New(identity.Deps{Store: st, Passwords: e.hasher, Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")),
		Tokens: fakeTokens{}, Secrets: box, SMS: texts, Now: clk.Now}, identity.Config{})
	// Mail and texts leave through the send queue: reading either runs a
	// pass of the worker first, as the dev outbox's readers do.
	worker := notify.NewWorker(st, ob, svc, notify.WorkerConfig{}, nil, clk.Now)
	texts.flush = func() {
		if _, err := worker.Pass(context.Background()); err != nil {
			t.Errorf("a pass of the send queue: %v", err)
		}
	}
	outbox := notify.FlushedOutbox{Worker: worker, Outbox: ob}
	return &flowEnv{costEnv: e, st: st, svc: svc, outbox: outbox, box: box, sms: texts, clock: clk, caller: identity.Caller{AppID: e.app, IP: "192.0.2.1"}}
}

// lastCode returns the six-digit code of the newest mail to to.
func (f *flowEnv) lastCode(t *testing.T, to string) string {
	t.Helper()
	msgs, err := f.outbox.List(context.Background(), f.app, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs { // newest first
		if m.To == to {
			if code := sixDigits.FindString(m.Text); code != "" {
				return code
			}
		}
	}
	t.Fatalf("no mail with a code to %s", to)
	return ""
}

func wantReason(t *testing.T, what string, err error, want apperr.Reason) {
	t.Helper()
	if got := apperr.ReasonOf(err); got != want || (err == nil) != (want == "") {
		t.Errorf("%s = %v (%q), want %q", what, err, got, want)
	}
}

// TestSignUpCode runs the code signup on the domain over both databases.
func TestSignUpCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		signUp := func(handle, pw string) error {
			_, err := f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: handle, Password: identity.Secret(pw)})
			return err
		}
		wantReason(t, "SignUp with a weak password", signUp("new@example.com", "short"), apperr.ReasonPasswordPolicy)
		wantReason(t, "SignUp of a taken email", signUp("ann@example.com", "a-good-password"), "") // answers as for a new one
		wantReason(t, "SignUp", signUp("new@example.com", "a-good-password"), "")
		code := f.lastCode(t, "new@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		steps := []struct {
			name, handle, code string
			want               apperr.Reason
		}{
			{"a wrong code", "new@example.com", wrong, apperr.ReasonInvalidCode},
			{"another handle's code", "ann@example.com", code, apperr.ReasonInvalidCode},
			{"the right code", "new@example.com", code, ""},
			{"the same code again", "new@example.com", code, apperr.ReasonInvalidCode},
		}
		users := []string{"new@example.com", "ann@example.com"}
		for _, s := range steps {
			before := f.snapshot(t, users...)
			sess, err := f.svc.CompleteSignUp(ctx, f.caller, s.handle, identity.Secret(s.code))
			wantReason(t, s.name+": CompleteSignUp("+s.handle+")", err, s.want)
			if after := f.snapshot(t, users...); s.want != "" && after != before {
				t.Errorf("%s: the refused CompleteSignUp changed the state:\n%s\n%s", s.name, before, after)
			}
			if err == nil && sess.User.Email != s.handle {
				t.Errorf("%s: CompleteSignUp signed in %q, want %q", s.name, sess.User.Email, s.handle)
			}
		}
		if m := f.lastMail(t); m.To != "new@example.com" || !strings.Contains(m.Subject, "Welcome") {
			t.Errorf("the newest mail after the signup is %q to %s, want the welcome mail to new@example.com", m.Subject, m.To)
		}
		_, err := f.svc.Login(ctx, f.caller, "new@example.com", "a-good-password")
		wantReason(t, "Login after signup", err, "")
	})
}

// TestRefreshRotation: a refresh token works once; presented again within
// the grace it is refused without harm, after it the session ends.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		res, err := f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)
		if err != nil || res.Session == nil {
			t.Fatalf("Login = %v", err)
		}
		first := res.Session.RefreshToken
		next, err := f.svc.RefreshSession(ctx, f.caller, first)
		wantReason(t, "RefreshSession(first)", err, "")
		f.clock.Advance(time.Hour) // past the grace for a client's retry
		_, err = f.svc.RefreshSession(ctx, f.caller, first)
		wantReason(t, "RefreshSession(first) again", err, apperr.ReasonRefreshTokenReused)
		_, err = f.svc.RefreshSession(ctx, f.caller, next.RefreshToken)
		wantReason(t, "RefreshSession(second) after the reuse", err, apperr.ReasonSessionRevoked)
		_, err = f.svc.RefreshSession(ctx, f.caller, "not-a-token")
		wantReason(t, "RefreshSession(garbage)", err, apperr.ReasonRefreshTokenInvalid)
	})
}

// TestBrokenTemplateFallsBack: an app's own template that fails when sent
// (saved before a sandbox rule it breaks) does not fail the signup: the
// built-in template goes out instead.
func TestBrokenTemplateFallsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		// Straight into the store, as an older server would have saved it:
		// Check refuses this width now, so Render does too.
		broken := identity.EmailTemplate{AppID: f.app, Kind: "signup_code", Locale: "en",
			Subject: "Your code", Text: `{{printf "%0100d" 7}} {{.Code}}`, UpdatedAt: f.clock.Now()}
		if err := st.Console().PutTemplate(ctx, broken); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: "new@example.com", Password: "a-good-password"}); err != nil {
			t.Fatalf("SignUp with a broken saved template = %v, want the built-in one sent", err)
		}
		code := f.lastCode(t, "new@example.com")
		if _, err := f.svc.CompleteSignUp(ctx, f.caller, "new@example.com", identity.Secret(code)); err != nil {
			t.Errorf("CompleteSignUp with the code of the built-in mail = %v", err)
		}
	})
}
