package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/metrics"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/password"
	"github.com/cosync/cosync-auth/internal/ratelimit"
	"github.com/cosync/cosync-auth/internal/rpc"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/sms"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/token"
	"github.com/cosync/cosync-auth/internal/tracing"
)

// parts is every component of a running server, built once in dependency order.
type parts struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	signer  keys.Signer
	keyring *keys.Keyring
	social  *social.Verifier
	svc     *identity.Service
	console *console.Service
	limiter *ratelimit.Limiter
	gate    *rpc.Gate      // bounds calls that hash or sign
	queue   *notify.Worker // sends what the flows queued; serve runs it
	metrics *metrics.Metrics
	tracer  *tracing.Tracer // nil: tracing is off
	// draining is set at SIGTERM: /readyz answers 503 from then on.
	draining atomic.Bool
	keyParts
}

func (p *parts) close() {
	p.closeTracer()
	if p.vault != nil {
		p.vault.Close()
	}
	p.social.Close()
	_ = p.store.Close()
}

// outboundClient is the one HTTP client for calls to other services
// (Vault; Twilio and identity providers' JWKS): every request is bounded,
// dialing and TLS handshakes fail fast, and the pool keeps enough idle
// connections for bursts to a few hosts.
func outboundClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: 15 * time.Second}
}

// keyMaker lets the console create keys and tell the keyring about them.
type keyMaker struct {
	keys.Signer
	ring *keys.Keyring
}

func (k keyMaker) Invalidate(appID string) { k.ring.Invalidate(appID) }

var (
	_ console.KeyMaker        = keyMaker{}
	_ identity.PasswordHasher = (*password.Hasher)(nil)
	_ identity.CodeHasher     = (*otp.Hasher)(nil)
)

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

// build opens the database, applies migrations, loads the master key and
// wires the domain. Each failure is one line naming what failed.
func build(ctx context.Context, cfg config.Config, logOut io.Writer) (*parts, error) {
	log := newLogger(cfg, logOut)
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("database migrations: %w", err)
	}
	p, err := assemble(ctx, cfg, log, st, nil)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return p, nil
}

// assemble wires every part over an open, migrated store. now is the clock
// (nil: time.Now); tests pass their own.
func assemble(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, now func() time.Time) (*parts, error) {
	kp, err := newKeyParts(ctx, cfg, log, st, outboundClient())
	if err != nil {
		return nil, err
	}
	// kp.box seals secrets at rest: Transit under Vault, the master key otherwise.
	signer := kp.signer
	ring := keys.NewKeyring(st, signer, keys.KeyringConfig{}, now)
	// Key changes, this replica's or (Postgres) another's, reach the ring.
	st.OnChange(func(kind, id string) {
		switch kind {
		case store.ChangeKeys:
			ring.Invalidate(id)
		case store.ChangeAll:
			ring.InvalidateAll()
		}
	})

	var mailer identity.Mailer
	var ob *notify.Outbox
	var devSMS identity.DevSMS // apps without Twilio settings text into the dev outbox
	if cfg.SMTPURL != "" {
		m, err := notify.NewSMTP(notify.SMTPConfig{URL: cfg.SMTPURL, From: cfg.MailFrom})
		if err != nil {
			return nil, fmt.Errorf("COSYNC_SMTP_URL: %w", err)
		}
		mailer = m
	} else {
		ob = notify.NewOutbox(st, log, now)
		mailer, devSMS = ob, ob
	}
	// Flows queue mail and texts in their transactions; the worker (started
	// by serve) sends them, texts through svc's app settings. No request
	// reaches svc before assemble returns, so queue is set by then.
	var queue *notify.Worker
	met := metrics.New(metrics.Sources{DBStats: st.DBStats, DBName: st.Dialect(), PendingDeliveries: st.PendingDeliveries, BatchCounts: st.BatchCounts, Version: version, Log: log})
	hasher := password.NewHasher(password.Params{
		Memory: uint32(cfg.Argon2MemoryKiB), Time: uint32(cfg.Argon2Iterations), Threads: uint8(cfg.Argon2Parallelism),
	}, cfg.HashConcurrency)
	hasher.OnWait(met.HashWaited)
	limiter := ratelimit.New(st, now)
	verifier := social.New(social.Config{
		AppleJWKSURL: cfg.AppleJWKSURL, AppleIssuer: cfg.AppleIssuer,
		GoogleJWKSURL: cfg.GoogleJWKSURL, GoogleIssuers: cfg.GoogleIssuers,
	}, outboundClient(), now)
	svc := identity.New(identity.Deps{
		Store:     st,
		Passwords: hasher,
		Codes:     otp.NewHasher(kp.pepper),
		Tokens:    token.NewIssuer(ring),
		Wake:      func() { queue.Wake() },
		Limiter:   limiter,
		Log:       log,
		Now:       now,
		Social:    verifier,
		Secrets:   kp.box,
		SMS:       sms.New(sms.Config{BaseURL: cfg.TwilioAPIURL, HTTPClient: outboundClient(), Timeout: cfg.TwilioTimeout}),
		DevSMS:    devSMS,
		Meter:     met,
	}, identity.Config{PublicURL: cfg.PublicURL, MailFrom: cfg.MailFrom, MailFromDomains: cfg.MailFromDomains,
		SMSLimits:                  identity.SMSLimits{PerNumber: cfg.SMSPerNumber, PerIP: cfg.SMSPerIP, PerApp: cfg.SMSPerApp},
		DeveloperTwoFactorRequired: cfg.DeveloperRequire2FA, RateLimits: cfg.RateLimits})
	queue = notify.NewWorker(st, mailer, svc, notify.WorkerConfig{Meter: met}, log, now)
	var outbox console.OutboxReader
	if ob != nil {
		outbox = notify.FlushedOutbox{Worker: queue, Outbox: ob}
	}
	con := console.New(console.Deps{Store: st.Console(), Keys: keyMaker{signer, ring}, Secrets: kp.box, Outbox: outbox, Mailer: mailer,
		PublicURL: cfg.PublicURL, Log: log, Now: now, MailFromDomains: cfg.MailFromDomains, Invites: svc})
	if err := con.EnsureConsoleApp(ctx); err != nil {
		if kp.vault != nil {
			kp.vault.Close()
		}
		return nil, fmt.Errorf("console application: %w", err)
	}
	if err := con.ConfigureConsole(ctx, console.ConsoleConfig{DeveloperSignup: cfg.DeveloperSignup, RequireTwoFactor: cfg.DeveloperRequire2FA}); err != nil {
		if kp.vault != nil {
			kp.vault.Close()
		}
		return nil, fmt.Errorf("console application settings: %w", err)
	}
	tracer, err := tracing.New(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint, Version: version, HTTPClient: outboundClient()})
	if err != nil {
		if kp.vault != nil {
			kp.vault.Close()
		}
		return nil, err
	}
	return &parts{cfg: cfg, log: log, store: st, signer: signer, keyring: ring, svc: svc, console: con, social: verifier, limiter: limiter,
		gate: rpc.NewGate(cfg.MaxExpensiveCalls, expensiveProcedures...), keyParts: kp, queue: queue, metrics: met, tracer: tracer}, nil
}

func masterKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.MasterKey != "" {
		k, err := secrets.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("COSYNC_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	k, created, err := secrets.LoadOrCreateMasterKey(cfg.MasterKeyPath())
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		log.Warn("created a new master key; back it up: without it, stored keys and secrets cannot be decrypted", "path", cfg.MasterKeyPath())
	}
	return k, nil
}
