// Package config reads the server's settings once, from flags and COSYNC_*
// environment variables (a flag wins over its variable), and validates them
// so that a bad setting stops the server at start with one clear line each.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/social"
)

// Config is every server setting. Field comments name the variable and default.
type Config struct {
	Addr         string        // COSYNC_ADDR, "127.0.0.1:8080"
	PublicURL    string        // COSYNC_PUBLIC_URL, "http://localhost:8080": issuer and links
	DataDir      string        // COSYNC_DATA_DIR, "./var"
	DatabaseURL  string        // COSYNC_DATABASE_URL, SQLite file cosync.db in the data dir
	Signer       string        // COSYNC_SIGNER, "local"
	MasterKey    string        // COSYNC_MASTER_KEY, empty: the file master.key in the data dir
	SMTPURL      string        // COSYNC_SMTP_URL, empty: the dev outbox
	MailFrom     string        // COSYNC_MAIL_FROM, "CoSync Auth <no-reply@localhost>"
	CORSOrigins  []string      // COSYNC_CORS_ORIGINS, "*" (tokens travel in headers, never cookies)
	TrustProxy   bool          // COSYNC_TRUST_PROXY, false: take the client IP from X-Forwarded-For
	LogLevel     string        // COSYNC_LOG_LEVEL, "info"
	LogFormat    string        // COSYNC_LOG_FORMAT, "json" (or "text")
	ShutdownWait time.Duration // COSYNC_SHUTDOWN_TIMEOUT, 15s
	// ShutdownDelay is COSYNC_SHUTDOWN_DELAY, 0s: after SIGTERM, how long the
	// server keeps serving with /readyz answering 503 before it stops accepting.
	ShutdownDelay time.Duration

	DeveloperSignup     bool // COSYNC_DEVELOPER_SIGNUP, false: developers sign up to the console themselves
	DeveloperRequire2FA bool // COSYNC_DEVELOPER_REQUIRE_2FA, false: Admin calls need a developer with a second factor

	MetricsAddr  string // COSYNC_METRICS_ADDR, empty: no separate listener; else /metrics alone, unauthenticated, on this address
	MetricsToken string // COSYNC_METRICS_TOKEN, empty: the main port does not serve /metrics; else it does to this bearer token
	Pprof        bool   // COSYNC_PPROF: the metrics listener serves Go's profiles under /debug/pprof/ too
	OTLPEndpoint string // OTEL_EXPORTER_OTLP_ENDPOINT, empty: no tracing; else spans go there over OTLP/HTTP

	MailFromDomains   []string      // COSYNC_MAIL_FROM_DOMAINS, the domain of MailFrom: the domains an app's email_from may use
	ReadHeaderTimeout time.Duration // COSYNC_READ_HEADER_TIMEOUT, 10s: a request's headers must arrive within it
	ReadTimeout       time.Duration // COSYNC_READ_TIMEOUT, 30s: a whole request, body included, must arrive within it
	IdleTimeout       time.Duration // COSYNC_IDLE_TIMEOUT, 2m: an idle keep-alive connection is closed after it
	MaxExpensiveCalls int           // COSYNC_MAX_EXPENSIVE_CALLS, 8 per CPU: calls that hash or sign at once; more are refused

	Argon2MemoryKiB   int // COSYNC_ARGON2_MEMORY_KIB, 19456 (OWASP minimum)
	Argon2Iterations  int // COSYNC_ARGON2_ITERATIONS, 2
	Argon2Parallelism int // COSYNC_ARGON2_PARALLELISM, 1
	HashConcurrency   int // COSYNC_HASH_CONCURRENCY, number of CPUs: hashes running at once

	TwilioAPIURL  string        // COSYNC_TWILIO_API_URL, empty: https://api.twilio.com
	TwilioTimeout time.Duration // COSYNC_TWILIO_TIMEOUT, 10s per message
	SMSPerNumber  int           // COSYNC_SMS_MAX_PER_NUMBER, 5 texts an hour to one number
	SMSPerIP      int           // COSYNC_SMS_MAX_PER_IP, 20 texts an hour for one client IP
	SMSPerApp     int           // COSYNC_SMS_MAX_PER_APP, 500 texts an hour by one app

	AppleJWKSURL  string   // COSYNC_APPLE_JWKS_URL, Apple's: where Sign in with Apple publishes its keys
	AppleIssuer   string   // COSYNC_APPLE_ISSUER, "https://appleid.apple.com"
	GoogleJWKSURL string   // COSYNC_GOOGLE_JWKS_URL, Google's
	GoogleIssuers []string // COSYNC_GOOGLE_ISSUERS, "accounts.google.com,https://accounts.google.com"

	VaultAddr         string        // VAULT_ADDR (COSYNC_SIGNER=vault)
	VaultToken        string        // VAULT_TOKEN; or VaultRoleID and VaultSecretID
	VaultRoleID       string        // VAULT_ROLE_ID: AppRole login instead of a token
	VaultSecretID     string        // VAULT_SECRET_ID
	VaultTransitMount string        // COSYNC_VAULT_TRANSIT_MOUNT, "transit"
	VaultTimeout      time.Duration // COSYNC_VAULT_TIMEOUT, 2s: each call to Vault; a hung Vault answers SIGNER_UNAVAILABLE after it

	RateLimits []identity.LimitRule // COSYNC_RATE_LIMITS, empty: the built-in defaults (docs/security.md)
}

// Setting describes one setting for flags, errors and the table in docs/configuration.md.
// Shown, when set, is how the README describes a machine-dependent default.
type Setting struct {
	Env, Flag, Default, Usage, Shown string
	set                              func(c *Config, v string) error
}

// Settings lists every setting in documentation order.
func Settings() []Setting {
	str := func(f func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *f(c) = v; return nil }
	}
	dur := func(f func(*Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration like 30s", v)
			}
			*f(c) = d
			return nil
		}
	}
	num := func(f func(*Config) *int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*f(c) = n
			return nil
		}
	}
	boolean := func(f func(*Config) *bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*f(c) = b
			return nil
		}
	}
	return []Setting{
		{"COSYNC_ADDR", "addr", "127.0.0.1:8080", "listen address (host:port)", "", str(func(c *Config) *string { return &c.Addr })},
		{"COSYNC_PUBLIC_URL", "public-url", "http://localhost:8080", "URL clients reach the server at; token issuer and mail links", "", str(func(c *Config) *string { return &c.PublicURL })},
		{"COSYNC_DATA_DIR", "data-dir", "./var", "directory for the SQLite file and the local master key", "", str(func(c *Config) *string { return &c.DataDir })},
		{"COSYNC_DATABASE_URL", "database-url", "", "postgres://… for Postgres; empty: SQLite file cosync.db in the data dir", "", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"COSYNC_SIGNER", "signer", "local", "token signer: local (keys encrypted under the master key) or vault (keys never leave Vault Transit)", "", str(func(c *Config) *string { return &c.Signer })},
		{"COSYNC_MASTER_KEY", "master-key", "", "32-byte key (base64 or hex) that encrypts secrets at rest; empty: master.key in the data dir, created 0600", "", str(func(c *Config) *string { return &c.MasterKey })},
		{"COSYNC_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; empty: dev outbox", "", str(func(c *Config) *string { return &c.SMTPURL })},
		{"COSYNC_MAIL_FROM", "mail-from", "CoSync Auth <no-reply@localhost>", "default sender of application mail", "", str(func(c *Config) *string { return &c.MailFrom })},
		{"COSYNC_MAIL_FROM_DOMAINS", "mail-from-domains", "", "comma-separated domains an application's own sender (email_from) may use", "the domain of COSYNC_MAIL_FROM", func(c *Config, v string) error { return c.setMailFromDomains(v) }},
		{"COSYNC_CORS_ORIGINS", "cors-origins", "*", "comma-separated browser origins allowed to call the API", "", func(c *Config, v string) error {
			c.CORSOrigins = nil
			for _, o := range strings.Split(v, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.CORSOrigins = append(c.CORSOrigins, o)
				}
			}
			return nil
		}},
		{"COSYNC_TRUST_PROXY", "trust-proxy", "false", "take the client IP from X-Forwarded-For (only behind a proxy that sets it)", "", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			c.TrustProxy = b
			return nil
		}},
		{"COSYNC_DEVELOPER_SIGNUP", "developer-signup", "false", "let developers sign up to the console (app id console) themselves; each starts with no apps and is not an operator", "", boolean(func(c *Config) *bool { return &c.DeveloperSignup })},
		{"COSYNC_DEVELOPER_REQUIRE_2FA", "developer-require-2fa", "false", "refuse Admin calls from developers without a second factor; they enroll an authenticator app (AuthService, app console) first", "", boolean(func(c *Config) *bool { return &c.DeveloperRequire2FA })},
		{"COSYNC_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", "", str(func(c *Config) *string { return &c.LogLevel })},
		{"COSYNC_LOG_FORMAT", "log-format", "json", "json or text", "", str(func(c *Config) *string { return &c.LogFormat })},
		{"COSYNC_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long SIGTERM waits for requests in flight", "", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration like 15s", v)
			}
			c.ShutdownWait = d
			return nil
		}},
		{"COSYNC_SHUTDOWN_DELAY", "shutdown-delay", "0s", "after SIGTERM, how long the server keeps accepting requests while /readyz answers 503, so load balancers stop sending first; then it drains for up to COSYNC_SHUTDOWN_TIMEOUT", "", dur(func(c *Config) *time.Duration { return &c.ShutdownDelay })},
		{"COSYNC_METRICS_ADDR", "metrics-addr", "", "separate listen address serving only /metrics, unauthenticated (e.g. 0.0.0.0:9090 where only the scraper reaches it); empty: none", "", str(func(c *Config) *string { return &c.MetricsAddr })},
		{"COSYNC_PPROF", "pprof", "false", "the separate metrics listener (COSYNC_METRICS_ADDR, required) serves Go's CPU, heap and goroutine profiles under /debug/pprof/ too", "", boolean(func(c *Config) *bool { return &c.Pprof })},
		{"COSYNC_METRICS_TOKEN", "metrics-token", "", "bearer token with which the main port serves /metrics too; empty: the main port does not serve it", "", str(func(c *Config) *string { return &c.MetricsToken })},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "otlp-endpoint", "", "OTLP/HTTP collector for traces (e.g. http://otel-collector:4318; the other OTEL_* variables apply); empty: no tracing", "", str(func(c *Config) *string { return &c.OTLPEndpoint })},
		{"COSYNC_READ_HEADER_TIMEOUT", "read-header-timeout", "10s", "how long a client may take to send a request's headers", "", dur(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
		{"COSYNC_READ_TIMEOUT", "read-timeout", "30s", "how long a client may take to send a whole request, body included (a slow body is cut off)", "", dur(func(c *Config) *time.Duration { return &c.ReadTimeout })},
		{"COSYNC_IDLE_TIMEOUT", "idle-timeout", "2m", "how long an idle keep-alive connection stays open", "", dur(func(c *Config) *time.Duration { return &c.IdleTimeout })},
		{"COSYNC_MAX_EXPENSIVE_CALLS", "max-expensive-calls", strconv.Itoa(8 * runtime.NumCPU()), "calls that hash a password or sign a token in progress at once; more are refused with ResourceExhausted (`RATE_LIMITED`) and a retry delay", "8 per CPU", num(func(c *Config) *int { return &c.MaxExpensiveCalls })},
		{"COSYNC_ARGON2_MEMORY_KIB", "argon2-memory-kib", "19456", "argon2id memory per hash in KiB (at least 19456)", "", num(func(c *Config) *int { return &c.Argon2MemoryKiB })},
		{"COSYNC_ARGON2_ITERATIONS", "argon2-iterations", "2", "argon2id passes (at least 2)", "", num(func(c *Config) *int { return &c.Argon2Iterations })},
		{"COSYNC_ARGON2_PARALLELISM", "argon2-parallelism", "1", "argon2id lanes", "", num(func(c *Config) *int { return &c.Argon2Parallelism })},
		{"COSYNC_HASH_CONCURRENCY", "hash-concurrency", strconv.Itoa(runtime.NumCPU()), "password hashes computed at once; more wait (bounds memory under a login flood)", "number of CPUs", num(func(c *Config) *int { return &c.HashConcurrency })},
		{"COSYNC_TWILIO_API_URL", "twilio-api-url", "", "Twilio API base URL; empty: https://api.twilio.com (set it to a local fake Twilio to try SMS)", "", str(func(c *Config) *string { return &c.TwilioAPIURL })},
		{"COSYNC_TWILIO_TIMEOUT", "twilio-timeout", "10s", "how long one text message may take to hand to Twilio", "", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration like 10s", v)
			}
			c.TwilioTimeout = d
			return nil
		}},
		{"COSYNC_SMS_MAX_PER_NUMBER", "sms-max-per-number", "5", "text messages an hour to one phone number (SMS pumping guard)", "", num(func(c *Config) *int { return &c.SMSPerNumber })},
		{"COSYNC_SMS_MAX_PER_IP", "sms-max-per-ip", "20", "text messages an hour triggered from one client IP", "", num(func(c *Config) *int { return &c.SMSPerIP })},
		{"COSYNC_SMS_MAX_PER_APP", "sms-max-per-app", "500", "text messages an hour sent by one application", "", num(func(c *Config) *int { return &c.SMSPerApp })},
		{"COSYNC_APPLE_JWKS_URL", "apple-jwks-url", social.DefaultAppleJWKSURL, "JWKS of Sign in with Apple (point elsewhere for tests or an air-gapped mirror)", "", str(func(c *Config) *string { return &c.AppleJWKSURL })},
		{"COSYNC_APPLE_ISSUER", "apple-issuer", social.DefaultAppleIssuer, "the iss of Apple ID tokens", "", str(func(c *Config) *string { return &c.AppleIssuer })},
		{"COSYNC_GOOGLE_JWKS_URL", "google-jwks-url", social.DefaultGoogleJWKSURL, "JWKS of Sign in with Google", "", str(func(c *Config) *string { return &c.GoogleJWKSURL })},
		{"COSYNC_GOOGLE_ISSUERS", "google-issuers", strings.Join(social.DefaultGoogleIssuers, ","), "comma-separated iss values accepted in Google ID tokens", "", func(c *Config, v string) error {
			c.GoogleIssuers = nil
			for _, iss := range strings.Split(v, ",") {
				if iss = strings.TrimSpace(iss); iss != "" {
					c.GoogleIssuers = append(c.GoogleIssuers, iss)
				}
			}
			return nil
		}},
		{"VAULT_ADDR", "vault-addr", "", "Vault address (COSYNC_SIGNER=vault)", "", str(func(c *Config) *string { return &c.VaultAddr })},
		{"VAULT_TOKEN", "vault-token", "", "Vault token (COSYNC_SIGNER=vault); or log in with AppRole", "", str(func(c *Config) *string { return &c.VaultToken })},
		{"VAULT_ROLE_ID", "vault-role-id", "", "AppRole role id, instead of VAULT_TOKEN", "", str(func(c *Config) *string { return &c.VaultRoleID })},
		{"VAULT_SECRET_ID", "vault-secret-id", "", "AppRole secret id, with VAULT_ROLE_ID", "", str(func(c *Config) *string { return &c.VaultSecretID })},
		{"COSYNC_VAULT_TRANSIT_MOUNT", "vault-transit-mount", "transit", "Vault Transit mount (COSYNC_SIGNER=vault)", "", str(func(c *Config) *string { return &c.VaultTransitMount })},
		{"COSYNC_VAULT_TIMEOUT", "vault-timeout", "2s", "how long one call to Vault may take; a Vault that hangs answers SIGNER_UNAVAILABLE after it", "", dur(func(c *Config) *time.Duration { return &c.VaultTimeout })},
		{"COSYNC_RATE_LIMITS", "rate-limits", "", "server-wide rate limits replacing built-in defaults, as name=limit/window, comma-separated (e.g. login:ip=600/10m,signup:ip=300/1h); rule names in docs/security.md; apps may override most per app", "", func(c *Config, v string) error { return c.setRateLimits(v) }},
	}
}

// Load parses args (flags) over env (lookup, usually os.LookupEnv) over the
// defaults, then validates. The error lists one line per bad setting.
func Load(fs *flag.FlagSet, args []string, lookup func(string) (string, bool)) (Config, error) {
	var c Config
	var errs []error
	vals := map[string]*string{}
	for _, s := range Settings() {
		v := s.Default
		if e, ok := lookup(s.Env); ok {
			v = e
		}
		vals[s.Env] = fs.String(s.Flag, v, s.Usage+" ($"+s.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	unparsed := map[string]bool{}
	for _, s := range Settings() {
		if err := s.set(&c, *vals[s.Env]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
			unparsed[s.Env] = true
		}
	}
	// A value that did not parse is reported once, not again for the zero it left.
	for _, err := range c.validate() {
		if env, _, _ := strings.Cut(err.Error(), ":"); !unparsed[env] {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		bad("COSYNC_ADDR", "%q is not host:port", c.Addr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		bad("COSYNC_PUBLIC_URL", "%q must be an absolute http(s) URL", c.PublicURL)
	} else {
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if c.DataDir == "" {
		bad("COSYNC_DATA_DIR", "must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "cosync.db")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil {
		bad("COSYNC_DATABASE_URL", "is not a URL")
	} else if u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "sqlite" && u.Scheme != "file" {
		bad("COSYNC_DATABASE_URL", "scheme %q is not postgres:// or sqlite://", u.Scheme)
	}
	switch c.Signer {
	case "local":
	case "vault":
		c.validateVault(bad)
	default:
		bad("COSYNC_SIGNER", "%q is not local or vault", c.Signer)
	}
	if c.SMTPURL != "" {
		if err := notify.ValidateSMTPURL(c.SMTPURL); err != nil {
			bad("COSYNC_SMTP_URL", "%v", err)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("COSYNC_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("COSYNC_LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	if len(c.CORSOrigins) == 0 {
		bad("COSYNC_CORS_ORIGINS", "must list at least one origin (or *)")
	}
	if c.ShutdownWait <= 0 {
		bad("COSYNC_SHUTDOWN_TIMEOUT", "must be positive")
	}
	if c.ShutdownDelay < 0 {
		bad("COSYNC_SHUTDOWN_DELAY", "must not be negative")
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil || port == "" {
			bad("COSYNC_METRICS_ADDR", "%q is not host:port", c.MetricsAddr)
		} else if c.MetricsAddr == c.Addr {
			bad("COSYNC_METRICS_ADDR", "%q is COSYNC_ADDR too; use another port, or COSYNC_METRICS_TOKEN to serve /metrics on the main port", c.MetricsAddr)
		}
	}
	if c.Pprof && c.MetricsAddr == "" {
		bad("COSYNC_PPROF", "needs COSYNC_METRICS_ADDR: profiles are served only on the separate metrics listener, never on the public port")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("COSYNC_METRICS_TOKEN", "is %d characters; use at least 16 (e.g. openssl rand -hex 16)", len(c.MetricsToken))
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("OTEL_EXPORTER_OTLP_ENDPOINT", "%q must be an absolute http(s) URL (OTLP over HTTP, e.g. http://collector:4318)", c.OTLPEndpoint)
		}
	}
	for _, t := range []struct {
		env string
		d   time.Duration
	}{{"COSYNC_READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"COSYNC_READ_TIMEOUT", c.ReadTimeout}, {"COSYNC_IDLE_TIMEOUT", c.IdleTimeout}} {
		if t.d <= 0 {
			bad(t.env, "must be positive")
		}
	}
	if c.ReadHeaderTimeout > c.ReadTimeout && c.ReadTimeout > 0 {
		bad("COSYNC_READ_HEADER_TIMEOUT", "%s is longer than COSYNC_READ_TIMEOUT (%s), which covers the headers too", c.ReadHeaderTimeout, c.ReadTimeout)
	}
	if c.MaxExpensiveCalls < 1 {
		bad("COSYNC_MAX_EXPENSIVE_CALLS", "%d must be at least 1", c.MaxExpensiveCalls)
	}
	if c.Argon2MemoryKiB < 19456 {
		bad("COSYNC_ARGON2_MEMORY_KIB", "%d is below the OWASP minimum of 19456", c.Argon2MemoryKiB)
	}
	if c.Argon2Iterations < 2 {
		bad("COSYNC_ARGON2_ITERATIONS", "%d is below the minimum of 2", c.Argon2Iterations)
	}
	if c.Argon2Parallelism < 1 || c.Argon2Parallelism > 255 {
		bad("COSYNC_ARGON2_PARALLELISM", "%d must be between 1 and 255", c.Argon2Parallelism)
	}
	if c.HashConcurrency < 1 {
		bad("COSYNC_HASH_CONCURRENCY", "%d must be at least 1", c.HashConcurrency)
	}
	for _, s := range []struct{ env, url string }{{"COSYNC_APPLE_JWKS_URL", c.AppleJWKSURL}, {"COSYNC_GOOGLE_JWKS_URL", c.GoogleJWKSURL}} {
		if u, err := url.Parse(s.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(s.env, "%q must be an absolute http(s) URL", s.url)
		}
	}
	if strings.TrimSpace(c.AppleIssuer) == "" {
		bad("COSYNC_APPLE_ISSUER", "must not be empty")
	}
	if len(c.GoogleIssuers) == 0 {
		bad("COSYNC_GOOGLE_ISSUERS", "must list at least one issuer")
	}
	if c.TwilioAPIURL != "" {
		if u, err := url.Parse(c.TwilioAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("COSYNC_TWILIO_API_URL", "%q must be an absolute http(s) URL", c.TwilioAPIURL)
		}
	}
	if c.TwilioTimeout <= 0 {
		bad("COSYNC_TWILIO_TIMEOUT", "must be positive")
	}
	for _, lim := range []struct {
		env string
		n   int
	}{{"COSYNC_SMS_MAX_PER_NUMBER", c.SMSPerNumber}, {"COSYNC_SMS_MAX_PER_IP", c.SMSPerIP}, {"COSYNC_SMS_MAX_PER_APP", c.SMSPerApp}} {
		if lim.n < 1 {
			bad(lim.env, "%d must be at least 1", lim.n)
		}
	}
	if c.VaultTimeout <= 0 {
		bad("COSYNC_VAULT_TIMEOUT", "must be positive")
	}
	return errs
}

// setRateLimits parses COSYNC_RATE_LIMITS: name=limit/window, comma-separated,
// each a known rule (identity.DefaultLimits) named once.
func (c *Config) setRateLimits(v string) error {
	c.RateLimits = nil
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, spec, ok := strings.Cut(item, "=")
		n, w, ok2 := strings.Cut(spec, "/")
		if !ok || !ok2 {
			return fmt.Errorf("%q is not name=limit/window like login:ip=60/10m", item)
		}
		r := identity.LimitRule{Name: strings.TrimSpace(name)}
		var err error
		if r.Limit, err = strconv.Atoi(strings.TrimSpace(n)); err != nil {
			return fmt.Errorf("%q: %q is not a whole number", item, n)
		}
		if r.Window, err = time.ParseDuration(strings.TrimSpace(w)); err != nil {
			return fmt.Errorf("%q: %q is not a duration like 10m", item, w)
		}
		if err := identity.CheckLimit(r, identity.KnownLimit); err != nil {
			return fmt.Errorf("%q: %w", item, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("%q is set twice", r.Name)
		}
		seen[r.Name] = true
		c.RateLimits = append(c.RateLimits, r)
	}
	return nil
}

// validateVault checks the settings COSYNC_SIGNER=vault needs: an address,
// and a token or an AppRole role id and secret id (not both).
func (c *Config) validateVault(bad func(env, format string, args ...any)) {
	if c.VaultAddr == "" {
		bad("VAULT_ADDR", "is required with COSYNC_SIGNER=vault (e.g. https://vault.internal:8200)")
	} else if u, err := url.Parse(c.VaultAddr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("VAULT_ADDR", "%q must be an absolute http(s) URL", c.VaultAddr)
	}
	appRole := c.VaultRoleID != "" || c.VaultSecretID != ""
	switch {
	case c.VaultToken != "" && appRole:
		bad("VAULT_TOKEN", "set VAULT_TOKEN or VAULT_ROLE_ID and VAULT_SECRET_ID, not both")
	case c.VaultToken == "" && !appRole:
		bad("VAULT_TOKEN", "is required with COSYNC_SIGNER=vault (or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole)")
	case appRole && c.VaultRoleID == "":
		bad("VAULT_ROLE_ID", "is required with VAULT_SECRET_ID")
	case appRole && c.VaultSecretID == "":
		bad("VAULT_SECRET_ID", "is required with VAULT_ROLE_ID")
	}
	if strings.Trim(c.VaultTransitMount, "/") == "" {
		bad("COSYNC_VAULT_TRANSIT_MOUNT", "must not be empty")
	}
}

// MasterKeyPath is where the local master key lives when COSYNC_MASTER_KEY is empty.
func (c Config) MasterKeyPath() string { return filepath.Join(c.DataDir, "master.key") }

// Environ is os.LookupEnv, named for Load's callers.
func Environ(key string) (string, bool) { return os.LookupEnv(key) }
