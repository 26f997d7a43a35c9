// Package vaulttest runs a real HashiCorp Vault server for a test: a dev
// server (in memory) or a server with file storage that can be stopped and
// started again, each on a free loopback port with a generated root token
// and the Transit engine enabled at "transit". The server is stopped in
// Cleanup.
//
// The Vault binary comes from COSYNC_VAULT_BIN (`make test` sets it with
// scripts/ensure-vault.sh), else from the cache that script builds into.
// Without one, a test fails when CI=true and is skipped otherwise.
package vaulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// Version is the Vault release scripts/ensure-vault.sh builds.
const Version = "1.19.5"

// startTimeout bounds a server start (the dev server is up in well under a second).
const startTimeout = 30 * time.Second

// Server is one running Vault server. Its methods fail the test they are
// given on error.
type Server struct {
	Addr  string // http://127.0.0.1:port
	Token string // the root token

	bin        string
	dir        string
	port       int
	persistent bool
	unsealKey  string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *bytes.Buffer
}

// Binary returns the path of the Vault binary, or ends tb: Fatal when the
// environment variable CI is "true", Skip otherwise.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("COSYNC_VAULT_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("vaulttest: COSYNC_VAULT_BIN: %v", err)
		}
		return p
	}
	if p, ok := Available(); ok {
		return p
	}
	msg := "vaulttest: no Vault binary: set COSYNC_VAULT_BIN=$(scripts/ensure-vault.sh), or run `make test`, which does"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// Available returns the Vault binary named by COSYNC_VAULT_BIN, or else the
// one scripts/ensure-vault.sh built into its cache, and whether there is one.
func Available() (string, bool) {
	if p := os.Getenv("COSYNC_VAULT_BIN"); p != "" {
		return p, true
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "cosync-auth", "vault-"+Version, "vault")
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// Start starts a Vault dev server (in-memory storage, already unsealed)
// with Transit at "transit". It can be sealed and unsealed, not restarted.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{bin: Binary(tb), dir: tb.TempDir(), Token: "root-" + randomHex(12)}
	s.port = freePort(tb)
	s.Addr = "http://127.0.0.1:" + strconv.Itoa(s.port)
	s.start(tb, "server", "-dev", "-dev-no-store-token", "-dev-root-token-id="+s.Token,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(s.port))
	tb.Cleanup(func() { s.kill() })
	s.waitHealth(tb, func(code int) bool { return code == http.StatusOK })
	// The dev server prints its unseal key around the time it turns healthy.
	re := regexp.MustCompile(`Unseal Key: (\S+)`)
	for deadline := time.Now().Add(10 * time.Second); s.unsealKey == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(s.output()); m != nil {
			s.unsealKey = m[1]
		} else if time.Now().After(deadline) {
			tb.Fatalf("vaulttest: no unseal key in the dev server's output:\n%s", s.output())
		}
	}
	s.Enable(tb, "transit")
	return s
}

// StartPersistent starts a Vault server with file storage under
// tb.TempDir(), initializes it with one unseal key, unseals it and enables
// Transit at "transit". Stop and Restart take it down and bring it back
// with its keys.
func StartPersistent(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{bin: Binary(tb), dir: tb.TempDir(), persistent: true}
	s.port = freePort(tb)
	s.Addr = "http://127.0.0.1:" + strconv.Itoa(s.port)
	conf := fmt.Sprintf(`storage "file" { path = %q }
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
disable_mlock = true
api_addr      = %q
`, filepath.Join(s.dir, "data"), s.port, s.Addr)
	if err := os.WriteFile(filepath.Join(s.dir, "vault.hcl"), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	s.Restart(tb)
	tb.Cleanup(func() { s.kill() })
	c := s.client(tb, "")
	init, err := c.Sys().InitWithContext(context.Background(), &api.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		tb.Fatalf("vaulttest: init: %v", err)
	}
	s.Token, s.unsealKey = init.RootToken, init.KeysB64[0]
	s.Unseal(tb)
	s.Enable(tb, "transit")
	return s
}

// Stop kills the server process: from now on nothing listens at Addr.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.kill()
}

// Pause stops the server process with SIGSTOP: its port still accepts
// connections (the kernel completes the handshake) but nothing answers, as
// with a hung Vault or a network black hole. Resume continues it; Cleanup
// resumes a paused server before killing it.
func (s *Server) Pause(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGSTOP)
}

// Resume continues a server stopped by Pause.
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGCONT)
}

func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		tb.Fatal("vaulttest: the server is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("vaulttest: %v: %v", sig, err)
	}
}

// Restart starts a stopped persistent server and, once it has been
// initialized, unseals it.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if !s.persistent {
		tb.Fatal("vaulttest: only a persistent server restarts")
	}
	s.start(tb, "server", "-config="+filepath.Join(s.dir, "vault.hcl"))
	// Uninitialized (501) or sealed (503) is up for our purpose.
	s.waitHealth(tb, func(code int) bool { return code == 200 || code == 501 || code == 503 })
	if s.unsealKey != "" {
		s.Unseal(tb)
	}
}

// Seal seals the server: it answers every request with 503 until Unseal.
func (s *Server) Seal(tb testing.TB) {
	tb.Helper()
	if err := s.Client(tb).Sys().SealWithContext(context.Background()); err != nil {
		tb.Fatalf("vaulttest: seal: %v", err)
	}
}

// Unseal unseals the server with its unseal key and waits until it serves.
func (s *Server) Unseal(tb testing.TB) {
	tb.Helper()
	st, err := s.client(tb, "").Sys().UnsealWithContext(context.Background(), s.unsealKey)
	if err != nil || st.Sealed {
		tb.Fatalf("vaulttest: unseal: %v (sealed %v)", err, st != nil && st.Sealed)
	}
	s.waitHealth(tb, func(code int) bool { return code == http.StatusOK })
}

// Enable mounts a secrets engine of type engine at the path of the same name.
func (s *Server) Enable(tb testing.TB, engine string) {
	tb.Helper()
	if err := s.Client(tb).Sys().MountWithContext(context.Background(), engine, &api.MountInput{Type: engine}); err != nil {
		tb.Fatalf("vaulttest: enable %s: %v", engine, err)
	}
}

// Client returns a Vault client with the root token.
func (s *Server) Client(tb testing.TB) *api.Client {
	tb.Helper()
	return s.client(tb, s.Token)
}

// AppRole enables the AppRole auth method (once), writes policy as the
// ACL policy "name" and a role of that name whose tokens carry it and live
// ttl, and returns the role id and a new secret id.
func (s *Server) AppRole(tb testing.TB, name, policy string, ttl time.Duration) (roleID, secretID string) {
	tb.Helper()
	ctx := context.Background()
	c := s.Client(tb)
	auths, err := c.Sys().ListAuthWithContext(ctx)
	if err != nil {
		tb.Fatalf("vaulttest: list auth methods: %v", err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
			tb.Fatalf("vaulttest: enable approle: %v", err)
		}
	}
	if err := c.Sys().PutPolicyWithContext(ctx, name, policy); err != nil {
		tb.Fatalf("vaulttest: policy %s: %v", name, err)
	}
	if _, err := c.Logical().WriteWithContext(ctx, "auth/approle/role/"+name, map[string]any{
		"token_policies": name, "token_ttl": int(ttl.Seconds()), "token_max_ttl": int(ttl.Seconds()),
	}); err != nil {
		tb.Fatalf("vaulttest: approle role %s: %v", name, err)
	}
	r, err := c.Logical().ReadWithContext(ctx, "auth/approle/role/"+name+"/role-id")
	if err != nil || r == nil {
		tb.Fatalf("vaulttest: role id of %s: %v", name, err)
	}
	sid, err := c.Logical().WriteWithContext(ctx, "auth/approle/role/"+name+"/secret-id", nil)
	if err != nil || sid == nil {
		tb.Fatalf("vaulttest: secret id of %s: %v", name, err)
	}
	return r.Data["role_id"].(string), sid.Data["secret_id"].(string)
}

func (s *Server) client(tb testing.TB, token string) *api.Client {
	tb.Helper()
	c, err := api.NewClient(&api.Config{Address: s.Addr, Timeout: 10 * time.Second})
	if err != nil {
		tb.Fatalf("vaulttest: client: %v", err)
	}
	c.ClearToken()
	if token != "" {
		c.SetToken(token)
	}
	return c
}

func (s *Server) start(tb testing.TB, args ...string) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		tb.Fatal("vaulttest: the server is running")
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	// Nothing from the caller's Vault settings, and no token file in $HOME.
	cmd.Env = []string{"HOME=" + s.dir, "PATH=" + os.Getenv("PATH"), "VAULT_LOG_LEVEL=warn"}
	s.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = lockedWriter{&s.mu, s.out}, lockedWriter{&s.mu, s.out}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("vaulttest: starting %s: %v", s.bin, err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait() }()
}

func (s *Server) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused server dies as well
	_ = cmd.Process.Kill()
	// Wait until the port is free, so a restart can bind it.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), 100*time.Millisecond)
		if err != nil {
			return
		}
		conn.Close()
	}
}

func (s *Server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitHealth polls sys/health until ok(status) holds.
func (s *Server) waitHealth(tb testing.TB, ok func(status int) bool) {
	tb.Helper()
	hc := &http.Client{Timeout: time.Second}
	var last error
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, s.Addr+"/v1/sys/health", nil)
		if err != nil {
			tb.Fatalf("vaulttest: %v", err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			last = err
			continue
		}
		resp.Body.Close()
		if ok(resp.StatusCode) {
			return
		}
		last = fmt.Errorf("sys/health: %s", resp.Status)
	}
	tb.Fatalf("vaulttest: the server at %s did not come up: %v\n%s", s.Addr, last, s.output())
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("vaulttest: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("vaulttest: no randomness"))
	}
	return hex.EncodeToString(b)
}
