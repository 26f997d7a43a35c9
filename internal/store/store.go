// Package store persists CoSync Auth in a SQL database through bun: Postgres
// in production (several replicas share it) and SQLite for the embedded
// default. It implements identity.Store, keys.Store and notify.OutboxStore.
//
// Rows are not messages: every table has a private bun model that is
// converted explicitly to and from the domain types. Every query is scoped by
// application. Times are stored in UTC with microsecond precision, and a zero
// time.Time is stored as NULL. Errors are *apperr.Error: NotFound for a
// missing row (sql.ErrNoRows never escapes), Exists for a unique violation,
// Unavailable when the database cannot be reached, Internal otherwise.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/notify"
)

var (
	_ identity.Store     = (*Store)(nil)
	_ keys.Store         = (*Store)(nil)
	_ notify.OutboxStore = (*Store)(nil)
)

// The dialect names Dialect returns.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Store is the database. It is safe for concurrent use. A Store handed to
// an InTx callback runs every call in that transaction.
type Store struct {
	db      *bun.DB
	idb     bun.IDB // db, or the transaction of an InTx callback
	inTx    bool
	dialect string
	log     *slog.Logger
	cache   *cache     // shared with the transaction Stores (cache.go)
	stmts   *stmtCache // the hot paths' prepared statements, shared likewise (prepared.go)
	// queryTimeout bounds each hot-path statement (the URL's query_timeout;
	// 0: unbounded): a Postgres that stops answering is Unavailable after
	// it, rather than holding requests and pooled connections.
	queryTimeout time.Duration
	pending      *[]change // in a transaction: changes to apply after commit
	// rotations batches RotateRefreshToken's statements on Postgres
	// (batch.go); nil on SQLite, whose one writer gains nothing.
	rotations *batcher[rotation, bool]
	// refreshReads batches FindRefreshSession's reads likewise.
	refreshReads *batcher[refreshLookup, *refreshSessionRow]
}

// sqliteDefaults are the connection parameters every SQLite connection gets
// unless the URL sets them: foreign keys enforced (the cascades rely on it),
// a generous busy timeout so concurrent writers queue instead of failing,
// WAL so readers never block the writer, and immediate transactions so two
// transactions never deadlock upgrading a read lock to a write lock.
var sqliteDefaults = []struct{ key, pragma, value string }{
	{"_pragma", "foreign_keys", "foreign_keys(1)"},
	{"_pragma", "busy_timeout", "busy_timeout(10000)"},
	{"_pragma", "journal_mode", "journal_mode(WAL)"},
	{"_txlock", "", "immediate"},
}

// Open connects to the database named by databaseURL and checks that it
// answers. A URL with the scheme postgres:// or postgresql:// is Postgres;
// anything else is a SQLite file: sqlite:///abs/path.db, sqlite://rel.db,
// a file: URI or a bare path, whose parent directory Open creates. Open does
// not migrate; call Migrate. A nil log discards the log lines.
//
// A Postgres pool keeps at most 4 connections per CPU (at least 8); the
// URL parameter pool_max_conns sets another limit. A connection idle for
// five minutes is closed (pool_max_idle_time, a Go duration, sets another).
// The hot paths run as prepared statements; prepared_statements=false
// turns them off for a pooler in transaction mode (prepared.go). Each of
// their statements gives up after query_timeout (a Go duration, default
// 5s; 0: never), so a Postgres that hangs answers Unavailable. Without sslmode in the
// URL the driver insists on TLS but does not verify the server: set
// sslmode=verify-full in production, or sslmode=disable on a trusted host.
//
// Errors are one line naming the database, never its password.
func Open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		db         *bun.DB
		name       string // how errors name the database
		dialect    = SQLite
		unprepared = true
		timeout    time.Duration
		err        error
	)
	if isPostgres(databaseURL) {
		dialect = Postgres
		routeDriverLog(log)
		db, name, unprepared, timeout, err = openPostgres(databaseURL)
	} else {
		db, name, err = openSQLite(databaseURL)
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, "store.Open")
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, apperr.Wrap(fmt.Errorf("%s: %w", name, err), kindOf(err, apperr.Unavailable), "store.Open")
	}
	// A Postgres Store caches once its listener runs (Listen); SQLite is
	// one process, and every change goes through this Store.
	s := &Store{db: db, idb: db, dialect: dialect, log: log, cache: newCache(dialect == SQLite), stmts: newStmtCache(db.DB, unprepared), queryTimeout: timeout}
	if dialect == Postgres {
		s.refreshReads = newBatcher(1, s.findRefreshSessions, nil)
		s.rotations = newBatcher(1, s.rotate, rotation.key)
	}
	log.DebugContext(ctx, "store: opened", "database", name)
	return s, nil
}

func isPostgres(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")
}

func openPostgres(databaseURL string) (db *bun.DB, name string, unprepared bool, queryTimeout time.Duration, err error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", false, 0, fmt.Errorf("postgres database URL: %w", err)
	}
	name = fmt.Sprintf("postgres database %q at %s", strings.TrimPrefix(u.Path, "/"), u.Host)
	maxConns := max(4*runtime.GOMAXPROCS(0), 8)
	q := u.Query()
	if v := q.Get("pool_max_conns"); v != "" {
		// Ours, not the server's: pgdriver would send it as a SET.
		if maxConns, err = strconv.Atoi(v); err != nil || maxConns < 2 {
			return nil, "", false, 0, fmt.Errorf("%s: pool_max_conns=%q is not a number of connections (at least 2)", name, v)
		}
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	maxIdleTime := 5 * time.Minute
	if v := q.Get("pool_max_idle_time"); v != "" {
		// Ours too: pgdriver would send it to the server as a setting.
		if maxIdleTime, err = time.ParseDuration(v); err != nil || maxIdleTime <= 0 {
			return nil, "", false, 0, fmt.Errorf("%s: pool_max_idle_time=%q is not a positive duration such as 30s", name, v)
		}
		q.Del("pool_max_idle_time")
		u.RawQuery = q.Encode()
	}
	queryTimeout = 5 * time.Second
	if v := q.Get("query_timeout"); v != "" {
		// Ours as well: the bound of each hot-path statement (hot).
		if queryTimeout, err = time.ParseDuration(v); err != nil || queryTimeout < 0 {
			return nil, "", false, 0, fmt.Errorf("%s: query_timeout=%q is not a duration such as 5s (0: none)", name, v)
		}
		q.Del("query_timeout")
		u.RawQuery = q.Encode()
	}
	if v := q.Get("prepared_statements"); v != "" {
		// Ours as well (prepared.go).
		prepared, perr := strconv.ParseBool(v)
		if perr != nil {
			return nil, "", false, 0, fmt.Errorf("%s: prepared_statements=%q is not true or false", name, v)
		}
		unprepared = !prepared
		q.Del("prepared_statements")
		u.RawQuery = q.Encode()
	}
	// pgdriver.WithDSN panics on a URL it cannot use (bad sslmode, an
	// unreadable sslrootcert); turn that into an error.
	var connector *pgdriver.Connector
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%s: bad URL: %v", name, r)
			}
		}()
		// The URL's application_name, if any, overrides ours.
		connector = pgdriver.NewConnector(pgdriver.WithApplicationName("cosync-auth"), pgdriver.WithDSN(u.String()))
	}()
	if err != nil {
		return nil, "", false, 0, err
	}
	sqldb := sql.OpenDB(guardedConnector{connector}) // pgconn.go
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(maxIdleTime)
	return bun.NewDB(sqldb, pgdialect.New()), name, unprepared, queryTimeout, nil
}

func openSQLite(databaseURL string) (db *bun.DB, name string, err error) {
	path, query, err := sqlitePath(databaseURL)
	if err != nil {
		return nil, "", err
	}
	name = fmt.Sprintf("sqlite database %q", path)
	if path == "" || path == ":memory:" || query.Get("mode") == "memory" {
		// Each pooled connection would get its own empty database.
		return nil, "", fmt.Errorf("%s: an in-memory database is not supported; name a file", name)
	}
	if err := createFile(path); err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	for _, d := range sqliteDefaults {
		if !hasParam(query, d.key, d.pragma) {
			query.Add(d.key, d.value)
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query.Encode()
	sqldb, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), name, nil
}

// sqlitePath splits a SQLite URL into a file path and its query parameters.
func sqlitePath(databaseURL string) (string, url.Values, error) {
	rest, rawQuery, _ := strings.Cut(databaseURL, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite database URL: bad query: %w", err)
	}
	switch {
	case strings.HasPrefix(rest, "sqlite:"):
		// sqlite:///abs/path.db is absolute, sqlite://rel.db relative.
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "sqlite:"), "//")
	case strings.HasPrefix(rest, "file:"):
		rest = strings.TrimPrefix(rest, "file:")
		if auth, ok := strings.CutPrefix(rest, "//"); ok {
			// file://host/abs/path: SQLite accepts only an empty host or localhost.
			host, p, _ := strings.Cut(auth, "/")
			if host != "" && host != "localhost" {
				return "", nil, fmt.Errorf("sqlite database URL: file URI with host %q", host)
			}
			rest = "/" + p
		}
		unescaped, err := url.PathUnescape(rest)
		if err != nil {
			return "", nil, fmt.Errorf("sqlite database URL: %w", err)
		}
		rest = unescaped
	}
	return rest, query, nil
}

// hasParam reports whether query sets key (for _pragma: the pragma named).
func hasParam(query url.Values, key, pragma string) bool {
	if pragma == "" {
		return query.Has(key)
	}
	for _, v := range query[key] {
		if n, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "("); strings.TrimSpace(n) == pragma {
			return true
		}
	}
	return false
}

// createFile creates the database file and its directory when they are
// missing, readable by the owner only: the database holds password hashes
// and sealed keys. SQLite gives its -wal and -shm files the same mode.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Close closes the database. Calling it on a Store inside InTx is an error.
func (s *Store) Close() error {
	if s.inTx {
		return apperr.Wrap(errors.New("Close inside a transaction"), apperr.Internal, "store.Close")
	}
	return errors.Join(s.stmts.close(), s.db.Close())
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap(s.db.PingContext(ctx), "store.Ping")
}

// InTx runs fn in one transaction and commits when fn returns nil. The
// Store fn gets (an identity.Store whose dynamic type is *Store) runs every
// call in the transaction; InTx on it runs fn in that same transaction. An
// error from fn is returned unchanged, after the rollback.
//
// On Postgres the transaction is READ COMMITTED: its writes are atomic but
// a read-modify-write inside it can race; races are settled by the
// single-statement methods (SpendCodeAttempt, ConsumeCode, …). On SQLite
// the transaction takes the write lock when it begins, serializing it with
// every other writer, so keep it short.
func (s *Store) InTx(ctx context.Context, fn func(tx identity.Store) error) error {
	if s.inTx {
		return fn(s)
	}
	var fnErr error
	var pending []change
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		pending = pending[:0] // a retried transaction starts over
		fnErr = fn(&Store{db: s.db, idb: tx, inTx: true, dialect: s.dialect, log: s.log, cache: s.cache, stmts: s.stmts, queryTimeout: s.queryTimeout, pending: &pending})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return wrap(err, "store.InTx")
	}
	for _, c := range pending {
		s.cache.apply(c.kind, c.id)
	}
	return nil
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// ObserveQueries calls fn with the text of every statement the store runs,
// after it ran, including those inside transactions. It is for tests that
// count round trips (that two paths of a flow cost the same); call it before
// the store is used concurrently. fn must be safe for concurrent use.
func (s *Store) ObserveQueries(fn func(query string)) {
	s.db.AddQueryHook(queryObserver(fn))
}

type queryObserver func(query string)

func (queryObserver) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (f queryObserver) AfterQuery(_ context.Context, e *bun.QueryEvent) { f(e.Query) }
