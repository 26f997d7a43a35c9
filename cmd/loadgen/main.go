// Command loadgen drives a running CoSync Auth server through its scenarios
// (password login, refresh chains, JWKS, GetUser with a bearer, signup with
// the none flow) and reports requests/s, p50/p99, errors, the server's CPU
// per request and peak RSS, beside the machine's own bounds (argon2id
// hashes/s at the server's parameters, RSA-2048 signatures/s) measured in
// the same run.
//
// Against a server you run yourself:
//
//	loadgen -url http://127.0.0.1:8080 -pid $(pgrep -n cosync-auth) -dev-email dev@example.com   # password in $LOADGEN_DEV_PASSWORD
//
// Or let it start the binary on a fresh database and stop it afterwards
// (what `make bench` does, once on SQLite and once on Postgres):
//
//	loadgen -bin bin/cosync-auth                                  # SQLite in a temporary directory
//	loadgen -bin bin/cosync-auth -postgres postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//
// With -vault bin/vault it signs through a Vault dev server's Transit. With
// -profile DIR each scenario's server CPU profile lands in DIR, for
// `go tool pprof -top bin/cosync-auth DIR/refresh.pprof`.
//
// With -supabase it drives a running Supabase Auth (GoTrue) the same way,
// for a side-by-side run, its login row read against bcrypt at Supabase's
// cost. GoTrue must confirm signups at once (GOTRUE_MAILER_AUTOCONFIRM) and
// should sign with an asymmetric key (GOTRUE_JWT_KEYS), or its JWKS is empty:
//
//	loadgen -supabase http://127.0.0.1:9999 -pid $(pgrep -n auth) -postgres-cpu
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cosync/cosync-auth/cmd/loadgen/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("url", "", "a running server; with -pid its CPU and RSS are measured")
	supabaseURL := fs.String("supabase", "", "a running Supabase Auth (GoTrue) instead; with -pid its CPU and RSS are measured")
	postgresCPU := fs.Bool("postgres-cpu", false, "with -url or -supabase: the server's Postgres runs on this machine; measure its CPU")
	pid := fs.Int("pid", 0, "the running server's process id (Linux /proc)")
	devEmail := fs.String("dev-email", "", "a developer of the running server (password in $LOADGEN_DEV_PASSWORD)")
	bin := fs.String("bin", "", "start this cosync-auth binary on a fresh database instead of -url")
	pgServer := fs.String("postgres", "", "with -bin: a Postgres server URL to create the fresh database on (empty: SQLite)")
	workers := fs.Int("workers", 8, "concurrent closed loops per scenario")
	duration := fs.Duration("duration", 5*time.Second, "how long each scenario runs")
	scenarios := fs.String("scenarios", strings.Join(gen.Scenarios, ","), "comma-separated scenarios")
	boundTime := fs.Duration("bound-time", 2*time.Second, "how long each machine bound is measured (0: skip)")
	memKiB := fs.Int("argon2-memory-kib", 19456, "the server's COSYNC_ARGON2_MEMORY_KIB (passed to -bin)")
	iters := fs.Int("argon2-iterations", 2, "the server's COSYNC_ARGON2_ITERATIONS")
	par := fs.Int("argon2-parallelism", 1, "the server's COSYNC_ARGON2_PARALLELISM")
	title := fs.String("title", "", "the report's heading (default: the database)")
	profileDir := fs.String("profile", "", "with -bin: write each scenario's server CPU profile (pprof) into this folder")
	seedUsers := fs.Int64("seed-users", 0, "with -bin and -postgres: first add this many users to the run's app (generate_series)")
	seedSessions := fs.Int64("seed-sessions", 0, "with -seed-users: and this many sessions over them, each with a refresh token")
	warmUp := fs.Duration("warm-up", 2*time.Second, "run each scenario this long unmeasured first; with -bin and -postgres, ANALYZE the database after it")
	analyzeURL := fs.String("analyze", "", "with -url or -supabase: the server's Postgres database URL, to ANALYZE after each warm-up")
	vaultBin := fs.String("vault", "", "with -bin: start this vault binary as a dev server and sign through its Transit (COSYNC_SIGNER=vault)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := gen.Config{URL: *serverURL, PID: *pid, DevEmail: *devEmail, DevPassword: os.Getenv("LOADGEN_DEV_PASSWORD"),
		Workers: *workers, Duration: *duration, Scenarios: strings.Split(*scenarios, ","), WarmUp: *warmUp}
	if *postgresCPU {
		cfg.DBCPU = gen.PostgresCPU
	}
	if *analyzeURL != "" {
		cfg.Analyze = func(ctx context.Context) error { return analyze(ctx, *analyzeURL) }
	}
	heading := *title
	if *supabaseURL != "" {
		if *bin != "" || *serverURL != "" {
			return errors.New("-supabase runs alone: not with -bin or -url")
		}
		cfg.URL = *supabaseURL
		printIdleRSS(stdout, cfg.PID)
		s, err := gen.NewSupabase(ctx, cfg)
		if err != nil {
			return err
		}
		if heading == "" {
			algs := strings.Join(s.Algorithms(), ", ")
			if algs == "" {
				algs = "empty (HS256 only)"
			}
			heading = "Supabase Auth, JWKS " + algs
		}
		hash, err := gen.Bcrypt(gen.SupabaseBcryptCost)
		if err != nil {
			return err
		}
		return measure(ctx, stdout, heading, cfg.Workers, hash, *boundTime, s.Run)
	}
	var srv *server
	if *bin != "" {
		var extraEnv []string
		if *vaultBin != "" {
			v, err := startVault(ctx, *vaultBin)
			if err != nil {
				return err
			}
			defer v.stop()
			extraEnv = append(extraEnv, "COSYNC_SIGNER=vault", "VAULT_ADDR="+v.addr, "VAULT_TOKEN="+v.token)
		}
		var err error
		srv, err = startServer(ctx, *bin, *pgServer, gen.Argon2Params{MemoryKiB: *memKiB, Iterations: *iters, Parallelism: *par}, *profileDir != "", extraEnv, stderr)
		if err != nil {
			return err
		}
		defer srv.stop()
		cfg.URL, cfg.PID, cfg.DevEmail, cfg.DevPassword = srv.url, srv.pid, srv.devEmail, srv.devPassword
		if *profileDir != "" {
			if err := os.MkdirAll(*profileDir, 0o755); err != nil {
				return err
			}
			cfg.ProfileURL, cfg.ProfileDir = srv.pprofURL, *profileDir
		}
		if *pgServer != "" && localDatabase(*pgServer) {
			cfg.DBCPU = gen.PostgresCPU
		}
		if srv.dbURL != "" {
			cfg.Analyze = func(ctx context.Context) error { return analyze(ctx, srv.dbURL) }
		}
		if heading == "" {
			heading = srv.db
		}
	}
	printIdleRSS(stdout, cfg.PID)
	if cfg.URL == "" || cfg.DevEmail == "" {
		return errors.New("give -bin, or -url with -dev-email (and $LOADGEN_DEV_PASSWORD)")
	}
	if heading == "" {
		heading = cfg.URL
	}
	r, err := gen.New(ctx, cfg)
	if err != nil {
		return err
	}
	if *seedUsers > 0 {
		if srv == nil || srv.dbURL == "" {
			return errors.New("-seed-users needs -bin and -postgres")
		}
		started := time.Now()
		if err := seed(ctx, srv.dbURL, r.App(), *seedUsers, *seedSessions); err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
		fmt.Fprintf(stdout, "seeded %d users and %d sessions with refresh tokens in %s\n", *seedUsers, *seedSessions, time.Since(started).Round(time.Second))
		heading += fmt.Sprintf(", %d users and %d sessions seeded", *seedUsers, *seedSessions)
	}
	hash := gen.Argon2id(gen.Argon2Params{MemoryKiB: *memKiB, Iterations: *iters, Parallelism: *par})
	return measure(ctx, stdout, heading, cfg.Workers, hash, *boundTime, r.Run)
}

// measure runs the scenarios between two measurements of the machine's
// bounds (none when boundTime is 0) and reports them. The better of each
// bound is kept: on a shared machine the quieter moment is the closer to
// what the hardware does.
func measure(ctx context.Context, stdout io.Writer, heading string, workers int, hash gen.PasswordHash, boundTime time.Duration,
	run func(context.Context) ([]gen.Result, error),
) error {
	var b gen.Bounds
	if boundTime > 0 {
		var err error
		if b, err = gen.MeasureBounds(hash, boundTime); err != nil {
			return err
		}
	}
	results, err := run(ctx)
	if err != nil {
		return err
	}
	if boundTime > 0 {
		after, err := gen.MeasureBounds(hash, boundTime)
		if err != nil {
			return err
		}
		b.HashesPerSecond, b.RSAPerSecond = max(b.HashesPerSecond, after.HashesPerSecond), max(b.RSAPerSecond, after.RSAPerSecond)
	}
	gen.Report(stdout, heading, workers, results, b)
	return nil
}

// printIdleRSS prints the server's resident set before the load, when
// its pid is known.
func printIdleRSS(stdout io.Writer, pid int) {
	if rss, err := gen.ReadRSS(pid); err == nil {
		fmt.Fprintf(stdout, "server RSS idle: %d MiB\n", rss>>20)
	}
}

// server is a cosync-auth process loadgen started.
type server struct {
	url, db               string
	dbURL                 string // Postgres: the fresh database's URL
	pprofURL              string // with profiling: the CPU profile endpoint
	pid                   int
	devEmail, devPassword string
	cmd                   *exec.Cmd
	exited                chan error // cmd.Wait's answer
	dir                   string
	dropDatabase          func()
}

// startServer creates a fresh database (a temporary SQLite file, or a new
// database on pgServer), a developer in it, and starts bin serve on a free
// loopback port, returning once /readyz answers. With profile it serves
// pprof on a second loopback port (COSYNC_METRICS_ADDR, COSYNC_PPROF).
func startServer(ctx context.Context, bin, pgServer string, p gen.Argon2Params, profile bool, extraEnv []string, stderr io.Writer) (*server, error) {
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, db: "SQLite", devEmail: "loadgen@example.com", devPassword: randomHex(12), dropDatabase: func() {}}
	dbURL := "sqlite://" + filepath.Join(dir, "cosync.db")
	if pgServer != "" {
		if dbURL, s.dropDatabase, err = freshPostgres(ctx, pgServer); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.dbURL = dbURL
		s.db = "Postgres"
	}
	port, err := freePort()
	if err != nil {
		s.stop()
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.url = "http://" + addr
	env := append(os.Environ(),
		"COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+s.url, "COSYNC_DATA_DIR="+dir, "COSYNC_DATABASE_URL="+dbURL,
		"COSYNC_LOG_LEVEL=warn", "COSYNC_DEVELOPER_PASSWORD="+s.devPassword,
		"COSYNC_ARGON2_MEMORY_KIB="+strconv.Itoa(p.MemoryKiB), "COSYNC_ARGON2_ITERATIONS="+strconv.Itoa(p.Iterations),
		"COSYNC_ARGON2_PARALLELISM="+strconv.Itoa(p.Parallelism))
	env = append(env, extraEnv...)
	if profile {
		mport, err := freePort()
		if err != nil {
			s.stop()
			return nil, err
		}
		maddr := "127.0.0.1:" + strconv.Itoa(mport)
		env = append(env, "COSYNC_METRICS_ADDR="+maddr, "COSYNC_PPROF=true")
		s.pprofURL = "http://" + maddr + "/debug/pprof/profile"
	}
	create := exec.CommandContext(ctx, bin, "developer", "create", "--email", s.devEmail)
	create.Env, create.Stdout, create.Stderr = env, io.Discard, stderr
	if err := create.Run(); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s developer create: %w", bin, err)
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = env, stderr, stderr
	if err := s.cmd.Start(); err != nil {
		s.stop()
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	exited := make(chan error, 1)
	s.exited = exited
	go func() { exited <- s.cmd.Wait() }()
	probe := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			s.cmd, s.exited = nil, nil
			s.stop()
			return nil, fmt.Errorf("%s serve exited: %v", bin, err)
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		if err != nil {
			s.stop()
			return nil, err
		}
		if res, err := probe.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("the server did not turn ready within a minute")
		}
	}
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		// The exit status of a server told to stop says nothing we need.
		select {
		case err := <-s.exited:
			_ = err
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			err := <-s.exited
			_ = err
		}
	}
	s.dropDatabase()
	os.RemoveAll(s.dir)
}

// freshPostgres creates a database on the server at serverURL and returns
// its URL and a func that drops it.
func freshPostgres(ctx context.Context, serverURL string) (string, func(), error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("-postgres: %w", err)
	}
	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(serverURL)))
	name := "loadgen_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// vault is a Vault dev server loadgen started (in-memory, unsealed, with
// Transit at transit).
type vault struct {
	addr, token string
	cmd         *exec.Cmd
	dir         string
}

// startVault starts bin as a Vault dev server on a free loopback port and
// enables Transit, returning once it answers.
func startVault(ctx context.Context, bin string) (*vault, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "loadgen-vault-")
	if err != nil {
		return nil, err
	}
	v := &vault{addr: "http://127.0.0.1:" + strconv.Itoa(port), token: "root-" + randomHex(12), dir: dir}
	v.cmd = exec.Command(bin, "server", "-dev", "-dev-no-store-token", "-dev-root-token-id="+v.token,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port))
	v.cmd.Dir, v.cmd.Env = dir, []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "VAULT_LOG_LEVEL=warn"}
	if err := v.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, body string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, method, v.addr+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Vault-Token", v.token)
		res, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if code, err := call(http.MethodGet, "/v1/sys/health", ""); err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			v.stop()
			return nil, errors.New("the Vault dev server did not answer within a minute")
		}
	}
	if code, err := call(http.MethodPost, "/v1/sys/mounts/transit", `{"type":"transit"}`); err != nil || code/100 != 2 {
		v.stop()
		return nil, fmt.Errorf("enabling Transit: %d %v", code, err)
	}
	return v, nil
}

func (v *vault) stop() {
	_ = v.cmd.Process.Kill()
	_ = v.cmd.Wait() // killed: its exit status says nothing
	os.RemoveAll(v.dir)
}

// seed adds users to app in the database at dbURL, and sessions spread
// over them, each with one refresh token, in three INSERT … SELECT
// statements over generate_series, then analyzes the tables: the scale a
// benchmark compares the small database with.
func seed(ctx context.Context, dbURL, app string, users, sessions int64) error {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL), pgdriver.WithReadTimeout(time.Hour)))
	defer db.Close()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO users (id, app_id, email, metadata, status, two_factor, created_at, updated_at)
		 SELECT 'seed-u-' || g, $1, 'seed-' || g || '@example.com', '{}'::jsonb, 'active', 'none',
		        now() - (g % 365) * interval '1 day', now()
		 FROM generate_series(1, $2::bigint) g`, []any{app, users}},
		{`INSERT INTO sessions (id, app_id, user_id, created_at, expires_at, ip, method)
		 SELECT 'seed-s-' || g, $1, 'seed-u-' || (1 + g % $2::bigint), now() - interval '1 day', now() + interval '29 days', '192.0.2.1', 'password'
		 FROM generate_series(1, $3::bigint) g`, []any{app, users, sessions}},
		{`INSERT INTO refresh_tokens (id, app_id, session_id, hash, created_at, expires_at)
		 SELECT 'seed-r-' || g, $1, 'seed-s-' || g, md5(g::text) || md5(g::text || 'r'), now() - interval '1 day', now() + interval '29 days'
		 FROM generate_series(1, $2::bigint) g`, []any{app, sessions}},
		{`ANALYZE users, sessions, refresh_tokens`, nil},
	} {
		if _, err := db.ExecContext(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// analyze gathers the statistics of every table of the database at dbURL.
func analyze(ctx context.Context, dbURL string) error {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL)))
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("ANALYZE: %w", err)
	}
	return nil
}

// localDatabase says whether the Postgres at serverURL runs on this
// machine, so its processes' CPU can be read.
func localDatabase(serverURL string) bool {
	u, err := url.Parse(serverURL)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1", "":
		return true
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
