package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/validate"
	"github.com/rs/cors"

	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/internal/adminapi"
	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/authapi"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/cosyncjwt"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/rpc"
	"github.com/cosync/cosync-auth/portal"
)

// handler is the whole HTTP surface: both services (Connect, gRPC and
// gRPC-Web), health and reflection, the well-known documents, /healthz and
// /readyz, behind request ids, access logs and CORS.
func handler(p *parts) http.Handler {
	mux := http.NewServeMux()
	gate := p.gate.Interceptor()
	// Tracing and metrics outermost, so they see every refusal too.
	interceptors := append(p.observers(), gate, rpc.Validation(validate.NewInterceptor()))
	opts := func(max int) []connect.HandlerOption {
		return append(readBound(max), connect.WithInterceptors(interceptors...))
	}
	mux.Handle(authapi.Mount(authapi.New(p.svc, p.log), p.svc, p.cfg.TrustProxy, opts(authMaxBytes)...))
	admin := adminapi.New(p.svc, p.console, p.log)
	admin.ImportCosyncJWT = func(ctx context.Context, d identity.Developer, appID string, ex cosyncjwt.Export, dryRun bool) (cosyncjwt.ImportReport, error) {
		im := p.cosyncImporter(p.svc.Now)
		im.Actor, im.IP = d.ActorID(), d.IP
		return im.Import(ctx, appID, ex, dryRun)
	}
	mux.Handle(adminapi.Mount(admin, p.svc, p.cfg.TrustProxy, opts(adminMaxBytes)...))
	// The import carries a whole export: the same service with a larger
	// bound, for that one procedure (the more specific pattern wins).
	_, importHandler := adminapi.Mount(admin, p.svc, p.cfg.TrustProxy, opts(importMaxBytes)...)
	mux.Handle(adminv1connect.AdminServiceImportCosyncJwtUsersProcedure, importHandler)
	// So does a CSV of invitations.
	_, invitesHandler := adminapi.Mount(admin, p.svc, p.cfg.TrustProxy, opts(invitationsMaxBytes)...)
	mux.Handle(adminv1connect.AdminServiceCreateInvitationsProcedure, invitesHandler)
	services := []string{authv1connect.AuthServiceName, adminv1connect.AdminServiceName}
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))

	mux.HandleFunc("GET /apps/{id}/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !appExists(w, r, p, id) {
			return
		}
		body, etag, err := p.keyring.JWKS(r.Context(), id)
		if err != nil {
			httpError(w, r, p.log, err)
			return
		}
		writeCached(w, r, "application/jwk-set+json", body, etag)
	})
	mux.HandleFunc("GET /apps/{id}/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !appExists(w, r, p, id) {
			return
		}
		body, _ := json.MarshalIndent(map[string]any{
			"issuer":                                identity.Issuer(p.cfg.PublicURL, id),
			"jwks_uri":                              identity.JWKSURL(p.cfg.PublicURL, id),
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"token"},
			"subject_types_supported":               []string{"public"},
			"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "sid", "email", "user_name"},
		}, "", "  ")
		writeCached(w, r, "application/json", body, etagOf(body))
	})
	mux.HandleFunc("GET /apps/{id}/signup/confirm", signupLanding(p))
	mux.Handle("POST /apps/{id}/signup/confirm", p.gate.Handler(signupLanding(p)))
	mux.HandleFunc("GET /apps/{id}/invite", invitePage(p))
	mux.HandleFunc("GET /apps/{id}/totp-qr", totpQR(p))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", metricsOnMainPort(p))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if p.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		if err := p.store.Ping(ctx); err != nil {
			p.log.WarnContext(ctx, "readiness: database", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unavailable\n")
			return
		}
		if err := p.signer.Check(ctx); err != nil {
			p.log.WarnContext(ctx, "readiness: signer", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "signer unavailable\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	// The portal: every path no route above claims (its pages are hash
	// routes, so it takes no server path beyond its own files).
	mux.Handle("/", portal.Handler())

	c := cors.New(cors.Options{
		AllowedOrigins: p.cfg.CORSOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization", rpc.AppIDHeader),
		ExposedHeaders: append(connectcors.ExposedHeaders(), "Retry-After", "X-Request-Id"),
		MaxAge:         7200,
	})
	return withRequestLog(p.log, withSecurityHeaders(withBodyLimit(withCosyncJWT(p, c.Handler(mux)))))
}

// withCosyncJWT serves CosyncJWT's /api/appuser/ ahead of the mux, so the
// `//api/appuser/…` paths Swift SDKs send are not redirected (ServeMux
// cleans paths with a redirect, which a POST client does not follow).
func withCosyncJWT(p *parts, next http.Handler) http.Handler {
	facade := p.gate.Handler(cosyncjwt.New(p.svc, p.store, otp.NewHasher(p.pepper), p.log, p.cfg.TrustProxy))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cosyncjwt.Match(r) {
			facade.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// appExists answers 404 (or the store's failure) unless the app id exists.
// It reads the app cache without decoding the settings, the largest part of
// a JWKS request's cost otherwise.
func appExists(w http.ResponseWriter, r *http.Request, p *parts, id string) bool {
	ok, err := p.store.AppExists(r.Context(), id)
	if err == nil && !ok {
		err = apperr.New(apperr.NotFound, "", "no such app")
	}
	if err != nil {
		httpError(w, r, p.log, err)
		return false
	}
	return true
}

func httpError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch apperr.KindOf(err) {
	case apperr.NotFound:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no application with that id\n")
	case apperr.Unavailable:
		log.WarnContext(r.Context(), "unavailable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "temporarily unavailable\n")
	default:
		log.ErrorContext(r.Context(), "internal error", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "internal error\n")
	}
}

func etagOf(b []byte) string {
	return fmt.Sprintf(`"%x"`, sha256.Sum256(b))
}

var publicCache = []string{"public, max-age=300"}

// writeCached serves a public document that changes rarely: verifiers may
// cache it five minutes and revalidate with If-None-Match.
func writeCached(w http.ResponseWriter, r *http.Request, contentType string, body []byte, etag string) {
	h := w.Header()
	h["Cache-Control"] = publicCache[:1:1] // shared: see securityHeaders
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

type requestIDKey struct{}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestIDHandler adds the request id in ctx to every record logged with a
// …Context method, so a request's log lines can be found together.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps streaming (gRPC) working through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// withRequestLog gives each request an id (a well-formed incoming
// X-Request-Id, or a new one), echoes it, and logs one line when done.
func withRequestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(ctx))
		// LogAttrs: typed attributes, none boxed into an interface, and
		// nothing built when the level is off.
		log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("proto", r.Proto))
	})
}

// serve runs the server until ctx ends (SIGTERM/SIGINT), then drains.
func serve(ctx context.Context, cfg config.Config, logOut io.Writer) error {
	p, err := build(ctx, cfg, logOut)
	if err != nil {
		return err
	}
	defer p.close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("COSYNC_ADDR: %w", err)
	}
	srv := &http.Server{Handler: handler(p)}
	configureServer(srv, cfg, p.log)
	drainer := newDrainer(srv)
	// A pass at start moves apps onto a changed signer (local to Vault) before
	// the first token is asked for; later passes retire and rotate on schedule.
	upkeepKeys(ctx, p)
	go runKeyUpkeep(ctx, p, keyUpkeepEvery)
	stopMetrics, err := serveMetrics(p)
	if err != nil {
		return err
	}
	defer stopMetrics()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The queue worker and the janitor outlive the signal: requests still
	// draining may queue mail, and a send cut off mid-way would be sent
	// again once its lease ran out. They stop after the drain, and the
	// database closes only when they have returned.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var work sync.WaitGroup
	work.Go(func() { janitor(workCtx, p, 5*time.Minute) })
	work.Go(func() { p.queue.Run(workCtx) })
	defer work.Wait()
	defer stopWork()
	go p.store.Listen(ctx) // Postgres: other replicas' changes reach the caches
	p.log.InfoContext(ctx, "cosync-auth listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"version", version, "database", p.store.Dialect(), "mail", mailMode(cfg))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Not ready from now on: a load balancer stops sending new requests
	// while, for COSYNC_SHUTDOWN_DELAY, the listener still accepts them.
	p.draining.Store(true)
	p.log.InfoContext(ctx, "shutting down", "delay", cfg.ShutdownDelay.String(), "wait", cfg.ShutdownWait.String())
	if cfg.ShutdownDelay > 0 {
		select {
		case err := <-errc:
			return err
		case <-time.After(cfg.ShutdownDelay):
		}
	}
	// Stop accepting, then answer every request the connections accepted
	// carry (HTTP/2 clients are told with GOAWAY), for up to
	// COSYNC_SHUTDOWN_TIMEOUT.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownWait)
	defer cancel()
	if err := drainer.drain(sctx, srv, ln); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	p.log.InfoContext(ctx, "drained: every request in flight answered")
	return nil
}

func mailMode(cfg config.Config) string {
	if cfg.SMTPURL != "" {
		return "smtp"
	}
	return "outbox"
}
