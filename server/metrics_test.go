package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

const testMetricsToken = "metrics-token-0123456789"

func withMetricsToken(tok string) envOption { return func(c *config.Config) { c.MetricsToken = tok } }

// scrape reads url's Prometheus text exposition with bearer (if any),
// failing tb on anything but 200 and a well-formed body.
func scrape(tb testing.TB, url, bearer string) map[string]*dto.MetricFamily {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		tb.Fatalf("GET %s = %d %s, want 200", url, res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		tb.Fatalf("GET %s: not Prometheus text: %v", url, err)
	}
	return fams
}

// sample returns the value of family name's series whose labels include
// want (a counter's or gauge's value, a histogram's count), and whether
// there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// exercise drives traffic that makes every family the dashboard uses
// appear: a developer's login, a code-flow signup (its mail sent by the
// queue), a right and a wrong password, and a refused RPC.
func exercise(tb testing.TB, e *env) {
	tb.Helper()
	dev := e.developer(tb, "ops@example.com")
	app := e.appWithNameField(tb, dev)
	e.signUp(tb, dev, app, "ann@example.com")
	e.login(tb, app, "ann@example.com", "long-enough-pw")
	_, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		tb.Fatalf("Login(wrong password) = %v, want unauthenticated", err)
	}
	e.flush(tb)
}

// TestMetrics scrapes a real server after real traffic, on both databases:
// the RPC interceptor counts by procedure and code, the domain counters
// count what the flows did, and the pool, queue, hash-queue, runtime and
// process collectors all answer.
func TestMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		e := newEnv(t, s, withMetricsToken(testMetricsToken))
		exercise(t, e)
		fams := scrape(t, e.url+"/metrics", testMetricsToken)
		login := "/cosync.auth.v1.AuthService/Login"
		tests := []struct {
			name    string
			labels  map[string]string
			want    float64 // exact, or at least when atLeast
			atLeast bool
		}{
			{"cosync_rpc_requests_total", map[string]string{"procedure": login, "code": "ok"}, 2, false},
			{"cosync_rpc_requests_total", map[string]string{"procedure": login, "code": "unauthenticated"}, 1, false},
			{"cosync_rpc_errors_total", map[string]string{"procedure": login, "code": "unauthenticated"}, 1, false},
			{"cosync_rpc_duration_seconds", map[string]string{"procedure": login, "code": "ok"}, 2, false},
			{"cosync_rpc_requests_total", map[string]string{"procedure": "/cosync.auth.v1.AuthService/SignUp", "code": "ok"}, 1, false},
			{"cosync_logins_total", map[string]string{"method": "password", "outcome": "success"}, 2, false},
			{"cosync_logins_total", map[string]string{"method": "password", "outcome": "failure"}, 1, false},
			{"cosync_signups_total", map[string]string{"stage": "started"}, 1, false},
			{"cosync_signups_total", map[string]string{"stage": "completed"}, 1, false},
			{"cosync_sends_total", map[string]string{"channel": "email", "outcome": "sent"}, 1, true},
			{"cosync_password_hash_wait_seconds", nil, 4, true}, // 2 logins, a wrong one, the signup's hash
			{"cosync_queue_pending", nil, 0, false},
			{"go_sql_open_connections", map[string]string{"db_name": s.Dialect()}, 1, true},
			{"go_sql_max_open_connections", nil, 0, true}, // present (SQLite: 0, unlimited)
			{"go_goroutines", nil, 1, true},
			{"process_resident_memory_bytes", nil, 1, true},
			{"cosync_build_info", map[string]string{"version": "dev"}, 1, false},
		}
		for _, tt := range tests {
			got, ok := sample(fams, tt.name, tt.labels)
			switch {
			case !ok:
				t.Errorf("/metrics has no %s%v", tt.name, tt.labels)
			case tt.atLeast && got < tt.want:
				t.Errorf("%s%v = %v, want at least %v", tt.name, tt.labels, got, tt.want)
			case !tt.atLeast && got != tt.want:
				t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
			}
		}
	})
}

// TestMetricsMainPortGuard: without COSYNC_METRICS_TOKEN the public port
// does not serve /metrics; with one, only its bearer is answered.
func TestMetricsMainPortGuard(t *testing.T) {
	t.Parallel()
	get := func(url, auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	open := newEnv(t, sqliteStore(t))
	if code, body := get(open.url+"/metrics", "Bearer "+testMetricsToken); code != http.StatusNotFound || strings.Contains(body, "cosync_") {
		t.Errorf("GET /metrics without a configured token = %d %.80q, want 404 and no metrics", code, body)
	}
	guarded := newEnv(t, sqliteStore(t), withMetricsToken(testMetricsToken))
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic " + testMetricsToken, testMetricsToken} {
		if code, body := get(guarded.url+"/metrics", auth); code != http.StatusUnauthorized || strings.Contains(body, "cosync_") {
			t.Errorf("GET /metrics with Authorization %q = %d %.80q, want 401 and no metrics", auth, code, body)
		}
	}
	if code, body := get(guarded.url+"/metrics", "Bearer "+testMetricsToken); code != http.StatusOK || !strings.Contains(body, "cosync_build_info") {
		t.Errorf("GET /metrics with the token = %d %.80q, want 200 with metrics", code, body)
	}
}

// TestMetricsSeparateListener runs `serve` with COSYNC_METRICS_ADDR: that
// address serves /metrics without a token (and nothing else), while the
// main port, with no token set, does not serve it.
func TestMetricsSeparateListener(t *testing.T) {
	addr, metricsAddr := idleLoopbackAddr(t), idleLoopbackAddr(t)
	cliEnv(t, "COSYNC_ADDR="+addr, "COSYNC_METRICS_ADDR="+metricsAddr, "COSYNC_SHUTDOWN_TIMEOUT=5s")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr lockedBuffer
	go func() {
		cfg, err := loadConfig("serve", nil, &stderr)
		if err != nil {
			done <- err
			return
		}
		done <- serve(ctx, cfg, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve = %v", err)
		}
	}()
	waitHTTP(t, "http://"+addr+"/healthz", &stderr)
	fams := scrape(t, "http://"+metricsAddr+"/metrics", "")
	if _, ok := sample(fams, "cosync_build_info", nil); !ok {
		t.Errorf("the metrics listener serves no cosync_build_info")
	}
	for _, u := range []string{"http://" + addr + "/metrics", "http://" + metricsAddr + "/healthz", "http://" + metricsAddr + "/"} {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", u, res.StatusCode)
		}
	}
}
