package config_test

import (
	"flag"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// load runs config.Load over a fake environment and args.
func load(tb testing.TB, env map[string]string, args ...string) (config.Config, error) {
	tb.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, args, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
}

// badVars returns the variable named at the start of each line of err.
func badVars(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		name, _, _ := strings.Cut(line, ":")
		out = append(out, name)
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatalf("Load(no settings) = %v, want nil", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, "127.0.0.1:8080"},
		{"PublicURL", c.PublicURL, "http://localhost:8080"},
		{"DataDir", c.DataDir, "./var"},
		{"DatabaseURL", c.DatabaseURL, "sqlite://" + filepath.Join("./var", "cosync.db")},
		{"Signer", c.Signer, "local"},
		{"MasterKey", c.MasterKey, ""},
		{"SMTPURL", c.SMTPURL, ""},
		{"MailFrom", c.MailFrom, "CoSync Auth <no-reply@localhost>"},
		{"CORSOrigins", strings.Join(c.CORSOrigins, ","), "*"},
		{"TrustProxy", c.TrustProxy, false},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "json"},
		{"ShutdownWait", c.ShutdownWait, 15 * time.Second},
		{"ShutdownDelay", c.ShutdownDelay, time.Duration(0)},
		{"Argon2MemoryKiB", c.Argon2MemoryKiB, 19456},
		{"Argon2Iterations", c.Argon2Iterations, 2},
		{"Argon2Parallelism", c.Argon2Parallelism, 1},
		{"HashConcurrency", c.HashConcurrency, runtime.NumCPU()},
		{"ReadHeaderTimeout", c.ReadHeaderTimeout, 10 * time.Second},
		{"ReadTimeout", c.ReadTimeout, 30 * time.Second},
		{"IdleTimeout", c.IdleTimeout, 2 * time.Minute},
		{"MaxExpensiveCalls", c.MaxExpensiveCalls, 8 * runtime.NumCPU()},
		{"VaultTransitMount", c.VaultTransitMount, "transit"},
		{"MasterKeyPath", c.MasterKeyPath(), filepath.Join("./var", "master.key")},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("Load(no settings).%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		get  func(config.Config) any
		want any
	}{
		{
			name: "public URL loses its trailing slash",
			env:  map[string]string{"COSYNC_PUBLIC_URL": "https://auth.example.com/"},
			get:  func(c config.Config) any { return c.PublicURL },
			want: "https://auth.example.com",
		},
		{
			name: "public URL loses every trailing slash",
			env:  map[string]string{"COSYNC_PUBLIC_URL": "https://auth.example.com/base///"},
			get:  func(c config.Config) any { return c.PublicURL },
			want: "https://auth.example.com/base",
		},
		{
			name: "database defaults to SQLite in the data dir",
			env:  map[string]string{"COSYNC_DATA_DIR": dir},
			get:  func(c config.Config) any { return c.DatabaseURL },
			want: "sqlite://" + filepath.Join(dir, "cosync.db"),
		},
		{
			name: "an explicit database URL is kept",
			env:  map[string]string{"COSYNC_DATABASE_URL": "postgres://u@db:5432/auth"},
			get:  func(c config.Config) any { return c.DatabaseURL },
			want: "postgres://u@db:5432/auth",
		},
		{
			name: "env sets a value",
			env:  map[string]string{"COSYNC_ADDR": "0.0.0.0:9000"},
			get:  func(c config.Config) any { return c.Addr },
			want: "0.0.0.0:9000",
		},
		{
			name: "flag overrides its env var",
			env:  map[string]string{"COSYNC_ADDR": "0.0.0.0:9000"},
			args: []string{"-addr", "127.0.0.1:9999"},
			get:  func(c config.Config) any { return c.Addr },
			want: "127.0.0.1:9999",
		},
		{
			name: "flag overrides a numeric env var",
			env:  map[string]string{"COSYNC_ARGON2_MEMORY_KIB": "not a number"},
			args: []string{"--argon2-memory-kib=65536"},
			get:  func(c config.Config) any { return c.Argon2MemoryKiB },
			want: 65536,
		},
		{
			name: "CORS origins are split and trimmed",
			env:  map[string]string{"COSYNC_CORS_ORIGINS": " https://a.example , https://b.example,,"},
			get:  func(c config.Config) any { return strings.Join(c.CORSOrigins, "|") },
			want: "https://a.example|https://b.example",
		},
		{
			name: "trust proxy",
			env:  map[string]string{"COSYNC_TRUST_PROXY": "true"},
			get:  func(c config.Config) any { return c.TrustProxy },
			want: true,
		},
		{
			name: "shutdown timeout",
			env:  map[string]string{"COSYNC_SHUTDOWN_TIMEOUT": "1m30s"},
			get:  func(c config.Config) any { return c.ShutdownWait },
			want: 90 * time.Second,
		},
		{
			name: "shutdown delay",
			env:  map[string]string{"COSYNC_SHUTDOWN_DELAY": "5s"},
			get:  func(c config.Config) any { return c.ShutdownDelay },
			want: 5 * time.Second,
		},
		{
			name: "read timeout",
			env:  map[string]string{"COSYNC_READ_TIMEOUT": "20s"},
			get:  func(c config.Config) any { return c.ReadTimeout },
			want: 20 * time.Second,
		},
		{
			name: "expensive call cap",
			env:  map[string]string{"COSYNC_MAX_EXPENSIVE_CALLS": "3"},
			get:  func(c config.Config) any { return c.MaxExpensiveCalls },
			want: 3,
		},
		{
			name: "valid SMTP URL",
			env:  map[string]string{"COSYNC_SMTP_URL": "smtps://user:pw@mail.example.com:465"},
			get:  func(c config.Config) any { return c.SMTPURL },
			want: "smtps://user:pw@mail.example.com:465",
		},
		{
			name: "vault signer with a token",
			env:  map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "https://vault.internal:8200", "VAULT_TOKEN": "hvs.x"},
			get:  func(c config.Config) any { return c.Signer + " " + c.VaultAddr + " " + c.VaultTransitMount },
			want: "vault https://vault.internal:8200 transit",
		},
		{
			name: "vault signer with AppRole",
			env:  map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"},
			get:  func(c config.Config) any { return c.VaultRoleID + "/" + c.VaultSecretID },
			want: "r/s",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tc.env, tc.args...)
			if err != nil {
				t.Fatalf("Load(%v, %q) = %v, want nil", tc.env, tc.args, err)
			}
			if got := tc.get(c); got != tc.want {
				t.Errorf("Load(%v, %q) = %v, want %v", tc.env, tc.args, got, tc.want)
			}
		})
	}
}

// TestLoadRateLimits: COSYNC_RATE_LIMITS (or --rate-limits) lists rules
// as name=limit/window; unset, none (the built-in defaults hold).
func TestLoadRateLimits(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{"COSYNC_RATE_LIMITS": " login:ip=600/10m, apps:developer=5/24h ,"})
	if err != nil {
		t.Fatalf("Load(COSYNC_RATE_LIMITS) = %v", err)
	}
	want := []identity.LimitRule{{Name: "login:ip", Limit: 600, Window: 10 * time.Minute}, {Name: "apps:developer", Limit: 5, Window: 24 * time.Hour}}
	if !slices.Equal(c.RateLimits, want) {
		t.Errorf("RateLimits = %+v, want %+v", c.RateLimits, want)
	}
	c, err = load(t, nil, "-rate-limits", "signup:ip=3000/1h")
	if err != nil || len(c.RateLimits) != 1 || c.RateLimits[0].Limit != 3000 {
		t.Errorf("Load(--rate-limits signup:ip=3000/1h) = %+v, %v", c.RateLimits, err)
	}
	c, err = load(t, nil)
	if err != nil || c.RateLimits != nil || c.VaultTimeout != 2*time.Second {
		t.Errorf("Load() RateLimits, VaultTimeout = %+v, %s, %v; want none, 2s", c.RateLimits, c.VaultTimeout, err)
	}
}

func TestLoadBadSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // the variable the error must name
	}{
		{"addr without port", map[string]string{"COSYNC_ADDR": "localhost"}, nil, "COSYNC_ADDR"},
		{"read timeout not a duration", map[string]string{"COSYNC_READ_TIMEOUT": "30"}, nil, "COSYNC_READ_TIMEOUT"},
		{"idle timeout zero", map[string]string{"COSYNC_IDLE_TIMEOUT": "0s"}, nil, "COSYNC_IDLE_TIMEOUT"},
		{"header timeout past the read timeout", map[string]string{"COSYNC_READ_HEADER_TIMEOUT": "1m"}, nil, "COSYNC_READ_HEADER_TIMEOUT"},
		{"no expensive calls", map[string]string{"COSYNC_MAX_EXPENSIVE_CALLS": "0"}, nil, "COSYNC_MAX_EXPENSIVE_CALLS"},
		{"addr with empty port", map[string]string{"COSYNC_ADDR": "localhost:"}, nil, "COSYNC_ADDR"},
		{"addr by flag", nil, []string{"-addr", "nope"}, "COSYNC_ADDR"},
		{"public URL not http", map[string]string{"COSYNC_PUBLIC_URL": "ftp://auth.example.com"}, nil, "COSYNC_PUBLIC_URL"},
		{"public URL relative", map[string]string{"COSYNC_PUBLIC_URL": "/auth"}, nil, "COSYNC_PUBLIC_URL"},
		{"public URL with query", map[string]string{"COSYNC_PUBLIC_URL": "https://auth.example.com/?x=1"}, nil, "COSYNC_PUBLIC_URL"},
		{"empty data dir", map[string]string{"COSYNC_DATA_DIR": ""}, nil, "COSYNC_DATA_DIR"},
		{"database scheme", map[string]string{"COSYNC_DATABASE_URL": "mysql://db/auth"}, nil, "COSYNC_DATABASE_URL"},
		{"unknown signer", map[string]string{"COSYNC_SIGNER": "hsm"}, nil, "COSYNC_SIGNER"},
		{"vault without address", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_TOKEN": "t"}, nil, "VAULT_ADDR"},
		{"vault address not a URL", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "vault:8200", "VAULT_TOKEN": "t"}, nil, "VAULT_ADDR"},
		{"vault without credentials", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://127.0.0.1:8200"}, nil, "VAULT_TOKEN"},
		{"vault token and approle", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://v:8200", "VAULT_TOKEN": "t", "VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}, nil, "VAULT_TOKEN"},
		{"vault role without secret", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://v:8200", "VAULT_ROLE_ID": "r"}, nil, "VAULT_SECRET_ID"},
		{"vault secret without role", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://v:8200", "VAULT_SECRET_ID": "s"}, nil, "VAULT_ROLE_ID"},
		{"vault empty transit mount", map[string]string{"COSYNC_SIGNER": "vault", "VAULT_ADDR": "http://v:8200", "VAULT_TOKEN": "t", "COSYNC_VAULT_TRANSIT_MOUNT": "/"}, nil, "COSYNC_VAULT_TRANSIT_MOUNT"},
		{"SMTP URL scheme", map[string]string{"COSYNC_SMTP_URL": "http://mail.example.com"}, nil, "COSYNC_SMTP_URL"},
		{"SMTP URL without host", map[string]string{"COSYNC_SMTP_URL": "smtp://"}, nil, "COSYNC_SMTP_URL"},
		{"log level", map[string]string{"COSYNC_LOG_LEVEL": "loud"}, nil, "COSYNC_LOG_LEVEL"},
		{"log format", map[string]string{"COSYNC_LOG_FORMAT": "xml"}, nil, "COSYNC_LOG_FORMAT"},
		{"no CORS origins", map[string]string{"COSYNC_CORS_ORIGINS": " , "}, nil, "COSYNC_CORS_ORIGINS"},
		{"trust proxy not a bool", map[string]string{"COSYNC_TRUST_PROXY": "maybe"}, nil, "COSYNC_TRUST_PROXY"},
		{"bad duration", map[string]string{"COSYNC_SHUTDOWN_TIMEOUT": "15"}, nil, "COSYNC_SHUTDOWN_TIMEOUT"},
		{"zero duration", map[string]string{"COSYNC_SHUTDOWN_TIMEOUT": "0s"}, nil, "COSYNC_SHUTDOWN_TIMEOUT"},
		{"negative shutdown delay", map[string]string{"COSYNC_SHUTDOWN_DELAY": "-1s"}, nil, "COSYNC_SHUTDOWN_DELAY"},
		{"argon2 memory below minimum", map[string]string{"COSYNC_ARGON2_MEMORY_KIB": "19455"}, nil, "COSYNC_ARGON2_MEMORY_KIB"},
		{"argon2 memory not numeric", map[string]string{"COSYNC_ARGON2_MEMORY_KIB": "19MiB"}, nil, "COSYNC_ARGON2_MEMORY_KIB"},
		{"argon2 iterations below minimum", map[string]string{"COSYNC_ARGON2_ITERATIONS": "1"}, nil, "COSYNC_ARGON2_ITERATIONS"},
		{"argon2 parallelism zero", map[string]string{"COSYNC_ARGON2_PARALLELISM": "0"}, nil, "COSYNC_ARGON2_PARALLELISM"},
		{"argon2 parallelism too high", map[string]string{"COSYNC_ARGON2_PARALLELISM": "256"}, nil, "COSYNC_ARGON2_PARALLELISM"},
		{"hash concurrency not numeric", map[string]string{"COSYNC_HASH_CONCURRENCY": "many"}, nil, "COSYNC_HASH_CONCURRENCY"},
		{"hash concurrency zero", map[string]string{"COSYNC_HASH_CONCURRENCY": "0"}, nil, "COSYNC_HASH_CONCURRENCY"},
		{"vault timeout zero", map[string]string{"COSYNC_VAULT_TIMEOUT": "0s"}, nil, "COSYNC_VAULT_TIMEOUT"},
		{"rate limit unknown rule", map[string]string{"COSYNC_RATE_LIMITS": "login:ip=60/10m,logn:ip=5/1m"}, nil, "COSYNC_RATE_LIMITS"},
		{"rate limit lockout", map[string]string{"COSYNC_RATE_LIMITS": "login:lock=5/1m"}, nil, "COSYNC_RATE_LIMITS"},
		{"rate limit without window", map[string]string{"COSYNC_RATE_LIMITS": "login:ip=60"}, nil, "COSYNC_RATE_LIMITS"},
		{"rate limit bad window", map[string]string{"COSYNC_RATE_LIMITS": "login:ip=60/10"}, nil, "COSYNC_RATE_LIMITS"},
		{"rate limit zero", map[string]string{"COSYNC_RATE_LIMITS": "login:ip=0/10m"}, nil, "COSYNC_RATE_LIMITS"},
		{"rate limit twice", map[string]string{"COSYNC_RATE_LIMITS": "login:ip=1/1m,login:ip=2/1m"}, nil, "COSYNC_RATE_LIMITS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env, tc.args...)
			if err == nil {
				t.Fatalf("Load(%v, %q) = nil, want an error naming %s", tc.env, tc.args, tc.want)
			}
			if vars := badVars(err); !slices.Contains(vars, tc.want) {
				t.Errorf("Load(%v, %q) names %q, want %s", tc.env, tc.args, vars, tc.want)
			}
		})
	}
}

// A bad SMTP URL is echoed back at start; its password must not be.
func TestLoadSMTPErrorHidesPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://user:hunter2-secret@mail.example.com",
		"smtp://user:hunter2-secret@[bad",
	} {
		_, err := load(t, map[string]string{"COSYNC_SMTP_URL": raw})
		if err == nil {
			t.Fatalf("Load(COSYNC_SMTP_URL=%q) = nil, want an error", raw)
		}
		if strings.Contains(err.Error(), "hunter2-secret") {
			t.Errorf("Load(COSYNC_SMTP_URL=%q) error repeats the password", raw)
		}
	}
}

func TestLoadUnknownFlag(t *testing.T) {
	t.Parallel()
	if _, err := load(t, nil, "-no-such-flag"); err == nil {
		t.Errorf("Load(-no-such-flag) = nil, want an error")
	}
}

func TestLoadManyBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "validation errors",
			env: map[string]string{
				"COSYNC_ADDR":       "nope",
				"COSYNC_PUBLIC_URL": "ftp://x",
				"COSYNC_SIGNER":     "vault",
				"COSYNC_LOG_LEVEL":  "loud",
			},
			// A vault signer with nothing else set misses two settings, one line each.
			want: []string{"COSYNC_ADDR", "COSYNC_PUBLIC_URL", "VAULT_ADDR", "VAULT_TOKEN", "COSYNC_LOG_LEVEL"},
		},
		{
			name: "parse and validation errors",
			env: map[string]string{
				"COSYNC_TRUST_PROXY":       "maybe",
				"COSYNC_SMTP_URL":          "http://mail.example.com",
				"COSYNC_ARGON2_MEMORY_KIB": "1024",
				"COSYNC_LOG_FORMAT":        "xml",
				"COSYNC_CORS_ORIGINS":      ",",
			},
			want: []string{"COSYNC_TRUST_PROXY", "COSYNC_SMTP_URL", "COSYNC_ARGON2_MEMORY_KIB", "COSYNC_LOG_FORMAT", "COSYNC_CORS_ORIGINS"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env)
			if err == nil {
				t.Fatalf("Load(%v) = nil, want errors naming %q", tc.env, tc.want)
			}
			got := badVars(err)
			if lines := strings.Count(err.Error(), "\n") + 1; lines != len(tc.want) {
				t.Errorf("Load(%v) error has %d lines, want %d:\n%v", tc.env, lines, len(tc.want), err)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("Load(%v) names %q, want %q", tc.env, got, want)
			}
		})
	}
}
