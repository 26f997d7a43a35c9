package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/cmd/loadgen/gen"
	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

// The fault tests run the built binary under a steady load of concurrent
// clients and break something under it: the server itself (SIGTERM), its
// Postgres, its Vault. Each call has a client deadline of a minute, far
// above every bound the server keeps (COSYNC_VAULT_TIMEOUT, the Postgres
// URL's timeout): a call that "fails fast" is one the server ended with an
// answer, never one the client's deadline cut off.

const faultCallDeadline = time.Minute

// faultServer is one `cosync-auth serve` process.
type faultServer struct {
	cmd  *exec.Cmd
	url  string
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done
}

// startFaultServer runs serve with the given COSYNC_* settings (and a
// developer, faultDev, created first) and waits until it is ready.
func startFaultServer(t *testing.T, settings ...string) *faultServer {
	t.Helper()
	bin := buildBinary(t)
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "COSYNC_DATA_DIR=" + t.TempDir(),
		"COSYNC_ADDR=" + addr, "COSYNC_PUBLIC_URL=http://" + addr, "COSYNC_LOG_LEVEL=warn", "COSYNC_LOG_FORMAT=text"}
	env = append(env, settings...)
	create := exec.Command(bin, "developer", "create", "--email", faultDev)
	create.Env = append(env, "COSYNC_DEVELOPER_PASSWORD="+faultDevPassword)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("developer create: %v\n%s", err, out)
	}
	s := &faultServer{url: "http://" + addr, log: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			lines := strings.Split(s.log.String(), "\n")
			t.Logf("server log (its end):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	waitReady(t, s.url, s.log)
	return s
}

const (
	faultDev         = "faults@example.com"
	faultDevPassword = "dev-password-1"
	faultPassword    = "long-enough-pw"
)

// faultApp creates an application whose users sign up without a code, with
// rate limits out of the load's way (the load generator's set-up).
func faultApp(t *testing.T, s *faultServer) string {
	t.Helper()
	r, err := gen.New(context.Background(), gen.Config{URL: s.url, DevEmail: faultDev, DevPassword: faultDevPassword})
	if err != nil {
		t.Fatalf("gen.New = %v", err)
	}
	return r.App()
}

// faultClient is an AuthService client on its own connection pool.
func faultClient(url string) (authv1connect.AuthServiceClient, *http.Client) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	hc := &http.Client{Transport: tr}
	return authv1connect.NewAuthServiceClient(hc, url, connect.WithInterceptors(headers())), hc
}

// outcome is what ended one call.
type outcome struct {
	op     string
	err    error
	code   connect.Code // 0 when err is nil or not an answer
	reason apperr.Reason
	status int // JWKS: the HTTP status
	before int32
	after  int32 // the load's phase when the call started and ended
	// reusedIdle: the call went out on a kept-alive connection that was
	// idle (HTTP/1.1). A server that closes an idle connection can race a
	// client writing its next request on it; the client then reads EOF
	// for a request the server never read. HTTP/1.1 leaves the retry to
	// the client, and Go's retries only idempotent requests, not POSTs.
	reusedIdle bool
}

// load runs closed loops of calls and keeps every outcome.
type load struct {
	phase atomic.Int32
	mu    sync.Mutex
	outs  []outcome
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newLoad() *load { return &load{stop: make(chan struct{})} }

// loop runs call until Stop; call returns the outcome of one call.
func (l *load) loop(call func(ctx context.Context) outcome) {
	l.wg.Go(func() {
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), faultCallDeadline)
			var reusedIdle atomic.Bool
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) {
				reusedIdle.Store(c.Reused && c.WasIdle)
			}})
			before := l.phase.Load()
			o := call(ctx)
			cancel()
			o.before, o.after, o.reusedIdle = before, l.phase.Load(), reusedIdle.Load()
			if o.err != nil {
				o.code, o.reason = reason(o.err)
			}
			l.mu.Lock()
			l.outs = append(l.outs, o)
			l.mu.Unlock()
		}
	})
}

// signInLoops adds two loops for one user: password logins, and a chain
// of refreshes, each with the token the last one returned.
func (l *load) signInLoops(auth authv1connect.AuthServiceClient, app, email, refresh string) {
	l.loop(func(ctx context.Context) outcome {
		_, err := auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: email, Password: faultPassword})
		return outcome{op: "login", err: err}
	})
	l.loop(func(ctx context.Context) outcome {
		res, err := auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
		if err == nil {
			refresh = res.GetSession().GetRefreshToken()
		}
		return outcome{op: "refresh", err: err}
	})
}

// Stop ends the loops and returns every outcome.
func (l *load) Stop() []outcome {
	close(l.stop)
	l.wg.Wait()
	return l.outs
}

// await waits until cond holds of the outcomes so far (the test's own
// deadline bounds it).
func (l *load) await(t *testing.T, what string, cond func([]outcome) bool) {
	t.Helper()
	for {
		l.mu.Lock()
		ok := cond(l.outs)
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("waiting for %s: the test ran out of time", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// count counts the outcomes matching f.
func count(outs []outcome, f func(outcome) bool) int {
	n := 0
	for _, o := range outs {
		if f(o) {
			n++
		}
	}
	return n
}

// jwksCall fetches the app's JWKS with hc.
func jwksCall(hc *http.Client, url, app string) func(ctx context.Context) outcome {
	return func(ctx context.Context) outcome {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/apps/"+app+"/.well-known/jwks.json", nil)
		res, err := hc.Do(req)
		if err != nil {
			return outcome{op: "jwks", err: err}
		}
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		o := outcome{op: "jwks", err: err, status: res.StatusCode}
		if err == nil && res.StatusCode != http.StatusOK {
			o.err = fmt.Errorf("GET jwks: %s", res.Status)
		}
		return o
	}
}

// signUpUsers signs n users up and returns their refresh tokens by email.
func signUpUsers(t *testing.T, auth authv1connect.AuthServiceClient, app, prefix string, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := range n {
		email := fmt.Sprintf("%s%d@example.com", prefix, i)
		res, err := auth.SignUp(as(context.Background(), app, ""), &authv1.SignUpRequest{Handle: email, Password: faultPassword})
		if err != nil {
			t.Fatalf("SignUp(%s) = %v", email, err)
		}
		out[email] = res.GetSession().GetRefreshToken()
	}
	return out
}

// refused reports whether err is a connection the server never accepted:
// refused, or reset or closed before it read anything (still in the
// kernel's backlog when the listener closed: the client's write of the
// request then fails with a broken pipe).
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// TestSIGTERMDrains: SIGTERM in the middle of logins, refreshes and JWKS
// fetches. /readyz turns 503 first; during COSYNC_SHUTDOWN_DELAY requests
// are still served; every request the server accepted is answered, calls in
// flight at the signal included; afterwards new connections are refused;
// the process exits 0 having drained.
func TestSIGTERMDrains(t *testing.T) {
	t.Parallel()
	s := startFaultServer(t, "COSYNC_SHUTDOWN_DELAY=2s", "COSYNC_SHUTDOWN_TIMEOUT=30s")
	app := faultApp(t, s)
	setup, _ := faultClient(s.url)
	users := signUpUsers(t, setup, app, "drain", 4)

	const (
		running = iota
		signalled
	)
	l := newLoad()
	for email, refresh := range users {
		// Keep-alive connections (one pool per worker) and, for the JWKS,
		// a new connection per request.
		auth, _ := faultClient(s.url)
		l.signInLoops(auth, app, email, refresh)
	}
	_, jwksHC := faultClient(s.url)
	jwksHC.Transport.(*http.Transport).DisableKeepAlives = true
	l.loop(jwksCall(jwksHC, s.url, app))
	// And HTTP/2 without TLS (prior knowledge), as gRPC clients speak it:
	// one connection, told to go away with GOAWAY.
	h2 := &http.Transport{Protocols: new(http.Protocols)}
	h2.Protocols.SetUnencryptedHTTP2(true)
	h2auth := authv1connect.NewAuthServiceClient(&http.Client{Transport: h2}, s.url, connect.WithInterceptors(headers()))
	for email := range users {
		l.loop(func(ctx context.Context) outcome {
			_, err := h2auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: email, Password: faultPassword})
			return outcome{op: "login over h2c", err: err}
		})
	}
	l.loop(jwksCall(&http.Client{Transport: h2}, s.url, app))

	l.await(t, "a steady load", func(outs []outcome) bool {
		return count(outs, func(o outcome) bool { return o.err == nil && o.op == "login" }) >= 8 &&
			count(outs, func(o outcome) bool { return o.err == nil && o.op == "refresh" }) >= 8
	})
	l.phase.Store(signalled)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Readiness turns 503 while the listener still accepts.
	for {
		code, err := getStatus(http.DefaultClient, s.url+"/readyz")
		if err != nil {
			t.Fatalf("GET /readyz after SIGTERM = %v; want 503 while the shutdown delay runs", err)
		}
		if code == http.StatusServiceUnavailable {
			break
		}
	}
	<-s.done
	outs := l.Stop()
	if s.err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; want 0", s.err)
	}
	// Exit 0: Shutdown returned before COSYNC_SHUTDOWN_TIMEOUT, every
	// connection it had accepted closed after its answers.
	if strings.Contains(s.log.String(), "level=ERROR") {
		t.Errorf("the server logged errors while draining")
	}

	var inFlight, servedAfter, refusedAfter int
	for _, o := range outs {
		switch {
		case o.err == nil:
			if o.before == running && o.after == signalled {
				inFlight++
			}
			if o.before == signalled {
				servedAfter++
			}
		case o.before == signalled && refused(o.err):
			refusedAfter++ // a new connection after the signal: may be refused
		case o.before == signalled && o.reusedIdle && (errors.Is(o.err, io.ErrUnexpectedEOF) || errors.Is(o.err, io.EOF)):
			refusedAfter++ // sent on an idle connection as the drain closed it: never read
		default:
			t.Errorf("%s (started %s the signal) = %v; an accepted request must succeed", o.op, map[int32]string{running: "before", signalled: "after"}[o.before], o.err)
		}
	}
	t.Logf("%d calls: %d in flight at SIGTERM answered, %d started after it answered, %d refused after it", len(outs), inFlight, servedAfter, refusedAfter)
	if inFlight == 0 {
		t.Errorf("no call in flight at SIGTERM was answered")
	}
	if servedAfter == 0 {
		t.Errorf("no call started during the shutdown delay was answered")
	}
	if refusedAfter == 0 {
		t.Errorf("no call was refused after the shutdown: the load did not outlast the server")
	}
}

// pgCluster is a throwaway Postgres cluster the test starts and stops.
type pgCluster struct {
	bin, dir, port string
}

// startPGCluster initdb's a cluster in a temporary directory and starts it
// on a free port (as scripts/ensure-postgres.sh does, as the postgres user
// when the tests run as root).
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("no Postgres server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
	}
	dir := t.TempDir()
	// Let the postgres user reach the directory through the test's own.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	c := &pgCluster{bin: filepath.Dir(bins[len(bins)-1]), dir: dir, port: port}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
	}
	c.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust")
	c.start(t)
	t.Cleanup(func() {
		_ = c.cmd("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop").Run()
	})
	return c
}

func (c *pgCluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *pgCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w",
		"-o", "-h 127.0.0.1 -p "+c.port+" -k "+c.dir, "start")
}

func (c *pgCluster) stop(t *testing.T, mode string) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", mode, "-w", "stop")
}

// TestPostgresRestartUnderLoad: Postgres stopped (pg_ctl -m fast: sessions
// terminated, then -m immediate: a crash) and started again under logins,
// refreshes, signups and JWKS fetches. While it is down every call that
// fails answers Unavailable (none Internal, none cut off by the client's
// deadline of a minute, far above the URL's 2 s timeout) and /readyz says
// 503; once it is back the same process serves every kind of call again,
// the refresh chains go on with the tokens refused during the outage, and
// everything committed before a stop is there: the users signed up, the
// refresh tokens their signups answered.
func TestPostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	pg := startPGCluster(t)
	s := startFaultServer(t, "COSYNC_DATABASE_URL=postgres://postgres@127.0.0.1:"+pg.port+"/postgres?sslmode=disable&timeout=2s")
	app := faultApp(t, s)
	setup, _ := faultClient(s.url)
	users := signUpUsers(t, setup, app, "pg", 3)

	// Phase 0 is before any outage; outage i (from 1) is phase 2i-1 from
	// the stop command on, phase 2i once Postgres accepts connections again.
	l := newLoad()
	var signedUp sync.Map // email → refresh token of every signup answered
	var seq atomic.Int64
	for email, refresh := range users {
		auth, hc := faultClient(s.url)
		l.signInLoops(auth, app, email, refresh)
		l.loop(func(ctx context.Context) outcome {
			email := fmt.Sprintf("load%d@example.com", seq.Add(1))
			res, err := auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: email, Password: faultPassword})
			if err == nil {
				signedUp.Store(email, res.GetSession().GetRefreshToken())
			}
			return outcome{op: "signup", err: err}
		})
		l.loop(jwksCall(hc, s.url, app))
	}
	ops := []string{"login", "refresh", "signup", "jwks"}
	// each reports whether every kind of call ended n times as wanted,
	// having started and ended in phase.
	each := func(phase int32, failed bool, n int) func([]outcome) bool {
		return func(outs []outcome) bool {
			for _, op := range ops {
				if count(outs, func(o outcome) bool {
					return o.op == op && (o.err != nil) == failed && o.before == phase && o.after == phase
				}) < n {
					return false
				}
			}
			return true
		}
	}
	l.await(t, "a steady load", each(0, false, 3))

	committed := map[string]string{} // email → refresh token of the signups answered before a stop began
	outages := []struct {
		name       string
		start, end func(*testing.T)
	}{
		{"stopped -m fast", func(t *testing.T) { pg.stop(t, "fast") }, pg.start},
		{"stopped -m immediate", func(t *testing.T) { pg.stop(t, "immediate") }, pg.start},
	}
	for i, o := range outages {
		down, back := int32(2*i+1), int32(2*i+2)
		l.phase.Store(down)
		signedUp.Range(func(k, v any) bool { committed[k.(string)] = v.(string); return true })
		o.start(t)
		l.await(t, "every kind of call refused while Postgres is "+o.name, each(down, true, 5))
		if code, err := getStatus(http.DefaultClient, s.url+"/readyz"); err != nil || code != http.StatusServiceUnavailable {
			t.Errorf("GET /readyz with Postgres %s = %d, %v; want 503", o.name, code, err)
		}
		o.end(t)
		l.phase.Store(back)
		l.await(t, "every kind of call answered after Postgres was "+o.name, each(back, false, 5))
	}
	outs := l.Stop()

	refusedWhileDown := map[string]int{}
	for _, o := range outs {
		switch {
		case o.err == nil:
		case o.before == 0 && o.after == 0:
			t.Errorf("%s before any outage = %v", o.op, o.err)
		case o.code != connect.CodeUnavailable && o.status != http.StatusServiceUnavailable:
			// Internal, or the client's deadline: neither is failing fast.
			t.Errorf("%s across an outage = %v (code %v, HTTP %d); want Unavailable", o.op, o.err, o.code, o.status)
		case o.before%2 == 1 && o.after == o.before:
			refusedWhileDown[o.op]++
		}
	}
	t.Logf("%d calls; answered Unavailable while Postgres was down: %v", len(outs), refusedWhileDown)
	if code, err := getStatus(http.DefaultClient, s.url+"/readyz"); err != nil || code != http.StatusOK {
		t.Errorf("GET /readyz after Postgres is back = %d, %v; want 200", code, err)
	}

	// Nothing committed before a stop is lost: the refresh token of every
	// signup answered before it works, and the users sign in.
	check, _ := faultClient(s.url)
	ctx := as(context.Background(), app, "")
	signIn := []string{"pg0@example.com", "pg1@example.com", "pg2@example.com"}
	for email, refresh := range committed {
		if _, err := check.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: refresh}); err != nil {
			t.Errorf("RefreshSession for %s (signed up before a stop) = %v", email, err)
		}
		if len(signIn) < 6 {
			signIn = append(signIn, email)
		}
	}
	for _, email := range signIn {
		if _, err := check.Login(ctx, &authv1.LoginRequest{Handle: email, Password: faultPassword}); err != nil {
			t.Errorf("Login(%s) after the restarts = %v", email, err)
		}
	}
	t.Logf("%d signups answered before a stop: each refresh token works", len(committed))
	select {
	case <-s.done:
		t.Errorf("serve exited during the outages: %v", s.err)
	default:
	}
}

// TestVaultRestartUnderLoad: Vault stopped and restarted, then hung
// (SIGSTOP: the port accepts, nothing answers) and resumed, under
// concurrent logins and refreshes. While it is away every call that fails
// answers Unavailable SIGNER_UNAVAILABLE (never the client's deadline of a
// minute, far above COSYNC_VAULT_TIMEOUT); once it is back, calls succeed
// again without a restart of serve, and the refresh chains go on with the
// tokens refused meanwhile.
func TestVaultRestartUnderLoad(t *testing.T) {
	t.Parallel()
	vault := vaulttest.StartPersistent(t)
	s := startFaultServer(t, "COSYNC_SIGNER=vault", "VAULT_ADDR="+vault.Addr, "VAULT_TOKEN="+vault.Token,
		"COSYNC_VAULT_TRANSIT_MOUNT=transit", "COSYNC_VAULT_TIMEOUT=2s")
	app := faultApp(t, s)
	setup, _ := faultClient(s.url)
	users := signUpUsers(t, setup, app, "vault", 4)

	l := newLoad()
	for email, refresh := range users {
		auth, _ := faultClient(s.url)
		l.signInLoops(auth, app, email, refresh)
	}
	// each: both kinds of call ended n times as wanted within phase.
	each := func(phase int32, failed bool, n int) func([]outcome) bool {
		return func(outs []outcome) bool {
			for _, op := range []string{"login", "refresh"} {
				if count(outs, func(o outcome) bool {
					return o.op == op && (o.err != nil) == failed && o.before == phase && o.after == phase
				}) < n {
					return false
				}
			}
			return true
		}
	}
	l.await(t, "calls with Vault up", each(0, false, 4))
	// Phase 2i-1: outage i under way; 2i: Vault back.
	outages := []struct {
		name       string
		start, end func(testing.TB)
	}{
		{"stopped", vault.Stop, vault.Restart},
		{"hung", vault.Pause, vault.Resume},
	}
	for i, o := range outages {
		away, back := int32(2*i+1), int32(2*i+2)
		l.phase.Store(away)
		o.start(t)
		l.await(t, "calls refused with Vault "+o.name, each(away, true, 4))
		o.end(t)
		l.phase.Store(back)
		l.await(t, "calls answered after Vault "+o.name, each(back, false, 4))
	}
	outs := l.Stop()

	refused := map[string]int{}
	for _, o := range outs {
		switch {
		case o.err == nil:
		case o.before == 0 && o.after == 0:
			t.Errorf("%s with Vault up = %v", o.op, o.err)
		case o.code != connect.CodeUnavailable || o.reason != apperr.ReasonSignerUnavailable:
			t.Errorf("%s across an outage = %v (%v %q); want Unavailable SIGNER_UNAVAILABLE", o.op, o.err, o.code, o.reason)
		default:
			refused[fmt.Sprintf("%s while %s", o.op, outages[(o.after+1)/2-1].name)]++
		}
	}
	t.Logf("%d calls; refused with SIGNER_UNAVAILABLE: %v", len(outs), refused)
	select {
	case <-s.done:
		t.Errorf("serve exited during the outages: %v", s.err)
	default:
	}
}

// pause stops (SIGSTOP) or resumes (SIGCONT) every process of the cluster:
// its postmaster and each backend. Stopped, the port still accepts (the
// kernel's backlog) and nothing answers: a hung host.
func (c *pgCluster) pause(t *testing.T, sig syscall.Signal) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	pids := []int{pm}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's ')': state, then the parent's pid.
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 1 && f[1] == strconv.Itoa(pm) {
			pids = append(pids, pid)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("kill(%d, %v): %v", pid, sig, err)
		}
	}
}

// TestPostgresHangs: Postgres stopped dead (SIGSTOP: connections accepted,
// nothing answered) while logins and refreshes come in. The driver's own
// read timeout is set to an hour, so only the hot paths' query_timeout
// (1 s here) can end those calls: each answers Unavailable while Postgres
// is still stopped, instead of waiting for it. Resumed, the same process
// serves them again on fresh connections.
func TestPostgresHangs(t *testing.T) {
	t.Parallel()
	pg := startPGCluster(t)
	s := startFaultServer(t, "COSYNC_DATABASE_URL=postgres://postgres@127.0.0.1:"+pg.port+
		"/postgres?sslmode=disable&query_timeout=1s&read_timeout=1h&write_timeout=1h")
	app := faultApp(t, s)
	auth, _ := faultClient(s.url)
	users := signUpUsers(t, auth, app, "hang", 3)

	pg.pause(t, syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			pg.pause(t, syscall.SIGCONT)
		}
	}()
	type answer struct {
		op  string
		err error
	}
	answers := make(chan answer, 2*len(users))
	for email, refresh := range users {
		go func() {
			_, err := auth.RefreshSession(as(context.Background(), app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
			answers <- answer{"refresh", err}
		}()
		go func() {
			_, err := auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: email, Password: faultPassword})
			answers <- answer{"login", err}
		}()
	}
	// A bound the query timeout meets many times over even on a loaded
	// machine, far under the driver's hour: not a speed check.
	giveUp := time.After(time.Minute)
	for range 2 * len(users) {
		select {
		case a := <-answers:
			if code := connect.CodeOf(a.err); code != connect.CodeUnavailable {
				t.Errorf("%s while Postgres hangs = %v (%v), want Unavailable", a.op, a.err, code)
			}
		case <-giveUp:
			t.Fatalf("calls still waiting a minute into the hang: nothing bounds them")
		}
	}
	pg.pause(t, syscall.SIGCONT)
	resumed = true

	// The tokens refused during the hang still work (nothing was spent),
	// and logins go through: the process recovers by itself.
	for email, refresh := range users {
		eventually(t, "a refresh after the hang", func() bool {
			_, err := auth.RefreshSession(as(context.Background(), app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
			return err == nil
		})
		if _, err := auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: email, Password: faultPassword}); err != nil {
			t.Errorf("Login(%s) after the hang = %v", email, err)
		}
	}
}
