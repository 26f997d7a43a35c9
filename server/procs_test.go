package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// replicaHeader is the response header the in-test proxy adds: the index
// of the replica that answered.
const replicaHeader = "Test-Replica"

// built is the cosync-auth binary of this test run: every test that runs
// the real binary shares one build (TestMain removes it at the end).
var built struct {
	once     sync.Once
	dir, bin string
	out      []byte
	err      error
}

// buildBinary returns the cosync-auth binary built from this package,
// building it on the first call of the run.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "cosync-auth-test-bin-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "cosync-auth")
		built.out, built.err = exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		tb.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// docsServer starts `cosync-auth serve` for a docs test the way a reader
// does, in a fresh directory with the binary at ./bin/cosync-auth, on
// SQLite or (db "postgres") an empty Postgres database. It returns that
// directory, the server's URL, the environment the docs' commands run
// with, and the server's log.
func docsServer(t *testing.T, db string) (dir, base string, env []string, log *bytes.Buffer) {
	t.Helper()
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(buildBinary(t), filepath.Join(dir, "bin", "cosync-auth")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	base = "http://" + addr
	env = append(os.Environ(), "COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_LOG_LEVEL=warn")
	if db == "postgres" {
		env = append(env, "COSYNC_DATABASE_URL="+storetest.EmptyPostgres(t))
	}
	log = &bytes.Buffer{}
	srv := exec.Command(filepath.Join(dir, "bin", "cosync-auth"), "serve")
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, log, log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	waitReady(t, base, log)
	return dir, base, env, log
}

// roundRobin is a reverse proxy that hands request k to replica k mod n,
// whatever the request, and says in replicaHeader which one answered.
//
// It appends the client's address to X-Forwarded-For, keeping what the
// client sent before it, as a cloud load balancer does; the replicas run
// with COSYNC_TRUST_PROXY=true and so take the last entry, the one this
// proxy wrote. Without that setting every client would share the proxy's
// address in the per-IP limits; with it, whatever a client writes into
// X-Forwarded-For itself stays in the earlier entries and is ignored.
type roundRobin struct {
	backends []*httputil.ReverseProxy
	next     atomic.Uint64
}

func newRoundRobin(urls []string) *roundRobin {
	rr := &roundRobin{}
	for i, u := range urls {
		target, err := url.Parse(u)
		if err != nil {
			panic(err)
		}
		rr.backends = append(rr.backends, &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				// Rewrite drops the incoming X-Forwarded-For; put it back so
				// SetXForwarded appends to it.
				if xff := r.In.Header.Values("X-Forwarded-For"); len(xff) > 0 {
					r.Out.Header["X-Forwarded-For"] = xff
				}
				r.SetXForwarded()
				r.Out.Host = r.In.Host
			},
			ModifyResponse: func(res *http.Response) error {
				res.Header.Set(replicaHeader, strconv.Itoa(i))
				return nil
			},
		})
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := (rr.next.Add(1) - 1) % uint64(len(rr.backends))
	rr.backends[i].ServeHTTP(w, r)
}

// cluster is n `serve` processes of the real binary on one database behind
// a roundRobin proxy, with Connect clients that talk to the proxy.
type cluster struct {
	url   string   // the proxy, also every replica's COSYNC_PUBLIC_URL
	dbURL string   // the database the replicas share
	bin   string   // the binary
	env   []string // the replicas' environment
	http  *http.Client
	auth  authv1connect.AuthServiceClient
	admin adminv1connect.AdminServiceClient
}

// startCluster starts n replicas of bin on the Postgres database dbURL,
// with one master key, the smallest argon2id parameters the server accepts
// and extra settings ("NAME=value"), all at once (they migrate the empty
// database together), and a proxy in front of them. Everything stops when
// tb ends.
func startCluster(tb testing.TB, bin, dbURL string, n int, extra ...string) *cluster {
	tb.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	proxy := httptest.NewUnstartedServer(nil)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	proxy.Config.Protocols = &protocols
	c := &cluster{url: "http://" + proxy.Listener.Addr().String(), dbURL: dbURL, bin: bin}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COSYNC_") {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "COSYNC_DATABASE_URL="+dbURL, "COSYNC_PUBLIC_URL="+c.url,
		"COSYNC_MASTER_KEY="+base64.StdEncoding.EncodeToString(key), "COSYNC_TRUST_PROXY=true",
		"COSYNC_LOG_LEVEL=info", "COSYNC_LOG_FORMAT=text", "COSYNC_SHUTDOWN_TIMEOUT=5s",
		"COSYNC_ARGON2_MEMORY_KIB=19456", "COSYNC_ARGON2_ITERATIONS=2")
	c.env = append(c.env, extra...)

	waits := make([]func() string, n)
	for i := range n {
		waits[i] = c.startReplica(tb, i)
	}
	urls := make([]string, n)
	for i, wait := range waits {
		urls[i] = wait()
	}
	proxy.Config.Handler = newRoundRobin(urls)
	proxy.Start()
	tb.Cleanup(proxy.Close)

	// The Connect clients speak h2c, as a gRPC client would, and the plain
	// GETs (JWKS) HTTP/1.1; the proxy takes both and speaks HTTP/1.1 to the
	// replicas.
	c.http = &http.Client{Timeout: 30 * time.Second}
	h2c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: h2cOnly()}}
	tb.Cleanup(h2c.CloseIdleConnections)
	o := connect.WithInterceptors(headers(), replicaRecorder())
	c.auth = authv1connect.NewAuthServiceClient(h2c, c.url, o)
	c.admin = adminv1connect.NewAdminServiceClient(h2c, c.url, o)
	return c
}

// listeningRE finds the address serve logs once it listens.
var listeningRE = regexp.MustCompile(`msg="cosync-auth listening" addr=(\S+)`)

// startReplica starts `serve` with COSYNC_ADDR port 0, so two tests can
// never pick the same port. The function it returns waits until the
// replica answers /readyz and returns its URL (from the log line). The
// process gets SIGINT when tb ends.
func (c *cluster) startReplica(tb testing.TB, i int) func() string {
	tb.Helper()
	log := &lockedBuffer{}
	cmd := exec.Command(c.bin, "serve")
	cmd.Dir = tb.TempDir()
	cmd.Env = append(append([]string(nil), c.env...), "COSYNC_ADDR=127.0.0.1:0", "COSYNC_DATA_DIR="+cmd.Dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if tb.Failed() {
			tb.Logf("replica %d log:\n%s", i, log.String())
		}
	})
	return func() string {
		tb.Helper()
		var addr string
		eventually(tb, fmt.Sprintf("replica %d listening", i), func() bool {
			select {
			case <-exited:
				tb.Fatalf("replica %d exited: %v\n%s", i, cmd.ProcessState, log.String())
			default:
			}
			if m := listeningRE.FindStringSubmatch(log.String()); m != nil {
				addr = m[1]
			}
			return addr != ""
		})
		waitReady(tb, "http://"+addr, log)
		return "http://" + addr
	}
}

// cli runs the binary with the cluster's settings (e.g. developer create).
func (c *cluster) cli(tb testing.TB, env []string, args ...string) {
	tb.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = tb.TempDir()
	cmd.Env = append(append(append([]string(nil), c.env...), "COSYNC_DATA_DIR="+cmd.Dir), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("cosync-auth %v: %v\n%s", args, err, out)
	}
}

// developer creates a developer with the CLI and signs them in to the
// console through the proxy; it returns their access token.
func (c *cluster) developer(tb testing.TB, email string) string {
	tb.Helper()
	c.cli(tb, []string{"COSYNC_DEVELOPER_PASSWORD=dev-password-1"}, "developer", "create", "--email", email)
	res, err := c.auth.Login(as(context.Background(), identity.ConsoleAppID, ""), &authv1.LoginRequest{Handle: email, Password: "dev-password-1"})
	if err != nil {
		tb.Fatalf("developer Login(%q) = %v", email, err)
	}
	return res.GetSession().GetAccessToken()
}

// get fetches url through c's client and returns the status, the body and
// the replica that answered.
func (c *cluster) get(tb testing.TB, url string) (int, []byte, int) {
	tb.Helper()
	res, err := c.http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, b, replicaOf(tb, res.Header)
}

func replicaOf(tb testing.TB, h http.Header) int {
	tb.Helper()
	i, err := strconv.Atoi(h.Get(replicaHeader))
	if err != nil {
		tb.Fatalf("response without %s: %v", replicaHeader, h)
	}
	return i
}

type (
	replicaKey      struct{}
	forwardedForKey struct{}
)

// claimingToBe returns ctx whose Connect call sends X-Forwarded-For: ip, as
// a client hoping to pass for another address would.
func claimingToBe(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, forwardedForKey{}, ip)
}

// onReplica returns ctx whose Connect call stores in *at the index of the
// replica that answered it (-1 if the answer came from no replica).
func onReplica(ctx context.Context, at *int) context.Context {
	return context.WithValue(ctx, replicaKey{}, at)
}

// replicaRecorder sends the X-Forwarded-For of claimingToBe and reads
// replicaHeader off each answer, success or error, into the pointer
// onReplica put in the call's context.
func replicaRecorder() connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if ip, _ := ctx.Value(forwardedForKey{}).(string); ip != "" {
				req.Header().Set("X-Forwarded-For", ip)
			}
			res, err := next(ctx, req)
			at, _ := ctx.Value(replicaKey{}).(*int)
			if at == nil {
				return res, err
			}
			var h http.Header
			var ce *connect.Error
			switch {
			case err == nil:
				h = res.Header()
			case errors.As(err, &ce):
				h = ce.Meta()
			}
			*at = -1
			if i, perr := strconv.Atoi(h.Get(replicaHeader)); perr == nil {
				*at = i
			}
			return res, err
		}
	}
}

// replicaSet counts which replicas answered, safe for concurrent use.
type replicaSet struct {
	mu   sync.Mutex
	seen map[int]int
}

func (s *replicaSet) add(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[int]int{}
	}
	s.seen[i]++
}

// all reports whether each of replicas 0..n-1 answered at least once.
func (s *replicaSet) all(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		if s.seen[i] == 0 {
			return false
		}
	}
	return true
}

func (s *replicaSet) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.seen)
}

// eventually polls cond until it holds, giving up after a minute: a bound a
// loaded machine does not reach, not a speed check.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within a minute", what)
		}
	}
}
