package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// migrationFiles holds one folder of SQL migrations per dialect. Both
// folders hold the same migrations, by name, giving the same tables,
// columns and indexes.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrateLockKey is the Postgres advisory lock that serializes Migrate
// across processes: "cosync" in ASCII.
const migrateLockKey = 0x636f73796e63

// Migrate brings the schema up to date. It is idempotent: with nothing to
// do it changes nothing. On Postgres it holds an advisory lock while it
// works, so replicas starting together migrate once; on SQLite run it from
// one process at a time (the server does so at start).
//
// Each migration runs in one transaction (but for the Postgres ones without
// .tx in their names, which build indexes CONCURRENTLY and are written to
// be retried) and is recorded as applied only after it succeeded, so a
// failed migration is retried on the next start.
func (s *Store) Migrate(ctx context.Context) error {
	const op = "store.Migrate"
	if s.inTx {
		return apperr.Wrap(errors.New("Migrate inside a transaction"), apperr.Internal, op)
	}
	migrations, err := s.migrations()
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	if s.dialect == Postgres {
		unlock, err := s.lockMigrations(ctx)
		if err != nil {
			return wrap(err, op)
		}
		defer unlock()
	}
	m := migrate.NewMigrator(s.db, migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return wrap(fmt.Errorf("creating the migrations table: %w", err), op)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return wrap(err, op)
	}
	if !group.IsZero() {
		s.log.InfoContext(ctx, "store: migrated", "dialect", s.dialect, "applied", group.Migrations.String())
	}
	return nil
}

// migrations returns the migrations of the Store's dialect. bun walks the
// whole FS it is given, so it gets only the dialect's folder.
func (s *Store) migrations() (*migrate.Migrations, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, err
	}
	return ms, nil
}

// lockMigrations takes the migration advisory lock on a connection of its
// own and returns the function that releases it. It polls with
// pg_try_advisory_lock rather than blocking in pg_advisory_lock, so waiting
// for another replica's long migration never trips the driver's read
// timeout, and ctx can stop the wait.
func (s *Store) lockMigrations(ctx context.Context) (unlock func(), err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for {
		var locked bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", int64(migrateLockKey)).Scan(&locked); err != nil {
			conn.Close()
			return nil, fmt.Errorf("taking the migration lock: %w", err)
		}
		if locked {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("waiting for another process's migration: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return func() {
		// Unlock even when ctx is done; closing the connection would also
		// release the lock, but the pool might keep it open.
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", int64(migrateLockKey)); err != nil {
			s.log.WarnContext(ctx, "store: releasing the migration lock", "err", err)
		}
		conn.Close()
	}, nil
}
