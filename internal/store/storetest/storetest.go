// Package storetest gives tests a fresh, migrated store.Store on SQLite or
// on a real Postgres server, and runs a test against both.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cosync/cosync-auth/internal/store"
)

// DefaultPostgresURL is the server Postgres uses when
// COSYNC_TEST_POSTGRES_URL is unset. Its database is where storetest
// connects to create and drop the databases of tests.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// adminConnector connects for CREATE and DROP DATABASE, with socket
// timeouts as long as setupTimeout: pgdriver's 10 s default is too short for
// a DROP ... WITH (FORCE) on a loaded machine.
func adminConnector(serverURL string) *pgdriver.Connector {
	return pgdriver.NewConnector(pgdriver.WithDSN(serverURL),
		pgdriver.WithReadTimeout(setupTimeout), pgdriver.WithWriteTimeout(setupTimeout))
}

// setupTimeout bounds creating, migrating and dropping one database.
const setupTimeout = time.Minute

// Postgres creates a fresh database for tb on the server at
// COSYNC_TEST_POSTGRES_URL (default DefaultPostgresURL), named from the
// test name and a random suffix, migrates it and returns a Store over it.
// Cleanup closes the Store and drops the database. It fails tb, never
// skips it, when the server is unreachable: `make test` guarantees one.
func Postgres(tb testing.TB) *store.Store {
	tb.Helper()
	s := open(tb, EmptyPostgres(tb))
	migrate(tb, s)
	return s
}

// EmptyPostgres creates a fresh, unmigrated database for tb as Postgres
// does and returns its URL, for tests of opening and migrating. Cleanup
// drops it.
func EmptyPostgres(tb testing.TB) string {
	tb.Helper()
	serverURL := os.Getenv("COSYNC_TEST_POSTGRES_URL")
	if serverURL == "" {
		serverURL = DefaultPostgresURL
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		tb.Fatalf("storetest: COSYNC_TEST_POSTGRES_URL: %v", err)
	}
	name := databaseName(tb.Name())

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	admin := sql.OpenDB(adminConnector(serverURL))
	defer admin.Close()
	if err := createDatabase(ctx, admin, name); err != nil {
		tb.Fatalf("storetest: creating a test database on the Postgres server at %s (set COSYNC_TEST_POSTGRES_URL, or run `make test`, which starts one): %v", u.Redacted(), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		admin := sql.OpenDB(adminConnector(serverURL))
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			// A leftover database on a test server is litter, not a failure
			// of the test that used it.
			tb.Logf("storetest: dropping test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	// Many tests hold a store at once (t.Parallel, packages side by side),
	// and a parallel subtest pauses with its store migrated and connected
	// until its parent's sequential part ends: a small pool each, whose idle
	// connections close within a second, keeps them under the server's
	// max_connections.
	q := u.Query()
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", strconv.Itoa(testPoolSize))
	}
	if q.Get("pool_max_idle_time") == "" {
		q.Set("pool_max_idle_time", "1s")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// DriverURL returns databaseURL without the parameters only the store
// reads (pool_max_conns, pool_max_idle_time, prepared_statements), for a test that opens the database with the
// driver itself.
func DriverURL(tb testing.TB, databaseURL string) string {
	tb.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	q := u.Query()
	q.Del("pool_max_conns")
	q.Del("pool_max_idle_time")
	q.Del("prepared_statements")
	u.RawQuery = q.Encode()
	return u.String()
}

// testPoolSize is the pool of each test database's store: enough for the
// races tests run, small enough for many tests on one server.
const testPoolSize = 4

// createDatabase creates name, waiting while the server has no connection
// to spare (SQLSTATE 53300: other tests hold them all for a moment) rather
// than failing the test for it; ctx bounds the wait.
func createDatabase(ctx context.Context, admin *sql.DB, name string) error {
	for {
		_, err := admin.ExecContext(ctx, "CREATE DATABASE "+name)
		var pgErr pgdriver.Error
		if err == nil || !errors.As(err, &pgErr) || pgErr.Field('C') != "53300" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (the server had no connection to spare until then)", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SQLite opens a fresh, migrated database file under tb.TempDir().
// Cleanup closes it.
func SQLite(tb testing.TB) *store.Store {
	tb.Helper()
	s := open(tb, filepath.Join(tb.TempDir(), "cosync.db"))
	migrate(tb, s)
	return s
}

// Each runs fn as two subtests, "sqlite" and "postgres", each with its own
// fresh store. fn may call t.Parallel.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

func open(tb testing.TB, databaseURL string) *store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := store.Open(ctx, databaseURL, nil)
	if err != nil {
		tb.Fatalf("storetest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("storetest: closing the store: %v", err)
		}
	})
	return s
}

func migrate(tb testing.TB, s *store.Store) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("storetest: %v", err)
	}
}

var notIdent = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName turns a test name into a Postgres identifier that needs no
// quoting: "t_" + the name in lower case, cut to fit, + a random suffix.
func databaseName(testName string) string {
	name := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return "t_" + name + "_" + hex.EncodeToString(randomBytes(6))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
