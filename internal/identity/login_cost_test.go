package identity_test

import (
	"context"
	"fmt"
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
	"github.com/cosync/cosync-auth/internal/ratelimit"
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

// fakeTokens mints unsigned strings that name the app, subject and
// session, and reads them back, so Authenticate works in the flow tests;
// Login's cost is in the hash and the store, not in signing.
type fakeTokens struct{}

func (fakeTokens) Mint(_ context.Context, appID string, c identity.Claims) (string, error) {
	return strings.Join([]string{"access", appID, c.Subject, c.SessionID}, "."), nil
}

func (fakeTokens) Verify(_ context.Context, appID, _, raw string, _ time.Time) (identity.Claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 4 || parts[0] != "access" || parts[1] != appID {
		return identity.Claims{}, identity.ErrTokenInvalid
	}
	return identity.Claims{Subject: parts[2], SessionID: parts[3]}, nil
}

// costEnv is an app with five users over st: ann (a password and the user
// name "ann"), sue (suspended), lou and kim (more password users) and nop
// (no password). The app locks a client out after 3 failed logins, which
// only a Service with a Limiter (limited) enforces.
type costEnv struct {
	svc    *identity.Service
	hasher *countingHasher
	log    *queryLog
	app    string
	st     *store.Store
	now    func() time.Time
}

// limited returns a Service over the same parts that keeps the rate limits
// and lockout (ratelimit.Limiter over the same database), on the clock now
// (nil: the env's fixed one).
func (e *costEnv) limited(now func() time.Time) *identity.Service {
	if now == nil {
		now = e.now
	}
	return identity.New(identity.Deps{Store: e.st, Passwords: e.hasher, Tokens: fakeTokens{}, Now: now,
		Limiter: ratelimit.New(e.st, now)}, identity.Config{})
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
	settings.MaxLoginAttempts = 3
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
		{"kim", "", identity.UserActive, hash},
		{"nop", "", identity.UserActive, ""},
	} {
		user := identity.User{ID: u.id, AppID: a.ID, Email: u.id + "@example.com", UserName: u.userName, Status: u.status,
			TwoFactor: identity.TwoFactorNone, Locale: "en", CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, user, u.hash); err != nil {
			t.Fatal(err)
		}
	}
	// Read the app once, so the store's app cache (where it caches) is as
	// warm for the first call measured as for the rest: the app read is
	// the same for every handle, cached or not.
	if _, err := st.GetApp(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	l := &queryLog{}
	st.ObserveQueries(l.observe)
	svc := identity.New(identity.Deps{Store: st, Passwords: h, Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")), Tokens: fakeTokens{}, Now: clk}, identity.Config{})
	return &costEnv{svc: svc, hasher: h, log: l, app: a.ID, st: st, now: clk}
}

// TestLoginCost replaces a wall-clock comparison with what can be counted
// exactly: every path of Login that checks a password does one argon2
// verification, and the paths that answer INVALID_CREDENTIALS (unknown
// handle, wrong password) run the same statements in the same order, so
// neither wording, hashing nor round trips tell a prober whether the
// handle exists. A handle locked out for one client (ACCOUNT_LOCKED) or
// past the handle's global limit (RATE_LIMITED) answers the same error,
// with the same statements and no verification, whether it exists or not.
// The benchmarks below measure the time.
func TestLoginCost(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newCostEnv(t, st, cheapArgon2)
		svc := e.limited(nil)
		ctx := context.Background()
		const (
			home     = "192.0.2.1"    // the owner's client
			stranger = "198.51.100.7" // has failed 3 times for lou and for ghost
		)
		for range 3 {
			for _, h := range []string{"lou@example.com", "ghost@example.com"} {
				if _, err := svc.Login(ctx, identity.Caller{AppID: e.app, IP: stranger}, h, "guess"); apperr.ReasonOf(err) != apperr.ReasonInvalidCredentials {
					t.Fatalf("a stranger's guess for %s = %v", h, err)
				}
			}
		}
		// 100 failures for kim and for nobody2, from clients that each stay
		// under the lockout, reach the handles' global limit.
		for i := range identity.LimitLoginHandle.Limit {
			ip := fmt.Sprintf("203.0.113.%d", i/3)
			for _, h := range []string{"kim@example.com", "nobody2@example.com"} {
				if _, err := svc.Login(ctx, identity.Caller{AppID: e.app, IP: ip}, h, "guess"); apperr.ReasonOf(err) != apperr.ReasonInvalidCredentials {
					t.Fatalf("guess %d for %s = %v", i, h, err)
				}
			}
		}
		tests := []struct {
			name, ip, handle, password string
			reason                     apperr.Reason // "" for a session
			verifies                   int
			// group names the paths that must cost the same statements and
			// answer the same error: those a prober cannot tell apart.
			group string
		}{
			{"unknown email", home, "nobody@example.com", rightPassword, apperr.ReasonInvalidCredentials, 1, "by email"},
			{"wrong password", home, "ann@example.com", "wrong-password", apperr.ReasonInvalidCredentials, 1, "by email"},
			{"no password", home, "nop@example.com", "wrong-password", apperr.ReasonInvalidCredentials, 1, "by email"},
			{"unknown user name", home, "nobody", rightPassword, apperr.ReasonInvalidCredentials, 1, "by user name"},
			{"wrong password by user name", home, "ann", "wrong-password", apperr.ReasonInvalidCredentials, 1, "by user name"},
			{"suspended", home, "sue@example.com", rightPassword, apperr.ReasonAccountSuspended, 1, ""},
			{"limited", home, "kim@example.com", rightPassword, apperr.ReasonRateLimited, 0, "limited"},
			{"unknown, limited", home, "nobody2@example.com", rightPassword, apperr.ReasonRateLimited, 0, "limited"},
			{"locked for the stranger", stranger, "lou@example.com", rightPassword, apperr.ReasonAccountLocked, 0, "locked"},
			{"unknown, locked for the stranger", stranger, "ghost@example.com", rightPassword, apperr.ReasonAccountLocked, 0, "locked"},
			{"the owner from home", home, "lou@example.com", rightPassword, "", 1, ""},
			{"right password by user name", home, "ann", rightPassword, "", 1, ""},
			{"right password", home, "ann@example.com", rightPassword, "", 1, ""},
		}
		groups := map[string][]string{}
		groupErr := map[string]string{}
		groupFirst := map[string]string{}
		e.hasher.take()
		e.log.take()
		for _, tc := range tests {
			res, err := svc.Login(ctx, identity.Caller{AppID: e.app, IP: tc.ip}, tc.handle, identity.Secret(tc.password))
			if got := apperr.ReasonOf(err); got != tc.reason || (err != nil) != (tc.reason != "") {
				t.Fatalf("%s: Login(%q) = %v (%q), want reason %q", tc.name, tc.handle, err, got, tc.reason)
			}
			if tc.reason == "" && res.Session == nil {
				t.Fatalf("%s: Login(%q) gave no session", tc.name, tc.handle)
			}
			verifies, hashes := e.hasher.take()
			queries := e.log.take()
			if verifies != tc.verifies || hashes != 0 {
				t.Errorf("%s: Login(%q) did %d argon2 verifications and %d hashes, want %d and 0", tc.name, tc.handle, verifies, hashes, tc.verifies)
			}
			if tc.group == "" {
				t.Logf("%s: %q", tc.name, queries)
				// A sign-in's round trips on Postgres: the user, its three
				// counters at once, the session, the counters given back.
				want := []string{"SELECT users", "WITH v", "WITH users", "UPDATE rate_limits"}
				if tc.reason == "" && st.Dialect() == store.Postgres && !slices.Equal(slices.DeleteFunc(queries, func(q string) bool { return q == "SELECT apps" }), want) {
					t.Errorf("%s: Login(%q) ran %q; want %q", tc.name, tc.handle, queries, want)
				}
				continue
			}
			if want, ok := groups[tc.group]; !ok {
				groups[tc.group], groupErr[tc.group], groupFirst[tc.group] = queries, err.Error(), tc.name
			} else {
				if !slices.Equal(queries, want) {
					t.Errorf("%s: Login(%q) ran\n\t%q\nwant what %q ran\n\t%q", tc.name, tc.handle, queries, groupFirst[tc.group], want)
				}
				if err.Error() != groupErr[tc.group] {
					t.Errorf("%s: Login(%q) = %v, want what %q answered: %v", tc.name, tc.handle, err, groupFirst[tc.group], groupErr[tc.group])
				}
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
