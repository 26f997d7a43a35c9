package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// These tests drive run as the binary would be driven. They set process
// environment variables, so none of them is parallel.

// lockedBuffer is an io.Writer the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cliEnv clears every setting the CLI reads from the environment, then
// points the data directory at a fresh temporary one, which it returns.
// Extra sets more variables, as "NAME=value".
func cliEnv(tb testing.TB, extra ...string) string {
	tb.Helper()
	names := []string{"COSYNC_DEVELOPER_PASSWORD"}
	for _, s := range config.Settings() {
		names = append(names, s.Env)
	}
	for _, name := range names {
		if _, ok := os.LookupEnv(name); ok {
			tb.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
	dir := tb.TempDir()
	tb.Setenv("COSYNC_DATA_DIR", dir)
	for _, kv := range extra {
		name, value, _ := strings.Cut(kv, "=")
		tb.Setenv(name, value)
	}
	return dir
}

// runCLI runs the command line args with an empty stdin and returns its
// output and error.
func runCLI(tb testing.TB, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	return runCLIIn(tb, "", args...)
}

// runCLIIn runs the command line args with stdin piped from in.
func runCLIIn(tb testing.TB, in string, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	var out, errOut lockedBuffer
	err = run(args, strings.NewReader(in), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCLIVersion(t *testing.T) {
	cliEnv(t)
	out, _, err := runCLI(t, "version")
	if err != nil {
		t.Fatalf("run(version) = %v, want nil", err)
	}
	if out != "cosync-auth dev\n" {
		t.Errorf("run(version) printed %q, want %q", out, "cosync-auth dev\n")
	}
}

func TestCLIUsageErrors(t *testing.T) {
	dir := cliEnv(t)
	tests := []struct {
		name string
		args []string
	}{
		{"unknown command", []string{"frobnicate"}},
		{"developer without subcommand", []string{"developer"}},
		{"developer unknown subcommand", []string{"developer", "delete"}},
		{"developer create without email", []string{"developer", "create", "--password", "long enough pw"}},
		{"developer create without password", []string{"developer", "create", "--email", "a@example.com"}},
		{"developer create without anything", []string{"developer", "create"}},
		{"unknown flag", []string{"migrate", "--no-such-flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCLI(t, tc.args...)
			if err == nil {
				t.Errorf("run(%q) = nil, want an error", tc.args)
			}
			if out != "" {
				t.Errorf("run(%q) printed %q, want nothing", tc.args, out)
			}
		})
	}
	// None of them got as far as the database.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors left %d files in the data dir, want none", len(entries))
	}
}

func TestCLIMigrate(t *testing.T) {
	dir := cliEnv(t)
	for i := range 2 { // the second run finds everything in place
		out, stderr, err := runCLI(t, "migrate")
		if err != nil {
			t.Fatalf("run(migrate) #%d = %v, want nil; log:\n%s", i+1, err, stderr)
		}
		if !strings.Contains(out, "migrations applied") {
			t.Errorf("run(migrate) #%d printed %q, want %q", i+1, out, "migrations applied")
		}
	}
	for _, name := range []string{"cosync.db", "master.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("after migrate, %s: %v", name, err)
			continue
		}
		if runtime.GOOS == "windows" {
			continue
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("after migrate, %s has mode %04o, want 0600", name, perm)
		}
	}
	if runtime.GOOS == "windows" {
		return
	}
	// Nothing in the data dir is open to group or others.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("after migrate, %s has mode %04o, want no group or other access", e.Name(), perm)
		}
	}
}

// TestCLIDeveloperCreate: the password comes from stdin when piped or from
// $COSYNC_DEVELOPER_PASSWORD, never from argv.
func TestCLIDeveloperCreate(t *testing.T) {
	cliEnv(t)
	args := []string{"developer", "create", "--email", "A@Example.com"}

	out, stderr, err := runCLIIn(t, "long enough pw\n", args...)
	if err != nil {
		t.Fatalf("run(%q) = %v, want nil; log:\n%s", args, err, stderr)
	}
	if !strings.Contains(out, "a@example.com") {
		t.Errorf("run(%q) printed %q, want the normalized email", args, out)
	}

	out, _, err = runCLIIn(t, "long enough pw\n", args...)
	if !apperr.Is(err, apperr.Exists) {
		t.Errorf("run(%q) again = %v, want an exists error", args, err)
	}
	if out != "" {
		t.Errorf("run(%q) again printed %q, want nothing", args, out)
	}

	short := []string{"developer", "create", "--email", "b@example.com"}
	if _, _, err := runCLIIn(t, "short\n", short...); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("run(%q) with a short password = %v, want an invalid-password error", short, err)
	}
	// Nothing piped: no password, and nothing was created.
	if _, _, err := runCLI(t, short...); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("run(%q) with an empty stdin = %v, want a no-password error", short, err)
	}

	// The password on the command line is refused before anything runs,
	// whatever its spelling.
	for _, flag := range [][]string{{"--password", "long enough pw"}, {"-password=long enough pw"}, {"--password=x"}} {
		argv := append([]string{"developer", "create", "--email", "c@example.com"}, flag...)
		if _, _, err := runCLIIn(t, "long enough pw\n", argv...); err == nil || !strings.Contains(err.Error(), "--password is not accepted") {
			t.Errorf("run(%q) = %v, want the --password refusal", argv, err)
		}
	}

	// Scripts: the variable wins over stdin.
	t.Setenv("COSYNC_DEVELOPER_PASSWORD", "from the environment")
	if _, stderr, err := runCLIIn(t, "ignored\n", "developer", "create", "--email", "d@example.com"); err != nil {
		t.Fatalf("run(developer create) with $COSYNC_DEVELOPER_PASSWORD = %v; log:\n%s", err, stderr)
	}
	ctx := context.Background()
	cfg, err := config.Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, config.Environ)
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, tc := range []struct{ email, pw string }{{"a@example.com", "long enough pw"}, {"d@example.com", "from the environment"}} {
		if _, err := p.svc.Login(ctx, identity.Caller{AppID: identity.ConsoleAppID, IP: "127.0.0.1"}, tc.email, identity.Secret(tc.pw)); err != nil {
			t.Errorf("Login(%s) with the password given = %v, want a session", tc.email, err)
		}
	}
	if _, err := p.store.FindUserByEmail(ctx, identity.ConsoleAppID, "c@example.com"); err == nil {
		t.Errorf("a refused developer create made c@example.com")
	}
}

func TestCLIServeBadConfig(t *testing.T) {
	dir := cliEnv(t, "COSYNC_LOG_LEVEL=loud", "COSYNC_ADDR=nowhere")
	_, _, err := runCLI(t, "serve")
	if err == nil {
		t.Fatalf("run(serve) = nil, want a config error")
	}
	var named []string
	for _, line := range strings.Split(err.Error(), "\n") {
		name, _, _ := strings.Cut(line, ":")
		named = append(named, name)
	}
	for _, want := range []string{"COSYNC_LOG_LEVEL", "COSYNC_ADDR"} {
		if !strings.Contains(strings.Join(named, " "), want) {
			t.Errorf("run(serve) error names %q, want %s", named, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("run(serve) with bad config left %d files in the data dir, want none (it must stop before building)", len(entries))
	}
}

func TestCLIServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cliEnv(t, "COSYNC_ADDR="+ln.Addr().String())
	_, _, err = runCLI(t, "serve")
	if err == nil || !strings.HasPrefix(err.Error(), "COSYNC_ADDR") {
		t.Errorf("run(serve) on a busy port = %v, want an error naming COSYNC_ADDR", err)
	}
}

// idleLoopbackAddr returns a loopback address with a port nothing listens on.
func idleLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// run installs signal.NotifyContext, so SIGTERM to the test process while
// serve runs ends serve rather than the test binary.
func TestCLIServeGracefulShutdown(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM cannot be sent to a process on Windows")
	}
	addr := idleLoopbackAddr(t)
	dir := cliEnv(t, "COSYNC_ADDR="+addr, "COSYNC_SHUTDOWN_TIMEOUT=5s")

	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run([]string{"serve"}, strings.NewReader(""), &stdout, &stderr) }()

	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("run(serve) returned %v before serving; log:\n%s", err, stderr.String())
		default:
		}
		res, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz never answered 200 (last: %v); log:\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run(serve) after SIGTERM = %v, want nil; log:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("run(serve) did not return within 10s of SIGTERM; log:\n%s", stderr.String())
	}

	// The port is free again and the database is in place.
	if ln, err := net.Listen("tcp", addr); err != nil {
		t.Errorf("after shutdown, listen on %s: %v", addr, err)
	} else {
		ln.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "cosync.db")); errors.Is(err, os.ErrNotExist) {
		t.Errorf("after serve, %s has no cosync.db", dir)
	}
}
