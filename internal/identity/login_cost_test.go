package identity_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/password"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// countingHasher counts the argon2 work a flow does: every Verify,
// VerifyDummy and Hash. It is safe for concurrent use.
type countingHasher struct {
	identity.PasswordHasher
	mu                        sync.Mutex
	verifies, dummies, hashes int
}

func (h *countingHasher) Verify(ctx context.Context, plain, phc string) (bool, bool, error) {
	h.mu.Lock()
	h.verifies++
	h.mu.Unlock()
	return h.PasswordHasher.Verify(ctx, plain, phc)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, plain string) {
	h.mu.Lock()
	h.dummies++
	h.mu.Unlock()
	h.PasswordHasher.VerifyDummy(ctx, plain)
}

func (h *countingHasher) Hash(ctx context.Context, plain string) (string, error) {
	h.mu.Lock()
	h.hashes++
	h.mu.Unlock()
	return h.PasswordHasher.Hash(ctx, plain)
}

// take returns the counts since the last take and resets them.
func (h *countingHasher) take() (verifies, hashes int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, n := h.verifies+h.dummies, h.hashes
	h.verifies, h.dummies, h.hashes = 0, 0, 0
	return v, n
}

// queryLog records the shape of every statement a store runs: its verb and
// table ("SELECT users"), so two lookups of different users read the same.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

var (
	verb  = regexp.MustCompile(`^\s*(\w+)`)
	table = regexp.MustCompile(`(?i)\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?`)
)

func (l *queryLog) observe(q string) {
	shape := strings.ToUpper(verb.FindString(q))
	if m := table.FindStringSubmatch(q); m != nil {
		shape += " " + m[1]
	}
	l.mu.Lock()
	l.queries = append(l.queries, strings.TrimSpace(shape))
	l.mu.Unlock()
}

func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// fakeTokens mints opaque strings; Login's cost is in the hash and the
// store, not in signing.
type fakeTokens struct{}

func (fakeTokens) Mint(context.Context, string, identity.Claims) (string, error) {
	return "access-token", nil
}

func (fakeTokens) Verify(context.Context, string, string, string, time.Time) (identity.Claims, error) {
	return identity.Claims{}, identity.ErrTokenInvalid
}

// costEnv is an app with four users over st: ann (a password and the user
// name "ann"), sue (suspended), lou (locked out) and nop (no password).
type costEnv struct {
	svc    *identity.Service
	hasher *countingHasher
	log    *queryLog
	app    string
}

const rightPassword = "right-password"

// cheapArgon2 keeps the tests fast; the count of verifications, not their
// cost, is what they check.
var cheapArgon2 = password.Params{Memory: 64, Time: 1}

func newCostEnv(t testing.TB, st *store.Store, p password.Params) *costEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	clk := func() time.Time { return now }
	h := &countingHasher{PasswordHasher: password.NewHasher(p, 4)}
	settings := identity.DefaultSettings()
	settings.UserNamesEnabled = true
	settings.MaxLoginAttempts = 0 // the wrong-password cases must not lock ann out
	a := identity.App{ID: "app1", Name: "Notes", Settings: settings, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	hash, err := h.PasswordHasher.Hash(ctx, rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id, userName string
		status       identity.UserStatus
		hash         string
	}{
		{"ann", "ann", identity.UserActive, hash},
		{"sue", "", identity.UserSuspended, hash},
		{"lou", "", identity.UserActive, hash},
		{"nop", "", identity.UserActive, ""},
	} {
		user := identity.User{ID: u.id, AppID: a.ID, Email: u.id + "@example.com", UserName: u.userName, Status: u.status,
			TwoFactor: identity.TwoFactorNone, Locale: "en", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, user, u.hash); err != nil {
			t.Fatal(err)
		}
	}
	// One failure with a limit of one locks lou out past now.
	if _, until, err := st.RecordLoginFailure(ctx, a.ID, "lou", now, 1, identity.Backoff); err != nil || !until.After(now) {
		t.Fatalf("lock lou out: until %v, %v", until, err)
	}
	l := &queryLog{}
	st.ObserveQueries(l.observe)
	svc := identity.New(identity.Deps{Store: st, Passwords: h, Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")), Tokens: fakeTokens{}, Now: clk}, identity.Config{})
	return &costEnv{svc: svc, hasher: h, log: l, app: a.ID}
}

// TestLoginCost replaces a wall-clock comparison with what can be counted
// exactly: every path of Login does one argon2 verification, and the paths
// that answer INVALID_CREDENTIALS (unknown handle, wrong password) run the
// same statements in the same order, so neither wording, hashing nor round
// trips tell a prober whether the handle exists. The benchmarks below
// measure the time.
func TestLoginCost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2)
		tests := []struct {
			name, handle, password string
			reason                 apperr.Reason // "" for a session
			// group names the paths that must cost the same statements:
			// those whose answers a prober cannot tell apart.
			group string
		}{
			{"unknown email", "nobody@example.com", rightPassword, apperr.ReasonInvalidCredentials, "by email"},
			{"wrong password", "ann@example.com", "wrong-password", apperr.ReasonInvalidCredentials, "by email"},
			{"no password", "nop@example.com", "wrong-password", apperr.ReasonInvalidCredentials, "by email"},
			{"unknown user name", "nobody", rightPassword, apperr.ReasonInvalidCredentials, "by user name"},
			{"wrong password by user name", "ann", "wrong-password", apperr.ReasonInvalidCredentials, "by user name"},
			{"suspended", "sue@example.com", rightPassword, apperr.ReasonAccountSuspended, ""},
			{"locked", "lou@example.com", rightPassword, apperr.ReasonAccountLocked, ""},
			{"right password by user name", "ann", rightPassword, "", ""},
			{"right password", "ann@example.com", rightPassword, "", ""},
		}
		groups := map[string][]string{}
		groupFirst := map[string]string{}
		e.hasher.take()
		e.log.take()
		ctx := context.Background()
		for _, tc := range tests {
			res, err := e.svc.Login(ctx, identity.Caller{AppID: e.app, IP: "192.0.2.1"}, tc.handle, identity.Secret(tc.password))
			if got := apperr.ReasonOf(err); got != tc.reason || (err != nil) != (tc.reason != "") {
				t.Fatalf("%s: Login(%q) = %v (%q), want reason %q", tc.name, tc.handle, err, got, tc.reason)
			}
			if tc.reason == "" && res.Session == nil {
				t.Fatalf("%s: Login(%q) gave no session", tc.name, tc.handle)
			}
			verifies, hashes := e.hasher.take()
			queries := e.log.take()
			if verifies != 1 || hashes != 0 {
				t.Errorf("%s: Login(%q) did %d argon2 verifications and %d hashes, want 1 and 0", tc.name, tc.handle, verifies, hashes)
			}
			if tc.group == "" {
				t.Logf("%s: %q", tc.name, queries)
				continue
			}
			if want, ok := groups[tc.group]; !ok {
				groups[tc.group], groupFirst[tc.group] = queries, tc.name
			} else if !slices.Equal(queries, want) {
				t.Errorf("%s: Login(%q) ran\n\t%q\nwant what %q ran\n\t%q", tc.name, tc.handle, queries, groupFirst[tc.group], want)
			}
		}
		if n, m := len(groups["by email"]), len(groups["by user name"]); n == 0 || n != m {
			t.Errorf("Login ran %d statements by email and %d by user name; want the same, and some", n, m)
		}
	})
}

// TestForgotPasswordCost: ForgotPassword hashes no password on any path,
// and every path runs the same statements, the one that mails included.
// The known path writes its code, its queued mail and its audit event in
// one transaction and waits on no SMTP server; the silent paths (unknown
// handle, no password, suspended) render and commit the same rows as
// decoys (a code no code matches, a suppressed delivery that is never
// sent), so what a prober can count — argon2 work, statements, their
// order, the commit — is equal.
func TestForgotPasswordCost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2)
		ctx := context.Background()
		e.hasher.take()
		e.log.take()
		var first []string
		for i, handle := range []string{"ann@example.com", "nobody@example.com", "nop@example.com", "sue@example.com"} {
			if err := e.svc.ForgotPassword(ctx, identity.Caller{AppID: e.app, IP: "192.0.2.1"}, handle); err != nil {
				t.Fatalf("ForgotPassword(%q) = %v", handle, err)
			}
			verifies, hashes := e.hasher.take()
			if verifies != 0 || hashes != 0 {
				t.Errorf("ForgotPassword(%q) did %d verifications and %d hashes, want none", handle, verifies, hashes)
			}
			q := e.log.take()
			if i == 0 {
				first = q
				t.Logf("ForgotPassword(%q) ran %q", handle, q)
			} else if !slices.Equal(q, first) {
				t.Errorf("ForgotPassword(%q) ran\n\t%q\nwant what a known handle ran\n\t%q", handle, q, first)
			}
		}
		if !slices.Contains(first, "INSERT deliveries") {
			t.Errorf("ForgotPassword of a known handle ran %q; want its mail queued (INSERT deliveries)", first)
		}
		// Only the known handle's mail is on its way; the others are decoys.
		for _, to := range []string{"ann@example.com", "nobody@example.com", "nop@example.com", "sue@example.com"} {
			ds, err := st.ListDeliveries(ctx, e.app, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range ds {
				if d.To == to && d.State == identity.DeliveryPending {
					n++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[to == "ann@example.com"]; n != want {
				t.Errorf("queued %d mails to %s, want %d", n, to, want)
			}
		}
	})
}

// TestSignUpCost: a code signup for an address that has an account runs
// the statements a new address runs — both hash the password once, render
// one template, and write a code, a queued mail and an audit event in one
// transaction — so neither the answer nor the work tells a prober which
// addresses have accounts.
func TestSignUpCost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2)
		ctx := context.Background()
		e.hasher.take()
		e.log.take()
		var first []string
		for i, handle := range []string{"new@example.com", "ann@example.com"} {
			res, err := e.svc.SignUp(ctx, identity.Caller{AppID: e.app, IP: "192.0.2.1"}, identity.SignUpInput{Handle: handle, Password: "a-good-password"})
			if err != nil || res.Session != nil {
				t.Fatalf("SignUp(%q) = %+v, %v; want a code flow answer", handle, res, err)
			}
			if verifies, hashes := e.hasher.take(); verifies != 0 || hashes != 1 {
				t.Errorf("SignUp(%q) did %d verifications and %d hashes, want 0 and 1", handle, verifies, hashes)
			}
			q := e.log.take()
			if i == 0 {
				first = q
				t.Logf("SignUp(%q) ran %q", handle, q)
			} else if !slices.Equal(q, first) {
				t.Errorf("SignUp(%q) ran\n\t%q\nwant what a new address ran\n\t%q", handle, q, first)
			}
		}
		if !slices.Contains(first, "INSERT deliveries") {
			t.Errorf("SignUp ran %q; want its mail queued (INSERT deliveries)", first)
		}
	})
}

// BenchmarkLogin measures the two paths a prober compares, a wrong
// password for a known handle and an unknown handle, with production
// argon2 parameters on SQLite. Run by `make bench`, never by `make test`:
// times are for people to read, not for a test to assert.
func BenchmarkLogin(b *testing.B) {
	for _, bc := range []struct{ name, handle string }{
		{"wrong password", "ann@example.com"},
		{"unknown handle", "nobody@example.com"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newCostEnv(b, storetest.SQLite(b), password.DefaultParams())
			ctx := context.Background()
			for b.Loop() {
				_, err := e.svc.Login(ctx, identity.Caller{AppID: e.app}, bc.handle, "wrong-password")
				if apperr.ReasonOf(err) != apperr.ReasonInvalidCredentials {
					b.Fatalf("Login(%q) = %v, want INVALID_CREDENTIALS", bc.handle, err)
				}
			}
		})
	}
}
