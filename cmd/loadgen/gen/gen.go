// Package gen is the load generator behind cmd/loadgen: it signs in as a
// developer, creates an application for the run (signup flow none, rate
// limits raised for it alone through its settings), and drives one
// scenario at a time against a running server with a fixed number of
// workers, each a closed loop. It measures what the client sees (requests
// per second, p50 and p99 latency, errors) and, given the server's pid,
// what the server spent (CPU per request from /proc/<pid>/stat, peak RSS
// from /proc/<pid>/status).
//
// Supabase drives a running Supabase Auth (GoTrue) through the same
// scenarios over its REST API, measured the same way, for side-by-side
// runs.
package gen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"
)

// Scenarios lists every scenario in the order a run takes them.
var Scenarios = []string{"login", "refresh", "jwks", "getuser", "signup"}

// Config is one run. URL is required; DevEmail and DevPassword are
// required by New (a cosync-auth server) and unused by NewSupabase.
type Config struct {
	URL         string // the server, e.g. http://127.0.0.1:8080
	DevEmail    string // a developer of the console app
	DevPassword string
	Workers     int           // concurrent closed loops; default 8
	Duration    time.Duration // per scenario; default 5s
	Scenarios   []string      // default Scenarios
	PID         int           // the server's process, for CPU and RSS; 0: not measured
	// DBCPU, when set, reads the database's CPU so far (PostgresCPU for
	// a local Postgres), so each scenario reports its share per request.
	DBCPU func() (time.Duration, error)
	// ProfileURL, when set, is the server's /debug/pprof/profile
	// (COSYNC_PPROF); each scenario's CPU profile is written to
	// ProfileDir/<scenario>.pprof.
	ProfileURL, ProfileDir string
	// WarmUp, when set, runs each scenario this long unmeasured first,
	// then Analyze (when set): a new database's tables have no
	// statistics until autovacuum's first ANALYZE, a minute or so in,
	// and until then Postgres plans the prepared statements for empty
	// tables, as sequential scans, which a short run would measure
	// instead of the server (pgbench vacuums before it runs for the same
	// reason).
	WarmUp  time.Duration
	Analyze func(context.Context) error
}

// Result is one scenario's measurement.
type Result struct {
	Scenario   string
	Requests   int64 // answered without error
	Errors     int64
	FirstError string
	Elapsed    time.Duration
	P50, P99   time.Duration
	// CPUPerRequest is the server's user+system CPU over the scenario
	// divided by the requests (0 without a PID).
	CPUPerRequest time.Duration
	// DBCPUPerRequest is the database's CPU over the scenario divided by
	// the requests (0 without Config.DBCPU).
	DBCPUPerRequest time.Duration
	// ClientCPUPerRequest is the load generator's own CPU over the
	// scenario divided by Requests: on a shared machine it is taken from
	// the server's cores too.
	ClientCPUPerRequest time.Duration
	PeakRSS             int64 // bytes, the server's VmHWM after the scenario; 0 without a PID
}

// PerSecond is the rate of answered requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Runner holds a run's clients and the app it created.
type Runner struct {
	cfg   Config
	hc    *http.Client
	auth  authv1connect.AuthServiceClient
	admin adminv1connect.AdminServiceClient
	app   string
	dev   string // console access token
}

// password is every generated user's password.
const password = "load-test-password-1"

// New signs in as the developer and creates the run's application.
func New(ctx context.Context, cfg Config) (*Runner, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	hc := newClient(cfg.Workers)
	o := connect.WithInterceptors(headers())
	r := &Runner{
		cfg: cfg, hc: hc,
		auth:  authv1connect.NewAuthServiceClient(hc, cfg.URL, o),
		admin: adminv1connect.NewAdminServiceClient(hc, cfg.URL, o),
	}
	res, err := r.auth.Login(as(ctx, "console", ""), &authv1.LoginRequest{Handle: cfg.DevEmail, Password: cfg.DevPassword})
	if err != nil {
		return nil, fmt.Errorf("developer login: %w", err)
	}
	r.dev = res.GetSession().GetAccessToken()
	// The run's own limits: one client IP makes every request here.
	high := func(name string) *adminv1.RateLimit {
		return &adminv1.RateLimit{Name: name, Limit: 1_000_000, Window: durationpb.New(time.Second)}
	}
	app, err := r.admin.CreateApp(as(ctx, "", r.dev), &adminv1.CreateAppRequest{
		Name: "loadgen " + time.Now().UTC().Format(time.RFC3339),
		Settings: &adminv1.AppSettings{
			SignupEnabled: true,
			SignupFlow:    authv1.SignupFlow_SIGNUP_FLOW_NONE,
			RateLimits:    []*adminv1.RateLimit{high("login:ip"), high("signup:ip"), high("code:ip")},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create the run's app: %w", err)
	}
	r.app = app.GetApp().GetId()
	return r, nil
}

// fill sets the defaults and checks the scenarios' names.
func (c *Config) fill() error {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Duration <= 0 {
		c.Duration = 5 * time.Second
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q (known: %v)", s, Scenarios)
		}
	}
	return nil
}

// newClient is the run's HTTP client: idle connections enough for every
// worker, so a closed loop never waits on a dial.
func newClient(workers int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4 * workers
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// App is the id of the run's application.
func (r *Runner) App() string { return r.app }

// Run runs the configured scenarios in order.
func (r *Runner) Run(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, s := range r.cfg.Scenarios {
		res, err := r.Scenario(ctx, s)
		if err != nil {
			return out, fmt.Errorf("%s: %w", s, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// worker is one closed loop's state and its next request.
type worker struct {
	email   string
	refresh string
	access  string
}

// Scenario prepares a user per worker (signed up before the clock runs),
// then runs name for the configured duration.
func (r *Runner) Scenario(ctx context.Context, name string) (Result, error) {
	ws, err := prepare(ctx, r.cfg.Workers, name, func(ctx context.Context, w *worker) error {
		s, err := r.signUp(ctx, w.email)
		if err != nil {
			return err
		}
		w.refresh, w.access = s.GetRefreshToken(), s.GetAccessToken()
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return r.cfg.measure(ctx, name, ws, r.step(name))
}

// warmUp runs step on each worker for c.WarmUp, unmeasured, then
// c.Analyze. Each worker's last request runs to its end, so a refresh
// chain is never cut; a failed step fails the scenario.
func (c Config) warmUp(ctx context.Context, ws []*worker, step func(context.Context, *worker) error) error {
	if c.WarmUp <= 0 {
		return nil
	}
	end := time.Now().Add(c.WarmUp)
	errs := make(chan error, len(ws))
	for _, w := range ws {
		go func() {
			for time.Now().Before(end) {
				if err := step(ctx, w); err != nil {
					errs <- fmt.Errorf("warming up: %w", err)
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range ws {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil || c.Analyze == nil {
		return first
	}
	return c.Analyze(ctx)
}

// prepare makes n workers for scenario name, each with a fresh email and,
// where the scenario needs a user, signed up by signUp.
func prepare(ctx context.Context, n int, name string, signUp func(context.Context, *worker) error) ([]*worker, error) {
	ws := make([]*worker, n)
	for i := range ws {
		ws[i] = &worker{email: nextEmail()}
		if name != "signup" && name != "jwks" {
			if err := signUp(ctx, ws[i]); err != nil {
				return nil, fmt.Errorf("preparing worker %d: %w", i, err)
			}
		}
	}
	return ws, nil
}

// measure warms up (warmUp), then runs step in a closed loop on each
// worker for c.Duration and measures it: what the client saw, and the
// server's (and database's) CPU and peak RSS when c says how to read them.
func (c Config) measure(ctx context.Context, name string, ws []*worker, step func(context.Context, *worker) error) (Result, error) {
	if err := c.warmUp(ctx, ws, step); err != nil {
		return Result{}, err
	}
	before, _ := readCPU(c.PID)
	dbBefore := c.dbCPU()
	clientBefore, _ := readCPU(os.Getpid())
	profiled := c.profile(ctx, name)
	end := time.Now().Add(c.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	var (
		mu        sync.Mutex
		lat       []time.Duration
		nerr      atomic.Int64
		firstErr  error
		wg        sync.WaitGroup
		started   = time.Now()
		requestOK atomic.Int64
	)
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				t := time.Now()
				err := step(ctx, w)
				d := time.Since(t)
				if err != nil {
					// Cut off by the end of the scenario: not the server's
					// error. The deadline travels with the request
					// (Connect-Timeout-Ms), so the server may answer
					// deadline_exceeded a moment before ctx.Err() says so:
					// the header carries whole milliseconds, so the
					// server's deadline can come up to one before ours.
					if ctx.Err() != nil || !time.Now().Before(end) ||
						(connect.CodeOf(err) == connect.CodeDeadlineExceeded && time.Until(end) < 10*time.Millisecond) {
						break
					}
					if nerr.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				requestOK.Add(1)
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res := Result{Scenario: name, Requests: requestOK.Load(), Errors: nerr.Load(), Elapsed: time.Since(started)}
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	res.P50, res.P99 = quantile(lat, 0.50), quantile(lat, 0.99)
	if after, err := readCPU(c.PID); err == nil && res.Requests > 0 {
		res.CPUPerRequest = (after - before) / time.Duration(res.Requests)
	}
	if after, err := readCPU(os.Getpid()); err == nil && res.Requests > 0 {
		res.ClientCPUPerRequest = (after - clientBefore) / time.Duration(res.Requests)
	}
	if after := c.dbCPU(); after > 0 && dbBefore > 0 && res.Requests > 0 {
		res.DBCPUPerRequest = (after - dbBefore) / time.Duration(res.Requests)
	}
	res.PeakRSS, _ = readPeakRSS(c.PID)
	if err := <-profiled; err != nil {
		return res, fmt.Errorf("CPU profile: %w", err)
	}
	return res, nil
}

// dbCPU is the database's CPU so far, or 0 when it is not measured.
func (c Config) dbCPU() time.Duration {
	if c.DBCPU == nil {
		return 0
	}
	d, err := c.DBCPU()
	if err != nil {
		return 0
	}
	return d
}

// profile asks the server for a CPU profile covering the scenario's
// duration (whole seconds, the most pprof takes) and writes it to
// ProfileDir/<name>.pprof; the channel answers when it is written.
func (c Config) profile(ctx context.Context, name string) <-chan error {
	done := make(chan error, 1)
	if c.ProfileURL == "" {
		done <- nil
		return done
	}
	secs := max(1, int(c.Duration/time.Second))
	go func() {
		done <- func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?seconds=%d", c.ProfileURL, secs), nil)
			if err != nil {
				return err
			}
			// The profile takes secs to record: a client of its own, whose
			// timeout allows for that.
			hc := &http.Client{Timeout: time.Duration(secs)*time.Second + time.Minute}
			res, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", c.ProfileURL, res.Status)
			}
			f, err := os.Create(filepath.Join(c.ProfileDir, name+".pprof"))
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, res.Body); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}()
	}()
	return done
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// step returns one request of scenario name for a worker.
func (r *Runner) step(name string) func(ctx context.Context, w *worker) error {
	switch name {
	case "login":
		return func(ctx context.Context, w *worker) error {
			_, err := r.auth.Login(as(ctx, r.app, ""), &authv1.LoginRequest{Handle: w.email, Password: password})
			return err
		}
	case "refresh":
		// Each worker follows its own chain of single-use refresh tokens.
		return func(ctx context.Context, w *worker) error {
			res, err := r.auth.RefreshSession(as(ctx, r.app, ""), &authv1.RefreshSessionRequest{RefreshToken: w.refresh})
			if err != nil {
				return err
			}
			w.refresh = res.GetSession().GetRefreshToken()
			return nil
		}
	case "jwks":
		url := r.cfg.URL + "/apps/" + r.app + "/.well-known/jwks.json"
		return func(ctx context.Context, _ *worker) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			res, err := r.hc.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode != http.StatusOK {
				err = fmt.Errorf("GET jwks: %s", res.Status)
			}
			return err
		}
	case "getuser":
		return func(ctx context.Context, w *worker) error {
			_, err := r.auth.GetUser(as(ctx, r.app, w.access), &authv1.GetUserRequest{})
			return err
		}
	case "signup":
		return func(ctx context.Context, _ *worker) error {
			_, err := r.signUp(ctx, nextEmail())
			return err
		}
	}
	return func(context.Context, *worker) error { return errors.New("unknown scenario") }
}

func (r *Runner) signUp(ctx context.Context, email string) (*authv1.Session, error) {
	res, err := r.auth.SignUp(as(ctx, r.app, ""), &authv1.SignUpRequest{Handle: email, Password: password})
	if err != nil {
		return nil, err
	}
	if res.GetSession() == nil {
		return nil, errors.New("SignUp answered no session (is the app's flow none?)")
	}
	return res.GetSession(), nil
}

var runID = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

// emailSeq numbers the run's users.
var emailSeq atomic.Int64

// nextEmail is a user's address no other user of this process has.
func nextEmail() string {
	return fmt.Sprintf("load-%s-%d@example.com", runID, emailSeq.Add(1))
}

type callKey int

const (
	appKey callKey = iota
	bearerKey
)

func as(ctx context.Context, app, bearer string) context.Context {
	return context.WithValue(context.WithValue(ctx, appKey, app), bearerKey, bearer)
}

func headers() connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if app, _ := ctx.Value(appKey).(string); app != "" {
				req.Header().Set("Cosync-App-Id", app)
			}
			if tok, _ := ctx.Value(bearerKey).(string); tok != "" {
				req.Header().Set("Authorization", "Bearer "+tok)
			}
			return next(ctx, req)
		}
	}
}
