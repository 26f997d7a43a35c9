package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"connectrpc.com/connect"
)

// observers are the interceptors that watch every RPC: tracing (when
// configured) and metrics.
func (p *parts) observers() []connect.Interceptor {
	var is []connect.Interceptor
	if ic := p.tracer.Interceptor(); ic != nil {
		is = append(is, ic)
	}
	return append(is, p.metrics.Interceptor())
}

// closeTracer flushes the spans still buffered, bounded so a collector
// that is away cannot hold up the exit.
func (p *parts) closeTracer() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.tracer.Shutdown(ctx); err != nil {
		p.log.Warn("tracing: flushing spans at exit", "err", err)
	}
}

// metricsOnMainPort serves /metrics on the public port only to a bearer of
// COSYNC_METRICS_TOKEN. Without a token the public port does not serve it
// at all: metrics name procedures, rates and the queue's depth, which are
// the operator's business, and the main port usually faces the internet.
// The unauthenticated way is a separate listener (COSYNC_METRICS_ADDR) that
// only the scraper's network reaches.
func metricsOnMainPort(p *parts) http.Handler {
	if p.cfg.MetricsToken == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "metrics are not served on this port (see COSYNC_METRICS_ADDR and COSYNC_METRICS_TOKEN)\n")
		})
	}
	want := []byte("Bearer " + p.cfg.MetricsToken)
	h := p.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "a bearer token (COSYNC_METRICS_TOKEN) is required\n")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsHandler is the whole surface of the separate metrics listener:
// /metrics, and with COSYNC_PPROF Go's profiles (what `make bench` reads
// through cmd/loadgen -profile).
func metricsHandler(p *parts) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", p.metrics.Handler())
	if p.cfg.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// serveMetrics starts the separate metrics listener when COSYNC_METRICS_ADDR
// is set, and returns what stops it (at once: a scrape cut short is retried
// at the next interval).
func serveMetrics(p *parts) (stop func(), err error) {
	if p.cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", p.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("COSYNC_METRICS_ADDR: %w", err)
	}
	srv := &http.Server{Handler: metricsHandler(p), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("metrics listener", "err", err)
		}
	}()
	p.log.Info("metrics listening", "addr", ln.Addr().String())
	return func() { _ = srv.Close(); <-done }, nil
}
