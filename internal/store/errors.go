package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// wrap translates a database error into an *apperr.Error for op. An error
// that already is one (from an InTx callback) passes through unchanged.
func wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op)
	}
	return apperr.Wrap(err, kindOf(err, apperr.Internal), op)
}

// errNoRow is the cause of a NotFound: callers test the kind, and
// sql.ErrNoRows stays inside the package.
var errNoRow = errors.New("no such row")

// oneRow is the error of a write that must have changed one row: the
// translated err, or NotFound when it changed none.
func oneRow(res sql.Result, err error, op string) error {
	if err != nil {
		return wrap(err, op)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(err, op)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// notFound is the NotFound error of op.
func notFound(op string) error {
	return apperr.Wrap(errNoRow, apperr.NotFound, op)
}

// changed reports whether a write changed any row.
func changed(res sql.Result, err error, op string) (bool, error) {
	if err != nil {
		return false, wrap(err, op)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrap(err, op)
	}
	return n > 0, nil
}

// kindOf classifies a database error; fallback is the kind of an error
// that is none of the known ones.
func kindOf(err error, fallback apperr.Kind) apperr.Kind {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgKind(pgErr.Field('C'))
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqliteKind(sqErr.Code())
	}
	// The database did not answer in time: a hot path's query_timeout,
	// or the wait for a pooled connection. (When the request's own
	// deadline passed, the RPC layer answers deadline_exceeded instead.)
	if connectionLost(err) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Unavailable
	}
	return fallback
}

// pgKind classifies a Postgres SQLSTATE.
func pgKind(code string) apperr.Kind {
	switch {
	case code == "23505": // unique_violation
		return apperr.Exists
	case code == "23503": // foreign_key_violation: the row referred to is missing
		return apperr.NotFound
	case strings.HasPrefix(code, "08"), // connection exception
		code == "53300",                  // too_many_connections
		code == "57P01", code == "57P02", // admin or crash shutdown
		code == "57P03",                  // cannot_connect_now (starting up)
		code == "57014",                  // query_canceled (statement timeout, cancel)
		code == "40001", code == "40P01": // serialization failure, deadlock: retry
		return apperr.Unavailable
	}
	return apperr.Internal
}

// sqliteKind classifies a SQLite extended result code.
func sqliteKind(code int) apperr.Kind {
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return apperr.Exists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return apperr.NotFound
	}
	switch code & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_CANTOPEN:
		return apperr.Unavailable
	}
	return apperr.Internal
}

// connectionLost reports whether err means the database could not be
// reached or the caller gave up waiting for it.
func connectionLost(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &netErr)
}
