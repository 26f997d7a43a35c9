package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
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
// queue), a right password and a refresh, a wrong password, and a refused
// RPC.
func exercise(tb testing.TB, e *env) {
	tb.Helper()
	dev := e.developer(tb, "ops@example.com")
	app := e.appWithNameField(tb, dev)
	e.signUp(tb, dev, app, "ann@example.com")
	res, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
	if err != nil {
		tb.Fatalf("Login = %v", err)
	}
	if _, err := e.auth.RefreshSession(as(context.Background(), app, ""), &authv1.RefreshSessionRequest{RefreshToken: res.GetSession().GetRefreshToken()}); err != nil {
		tb.Fatalf("RefreshSession = %v", err)
	}
	_, err = e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "wrong-password"})
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
		type metricWant struct {
			name    string
			labels  map[string]string
			want    float64 // exact, or at least when atLeast
			atLeast bool
		}
		tests := []metricWant{
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
		for _, path := range []string{"refresh_read", "refresh_write"} {
			_, ok := sample(fams, "cosync_db_batched_calls_total", map[string]string{"path": path})
			if want := s.Dialect() == "postgres"; ok != want { // SQLite batches nothing
				t.Errorf("/metrics has cosync_db_batched_calls_total{path=%q}: %v, want %v", path, ok, want)
			}
			if ok {
				tests = append(tests, metricWant{"cosync_db_batched_calls_total", map[string]string{"path": path}, 1, true})
			}
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
	serveWithMetrics(t, addr, metricsAddr)
	fams := scrape(t, "http://"+metricsAddr+"/metrics", "")
	if _, ok := sample(fams, "cosync_build_info", nil); !ok {
		t.Errorf("the metrics listener serves no cosync_build_info")
	}
	for _, u := range []string{"http://" + addr + "/metrics", "http://" + metricsAddr + "/healthz", "http://" + metricsAddr + "/",
		"http://" + metricsAddr + "/debug/pprof/"} { // profiles only with COSYNC_PPROF (TestPprof)
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

// TestPprof: COSYNC_PPROF adds Go's profiles to the separate metrics
// listener and never to the main port, and is refused without that
// listener.
func TestPprof(t *testing.T) {
	cliEnv(t, "COSYNC_PPROF=true")
	var stderr bytes.Buffer
	if _, err := loadConfig("serve", nil, &stderr); err == nil || !strings.Contains(err.Error(), "COSYNC_PPROF") {
		t.Errorf("COSYNC_PPROF without COSYNC_METRICS_ADDR: loadConfig = %v, want an error naming COSYNC_PPROF", err)
	}
	addr, metricsAddr := idleLoopbackAddr(t), idleLoopbackAddr(t)
	serveWithMetrics(t, addr, metricsAddr, "COSYNC_PPROF=true")
	get := func(u string) (int, string) {
		t.Helper()
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	if code, body := get("http://" + metricsAddr + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("GET metrics listener /debug/pprof/ = %d %.80q, want 200 with the profile index", code, body)
	}
	// A one-second CPU profile is a gzipped protobuf.
	if code, body := get("http://" + metricsAddr + "/debug/pprof/profile?seconds=1"); code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("GET /debug/pprof/profile = %d (%d bytes), want 200 with a gzipped profile", code, len(body))
	}
	if code, _ := get("http://" + addr + "/debug/pprof/"); code == http.StatusOK {
		t.Errorf("GET main port /debug/pprof/ = 200, want the profiles kept off the main port")
	}
}

// serveWithMetrics runs `serve` in process on addr with its metrics
// listener on metricsAddr (and the settings in env) until the test ends,
// returning once it answers.
func serveWithMetrics(t *testing.T, addr, metricsAddr string, env ...string) {
	t.Helper()
	cliEnv(t, append([]string{"COSYNC_ADDR=" + addr, "COSYNC_METRICS_ADDR=" + metricsAddr, "COSYNC_SHUTDOWN_TIMEOUT=5s"}, env...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedBuffer
	go func() {
		cfg, err := loadConfig("serve", nil, &logs)
		if err != nil {
			done <- err
			return
		}
		done <- serve(ctx, cfg, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve = %v", err)
		}
	})
	waitHTTP(t, "http://"+addr+"/healthz", &logs)
}

// promQLNoise matches what in a PromQL expression is not a metric name:
// label matchers, range selectors, quoted strings and grouping clauses.
var (
	promQLMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|"[^"]*"`)
	promQLGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	promQLIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promQLKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "offset": true, "bool": true, "and": true, "or": true, "unless": true}
)

// promQLNames returns the metric names and the grouping labels expr uses.
func promQLNames(expr string) (metricNames, labels []string) {
	e := promQLMatchers.ReplaceAllString(expr, " ")
	for _, m := range promQLGrouping.FindAllStringSubmatch(e, -1) {
		for _, l := range strings.Split(m[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
	}
	e = promQLGrouping.ReplaceAllString(e, " ")
	for _, m := range promQLIdent.FindAllString(e, -1) {
		if strings.HasSuffix(m, "(") || promQLKeywords[m] { // a function call or an operator
			continue
		}
		metricNames = append(metricNames, m)
	}
	return metricNames, labels
}

// family finds the family a queried name belongs to: itself, or for a
// histogram's or summary's _bucket, _count and _sum series, its base.
func family(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f := fams[name]; f != nil {
		return f
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := fams[base]; f != nil && (f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				if suffix == "_bucket" && f.GetType() != dto.MetricType_HISTOGRAM {
					return nil
				}
				return f
			}
		}
	}
	return nil
}

// TestGrafanaDashboard parses deploy/grafana/cosync-auth.json and checks
// that every metric its queries name is one a real server exposes (after
// traffic that makes each family appear), that every label it groups by is
// on those metrics (or is added by Prometheus at scrape), and that it
// charts each part the operator needs.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../deploy/grafana/cosync-auth.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("cosync-auth.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("dashboard title %q, uid %q; want both", dash.Title, dash.UID)
	}

	e := newEnv(t, sqliteStore(t), withMetricsToken(testMetricsToken))
	exercise(t, e)
	fams := scrape(t, e.url+"/metrics", testMetricsToken)

	scrapeLabels := map[string]bool{"instance": true, "job": true, "le": true}
	queried := map[string]bool{}
	check := func(where, expr string) {
		names, labels := promQLNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		onMetrics := map[string]bool{}
		for _, n := range names {
			f := family(fams, n)
			if f == nil {
				t.Errorf("%s: %q queries %s, which the server does not expose", where, expr, n)
				continue
			}
			queried[f.GetName()] = true
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					onMetrics[l.GetName()] = true
				}
			}
		}
		for _, l := range labels {
			if !onMetrics[l] && !scrapeLabels[l] {
				t.Errorf("%s: %q groups by %q, a label none of %v has", where, expr, l, names)
			}
		}
	}
	panels := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		panels++
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if strings.HasPrefix(v.Definition, "label_values(") {
			metric, label, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(v.Definition, "label_values("), ")"), ",")
			check("variable", "max by ("+label+") ("+metric+")")
		}
	}
	if panels < 10 {
		t.Errorf("dashboard has %d panels, want at least 10", panels)
	}
	for _, want := range []string{"cosync_rpc_requests_total", "cosync_rpc_errors_total", "cosync_rpc_duration_seconds",
		"cosync_logins_total", "cosync_signups_total", "cosync_sends_total", "cosync_queue_pending",
		"cosync_password_hash_wait_seconds", "go_sql_in_use_connections", "go_sql_wait_count_total",
		"go_goroutines", "process_resident_memory_bytes"} {
		if !queried[want] {
			t.Errorf("the dashboard charts no %s", want)
		}
	}
}

// TestPromQLNames pins the query parser the dashboard test relies on.
func TestPromQLNames(t *testing.T) {
	t.Parallel()
	names, labels := promQLNames(`histogram_quantile(0.99, sum by (le, procedure) (rate(cosync_rpc_duration_seconds_bucket{instance=~"$instance",code!="ok"}[$__rate_interval]))) / on (instance) group_left max(up)`)
	if !slices.Equal(names, []string{"cosync_rpc_duration_seconds_bucket", "up"}) || !slices.Equal(labels, []string{"le", "procedure", "instance"}) {
		t.Errorf("promQLNames = %q, %q; want the bucket series and up, by le, procedure and instance", names, labels)
	}
}
