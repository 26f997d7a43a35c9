// Package metrics is the server's Prometheus instrumentation: a Connect
// interceptor counting and timing every RPC by procedure and code, the
// domain's counters (it implements identity.Meter), the password hash
// queue's wait, the database pool, the send queue's depth, and the Go
// runtime and process collectors, all on one registry per server served
// at /metrics.
//
// Every series' labels come from bounded sets (procedure names the
// handlers register, Connect codes, the identity constants), never from
// request input.
package metrics

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Sources are the readings Metrics takes at each scrape. Any may be nil.
type Sources struct {
	// DBStats reads the database pool (store.Store.DBStats); DBName labels it.
	DBStats func() sql.DBStats
	DBName  string
	// PendingDeliveries counts the send queue's pending rows, at most max
	// (store.Store.PendingDeliveries). It is called with a short timeout.
	PendingDeliveries func(ctx context.Context, max int) (int, error)
	// BatchCounts gives each batched statement's path with the statements
	// run and the calls they answered (store.Store.BatchCounts).
	BatchCounts func(each func(path string, statements, calls int64))
	// Version labels cosync_build_info.
	Version string
	// Log receives failed readings; nil discards.
	Log *slog.Logger
}

// queueCountMax bounds the queue-depth query: past it the gauge reads the
// bound, which is already a page-worthy backlog.
const queueCountMax = 100_000

// Metrics holds one server's collectors. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	rpcRequests *prometheus.CounterVec
	rpcErrors   *prometheus.CounterVec
	rpcDuration *prometheus.HistogramVec
	logins      *prometheus.CounterVec
	signups     *prometheus.CounterVec
	sends       *prometheus.CounterVec
	hashWait    prometheus.Histogram
}

var _ identity.Meter = (*Metrics)(nil)

// New returns Metrics registered on a fresh registry (not the global one,
// so several servers in one process, as in tests, keep their own counts).
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.rpcRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosync_rpc_requests_total",
		Help: "RPCs handled, by procedure and Connect code (ok for success).",
	}, []string{"procedure", "code"})
	m.rpcErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosync_rpc_errors_total",
		Help: "RPCs that ended in an error, by procedure and Connect code.",
	}, []string{"procedure", "code"})
	m.rpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cosync_rpc_duration_seconds",
		Help: "Time to handle an RPC, from the interceptor's view (decoding done, response not yet written).",
		// From a cached JWKS-speed call to an argon2 login queued behind a flood.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"procedure", "code"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosync_logins_total",
		Help: "Sign-in attempts by method (password, second_factor, social, anonymous) and outcome.",
	}, []string{"method", "outcome"})
	m.signups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosync_signups_total",
		Help: "Signups reaching a stage: started (accepted) or completed (account made).",
	}, []string{"stage"})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cosync_sends_total",
		Help: "Send-queue delivery attempts by channel (email, sms) and outcome (sent, retry, dead).",
	}, []string{"channel", "outcome"})
	m.hashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cosync_password_hash_wait_seconds",
		Help:    "Time a password hash or verify waited for a slot in the hash queue (COSYNC_HASH_CONCURRENCY).",
		Buckets: []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.reg.MustRegister(m.rpcRequests, m.rpcErrors, m.rpcDuration, m.logins, m.signups, m.sends, m.hashWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cosync_build_info", Help: "Always 1; the version label names the running build.",
		ConstLabels: prometheus.Labels{"version": src.Version},
	})
	build.Set(1)
	m.reg.MustRegister(build)
	log := src.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if src.DBStats != nil {
		m.reg.MustRegister(newDBStatsCollector(src.DBStats, src.DBName))
	}
	if src.PendingDeliveries != nil {
		m.reg.MustRegister(queueCollector{count: src.PendingDeliveries, log: log})
	}
	if src.BatchCounts != nil {
		m.reg.MustRegister(batchCollector(src.BatchCounts))
	}
	return m
}

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// format. A reading that fails leaves its series out rather than failing
// the scrape; at most a few scrapes run at once.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Login implements identity.Meter.
func (m *Metrics) Login(method, outcome string) { m.logins.WithLabelValues(method, outcome).Inc() }

// Signup implements identity.Meter.
func (m *Metrics) Signup(stage string) { m.signups.WithLabelValues(stage).Inc() }

// Send implements identity.Meter.
func (m *Metrics) Send(channel, outcome string) { m.sends.WithLabelValues(channel, outcome).Inc() }

// HashWaited records one hash computation's wait for a slot; pass it to
// password.Hasher.OnWait.
func (m *Metrics) HashWaited(d time.Duration) { m.hashWait.Observe(d.Seconds()) }

// batchCollector reads the group commit's counts (store/batch.go) at
// scrape time: calls over statements is the mean batch size.
type batchCollector func(each func(path string, statements, calls int64))

var (
	batchStatementsDesc = prometheus.NewDesc("cosync_db_batched_statements_total",
		"Statements run by a batched hot path (concurrent calls share one).", []string{"path"}, nil)
	batchCallsDesc = prometheus.NewDesc("cosync_db_batched_calls_total",
		"Calls answered by a batched hot path's statements.", []string{"path"}, nil)
)

func (b batchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- batchStatementsDesc
	ch <- batchCallsDesc
}

func (b batchCollector) Collect(ch chan<- prometheus.Metric) {
	b(func(path string, statements, calls int64) {
		ch <- prometheus.MustNewConstMetric(batchStatementsDesc, prometheus.CounterValue, float64(statements), path)
		ch <- prometheus.MustNewConstMetric(batchCallsDesc, prometheus.CounterValue, float64(calls), path)
	})
}

// queueCollector reads the send queue's depth at scrape time with one
// bounded count, so no worker has to keep a gauge in step across replicas
// (every replica reports the same shared queue).
type queueCollector struct {
	count func(ctx context.Context, max int) (int, error)
	log   *slog.Logger
}

var queueDesc = prometheus.NewDesc("cosync_queue_pending",
	"Deliveries (mail and texts) pending in the shared send queue, counted up to 100000 at scrape time.", nil, nil)

func (q queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (q queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := q.count(ctx, queueCountMax)
	if err != nil {
		q.log.WarnContext(ctx, "metrics: counting the send queue", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n))
}
