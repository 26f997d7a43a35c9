package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// floodPeakRSS is the most memory the server may hold during a login
// flood (issue 15): the expensive-call gate bounds how many argon2id
// hashes (19 MiB each) and request bodies are in flight, whatever the flood.
const floodPeakRSS = 250 << 20

// TestLoginFlood starts the real binary with a low COSYNC_MAX_EXPENSIVE_CALLS
// and sends it 200 password logins at once, as JSON over HTTP/1.1 (one
// connection each, as 200 clients would). Every answer is a session or
// resource_exhausted (RATE_LIMITED, with Retry-After), none a timeout or a
// 5xx; some are refused (the gate worked) and some succeed; and the
// server's peak RSS (VmHWM) stays under 250 MiB. The per-IP login limit is
// raised so that only the gate refuses.
func TestLoginFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and floods the binary")
	}
	t.Parallel()
	bin := buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			floodLogins(t, bin, db)
		})
	}
}

func floodLogins(t *testing.T, bin, db string) {
	const (
		flood    = 200
		email    = "flood@example.com"
		password = "flood-password-1"
	)
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	env := append(os.Environ(), "COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_DATA_DIR="+dir,
		"COSYNC_LOG_LEVEL=error", "COSYNC_DEVELOPER_PASSWORD="+password,
		"COSYNC_MAX_EXPENSIVE_CALLS=4", "COSYNC_RATE_LIMITS=login:ip=100000/10m")
	if db == "postgres" {
		env = append(env, "COSYNC_DATABASE_URL="+storetest.EmptyPostgres(t))
	}
	create := exec.Command(bin, "developer", "create", "--email", email)
	create.Dir, create.Env = dir, env
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("developer create: %v\n%s", err, out)
	}
	var serverLog syncBuffer
	srv := exec.Command(bin, "serve")
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	waitReady(t, base, &serverLog)

	body, err := json.Marshal(map[string]string{"handle": email, "password": password})
	if err != nil {
		t.Fatal(err)
	}
	// No client timeout shorter than the test's: a request the server
	// leaves hanging shows up as the test's own deadline, which is a failure.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	type answer struct {
		status     int
		code       string
		retryAfter string
		err        error
	}
	answers := make([]answer, flood)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, base+"/cosync.auth.v1.AuthService/Login", bytes.NewReader(body))
			if err != nil {
				answers[i].err = err
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cosync-App-Id", identity.ConsoleAppID)
			res, err := client.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			defer res.Body.Close()
			var out struct {
				Code string `json:"code"`
			}
			raw, _ := io.ReadAll(res.Body)
			_ = json.Unmarshal(raw, &out)
			answers[i] = answer{status: res.StatusCode, code: out.Code, retryAfter: res.Header.Get("Retry-After")}
		})
	}
	close(start)
	wg.Wait()

	var ok, refused int
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("login %d: %v", i, a.err)
		case a.status == http.StatusOK:
			ok++
		case a.status == http.StatusTooManyRequests && a.code == "resource_exhausted" && a.retryAfter != "":
			refused++
		default:
			t.Errorf("login %d = HTTP %d %q (Retry-After %q), want 200 or 429 resource_exhausted with Retry-After", i, a.status, a.code, a.retryAfter)
		}
	}
	if ok == 0 || refused == 0 {
		t.Errorf("flood of %d logins: %d sessions, %d refused; want some of each (gate of 4)", flood, ok, refused)
	}
	hwm := peakRSS(t, srv.Process.Pid)
	t.Logf("%s: %d sessions, %d refused; server peak RSS %d MiB", db, ok, refused, hwm>>20)
	if hwm >= floodPeakRSS {
		t.Errorf("server peak RSS during the flood = %d MiB, want under %d MiB", hwm>>20, floodPeakRSS>>20)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", serverLog.String())
	}
}

// peakRSS reads the process's high-water resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc to read the server's memory from: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kib << 10
		}
	}
	t.Fatalf("/proc/%d/status has no VmHWM", pid)
	return 0
}

// syncBuffer is a bytes.Buffer a child process and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
