package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// gzipOf returns prefix, n spaces and suffix, gzipped: a body that inflates
// about a thousandfold.
func gzipOf(tb testing.TB, prefix string, n int, suffix string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, prefix)
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for n > 0 {
		k := min(n, len(spaces))
		if _, err := zw.Write(spaces[:k]); err != nil {
			tb.Fatal(err)
		}
		n -= k
	}
	io.WriteString(zw, suffix)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body to path as Connect JSON and returns the status and the
// Connect error code of the reply ("" when it is not an error).
func (e *env) post(tb testing.TB, path string, hdr map[string]string, body []byte) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.http.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var reply struct{ Code string }
	_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&reply)
	return res.StatusCode, reply.Code
}

// allocated runs fn and returns the bytes the process allocated meanwhile
// (client and server both: the server runs in this process).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBodyBounds sends the issue's attacks — a large body and gzip bombs —
// and sees ResourceExhausted and a flat memory line: what the process
// allocates while answering stays a few MiB, where inflating the bomb would
// take 300 MiB. Not parallel: it measures the whole process's allocations.
func TestBodyBounds(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	login := "/cosync.auth.v1.AuthService/Login"
	app := map[string]string{"Cosync-App-Id": identity.ConsoleAppID}
	gz := map[string]string{"Cosync-App-Id": identity.ConsoleAppID, "Content-Encoding": "gzip"}

	issueBomb := gzipOf(t, "{", 300<<20, "}") // the issue's: about 300 KB on the wire
	smallBomb := gzipOf(t, "{", 50<<20, "}")  // under the wire limit, 50 MiB inflated
	large := []byte(`{"handle":"` + strings.Repeat("a", authMaxBytes) + `"}`)
	if len(smallBomb) >= authMaxBytes {
		t.Fatalf("the small bomb is %d bytes, want it under the wire limit %d", len(smallBomb), authMaxBytes)
	}
	const flat = 16 << 20 // far below one inflated bomb
	tests := []struct {
		name string
		hdr  map[string]string
		body []byte
	}{
		{"body over the AuthService limit", app, large},
		{"the issue's gzip bomb (300 MB of spaces)", gz, issueBomb},
		{"a gzip bomb under the wire limit", gz, smallBomb},
	}
	for _, tc := range tests {
		var status int
		var code string
		got := allocated(func() { status, code = e.post(t, login, tc.hdr, tc.body) })
		if code != connect.CodeResourceExhausted.String() {
			t.Errorf("%s: Login = %d %q, want resource_exhausted", tc.name, status, code)
		}
		if got > flat {
			t.Errorf("%s: the process allocated %d MiB answering it, want under %d MiB", tc.name, got>>20, flat>>20)
		}
	}

	// AdminService takes more (bulk invitations, templates), the import the
	// most (a 64 MiB export as base64): a body past the auth limit reaches
	// the handler (unauthenticated here), one past the admin limit does not.
	mid := []byte(`{"name":"` + strings.Repeat("a", 2*authMaxBytes) + `"}`)
	if _, code := e.post(t, "/cosync.admin.v1.AdminService/CreateApp", nil, mid); code != connect.CodeUnauthenticated.String() {
		t.Errorf("CreateApp with %d bytes = %q, want unauthenticated (under the admin limit)", len(mid), code)
	}
	big := []byte(`{"app_id":"x","export":"` + strings.Repeat("A", 2*adminMaxBytes) + `"}`)
	if _, code := e.post(t, "/cosync.admin.v1.AdminService/CreateApp", nil, big); code != connect.CodeResourceExhausted.String() {
		t.Errorf("CreateApp with %d bytes = %q, want resource_exhausted", len(big), code)
	}
	if _, code := e.post(t, "/cosync.admin.v1.AdminService/ImportCosyncJwtUsers", nil, big); code != connect.CodeUnauthenticated.String() {
		t.Errorf("ImportCosyncJwtUsers with %d bytes = %q, want unauthenticated (under the import limit)", len(big), code)
	}

	// The CosyncJWT facade is bounded too.
	req, _ := http.NewRequest(http.MethodPost, e.url+"/api/appuser/login", bytes.NewReader(bytes.Repeat([]byte("a"), 2*authMaxBytes)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Errorf("facade login with %d bytes = %d, want a 4xx", 2*authMaxBytes, res.StatusCode)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestBoundedGzipStopsEarly: read as connect reads it (max+1 bytes, then a
// drain), the bounded reader fails at once instead of inflating the rest,
// so only a sliver of the compressed body is ever consumed.
func TestBoundedGzipStopsEarly(t *testing.T) {
	t.Parallel()
	bomb := gzipOf(t, "{", 50<<20, "}")
	src := &countingReader{r: bytes.NewReader(bomb)}
	const max = authMaxBytes
	b := &boundedGzip{max: max}
	if err := b.Reset(src); err != nil {
		t.Fatal(err)
	}
	var dst bytes.Buffer
	if n, err := dst.ReadFrom(io.LimitReader(b, max+1)); n != max+1 || err != nil {
		t.Fatalf("ReadFrom = %d, %v; want %d bytes", n, err, max+1)
	}
	if _, err := io.Copy(io.Discard, b); !errors.Is(err, errInflated) {
		t.Errorf("draining past the bound = %v, want errInflated", err)
	}
	if src.n > len(bomb)/10 {
		t.Errorf("consumed %d of %d compressed bytes, want only the first few", src.n, len(bomb))
	}

	// A body within the bound reads whole, and the reader is reusable.
	small := gzipOf(t, `{"handle":"a@example.com"`, 10, "}")
	if err := b.Reset(bytes.NewReader(small)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	if err != nil || !strings.HasPrefix(string(got), `{"handle"`) || len(got) != 36 {
		t.Errorf("ReadAll(small) = %q, %v", got, err)
	}
}

func withTimeouts(header, read, idle time.Duration) envOption {
	return func(c *config.Config) { c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = header, read, idle }
}

// waitClosed reads conn until the server closes it. The deadline only
// keeps a broken server from hanging the suite; reaching it fails.
func waitClosed(tb testing.TB, conn net.Conn, what string) {
	tb.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		tb.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		tb.Fatalf("%s: the server never closed the connection", what)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		tb.Fatalf("%s: reading = %v, want the connection closed", what, err)
	}
}

// trickle writes one byte of b at a time until stop or a write fails.
func trickle(conn net.Conn, b []byte, stop <-chan struct{}) {
	for i := 0; ; i++ {
		if _, err := conn.Write([]byte{b[i%len(b)]}); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestSlowClientsCutOff: a body sent a byte at a time, headers sent a byte
// at a time and an idle keep-alive connection are each closed by the
// server (short settings here; the defaults are 30s, 10s and 2m).
func TestSlowClientsCutOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t), withTimeouts(200*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond))
	addr := strings.TrimPrefix(e.url, "http://")
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}

	t.Run("slow body", func(t *testing.T) {
		conn := dial()
		fmt.Fprintf(conn, "POST /cosync.auth.v1.AuthService/Login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"Cosync-App-Id: console\r\nContent-Length: 100000\r\n\r\n{")
		stop := make(chan struct{})
		defer close(stop)
		go trickle(conn, []byte(" "), stop)
		waitClosed(t, conn, "slow body")
	})
	t.Run("slow body over h2c", func(t *testing.T) {
		var protocols http.Protocols
		protocols.SetUnencryptedHTTP2(true)
		hc := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
		t.Cleanup(hc.CloseIdleConnections)
		pr, pw := io.Pipe()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer pw.Close()
			for {
				if _, err := pw.Write([]byte(" ")); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/cosync.auth.v1.AuthService/Login", pr)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cosync-App-Id", "console")
		type outcome struct {
			res *http.Response
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			res, err := hc.Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- outcome{res, err}
		}()
		select {
		case o := <-done:
			// A reset stream (o.err) or an error reply both cut the body off.
			if o.err == nil && (o.res.ProtoMajor != 2 || o.res.StatusCode == http.StatusOK) {
				t.Errorf("a trickling body over h2c = %s %d, want it cut off over HTTP/2", o.res.Proto, o.res.StatusCode)
			}
		case <-time.After(20 * time.Second): // a guard against a hang, not a measure
			t.Fatal("the server never ended a stream whose body trickles")
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		stop := make(chan struct{})
		defer close(stop)
		go trickle(conn, []byte("X-Slow: a\r\n"), stop)
		waitClosed(t, conn, "slow headers")
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("GET /healthz: %v", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("GET /healthz = %d (close %v), want a kept-alive 200", res.StatusCode, res.Close)
		}
		waitClosed(t, conn, "idle connection")
	})
}

// TestExpensiveCallsShed: with every slot of the gate held by a Login that
// cannot finish, the next Login is refused at once with ResourceExhausted,
// the reason RATE_LIMITED and a retry delay; so is the facade; cheap calls still
// pass; and once the held calls finish, Login works again.
func TestExpensiveCallsShed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t), func(c *config.Config) { c.MaxExpensiveCalls = 2 })
	dev := e.developer(t, "dev@example.com")
	ctx := context.Background()

	hold, entered := make(chan struct{}), make(chan string, 2)
	e.p.gate.SetEnteredHook(func(_ context.Context, procedure string) {
		entered <- procedure
		<-hold
	})
	login := func() error {
		_, err := e.auth.Login(as(ctx, identity.ConsoleAppID, ""), &authv1.LoginRequest{Handle: "dev@example.com", Password: "dev-password-1"})
		return err
	}
	held := make(chan error, 2)
	for range 2 {
		go func() { held <- login() }()
	}
	<-entered
	<-entered

	err := login()
	wantReason(t, "Login with the gate full", err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Meta().Get("Retry-After") == "" {
		t.Errorf("Login with the gate full: no Retry-After header")
	}
	res, ferr := e.http.Post(e.url+"/api/appuser/login", "application/x-www-form-urlencoded", strings.NewReader("handle=a%40b.c&password=x"))
	if ferr != nil {
		t.Fatal(ferr)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("facade login with the gate full = %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if _, err := e.admin.ListApps(as(ctx, "", dev), &adminv1.ListAppsRequest{}); err != nil {
		t.Errorf("ListApps (not gated) with the gate full = %v, want it to pass", err)
	}

	e.p.gate.SetEnteredHook(nil)
	close(hold)
	for range 2 {
		if err := <-held; err != nil {
			t.Errorf("a held Login = %v, want a session once released", err)
		}
	}
	if err := login(); err != nil {
		t.Errorf("Login after the gate emptied = %v, want a session", err)
	}
}

// TestCompressMinBytes: a client that accepts gzip gets a small answer
// (GetApplication) as it is and a large one (the signing keys, with PEM
// and JWK, after four rotations) gzipped.
func TestCompressMinBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	for range 4 {
		if _, err := e.admin.RotateSigningKey(as(context.Background(), "", dev), &adminv1.RotateSigningKeyRequest{AppId: app}); err != nil {
			t.Fatalf("RotateSigningKey = %v", err)
		}
	}
	for _, tc := range []struct {
		name, path, body, app, bearer string
		gzipped                       bool
	}{
		{"GetApplication", "/cosync.auth.v1.AuthService/GetApplication", `{}`, app, "", false},
		{"ListSigningKeys", "/cosync.admin.v1.AdminService/ListSigningKeys", `{"app_id":"` + app + `"}`, "", dev, true},
	} {
		req, err := http.NewRequest(http.MethodPost, e.url+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Encoding", "gzip") // set by hand, so the transport does not inflate it
		if tc.app != "" {
			req.Header.Set("Cosync-App-Id", tc.app)
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s = %d %s", tc.name, res.StatusCode, body)
		}
		if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.gzipped {
			t.Errorf("%s: %d bytes on the wire, gzipped %v, want %v (threshold %d)", tc.name, len(body), got, tc.gzipped, compressMinBytes)
		}
	}
}
