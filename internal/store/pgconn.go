package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun/driver/pgdriver"
)

// pgdriver closes a connection whose simple query failed on the wire (a
// timeout, a cancel, a reset), so database/sql drops it. Its prepared
// statements do not: a Bind/Execute cut short by a deadline (a client that
// went away cancels its query that way) leaves the connection in the pool
// with the rest of the answer unread, and the next query there reads that
// answer as its own. Seen here under load as "unexpected message '2'" (a
// stale BindComplete); with one prepared statement run twice, the second
// caller would read the first caller's row. guardedConnector closes such a
// connection instead: any error from preparing or running a statement that
// is not Postgres' own error answer (which pgdriver reads to its end) means
// the stream's position is unknown.

// guardedConnector is pgdriver's connector whose connections' prepared
// statements close the connection on a broken exchange. Driver is
// pgdriver's, so pgdriver.NewListener still finds its connector and opens
// its own, unwrapped connections.
type guardedConnector struct{ *pgdriver.Connector }

func (c guardedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	cn, ok := dc.(*pgdriver.Conn)
	if !ok { // pgdriver's connector makes nothing else
		return dc, nil
	}
	return &guardedConn{Conn: cn}, nil
}

// guardedConn is a pgdriver connection with guarded statements; every
// other method is pgdriver's.
type guardedConn struct {
	*pgdriver.Conn
	closed atomic.Bool // broken closed it: its statements are gone with it
}

func (c *guardedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *guardedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.broken(err)
	}
	return guardedStmt{Stmt: st, conn: c}, nil
}

// broken closes the connection unless err is Postgres' own answer, and
// returns err. A closed pgdriver connection reports itself invalid, so
// database/sql drops it instead of pooling it.
func (c *guardedConn) broken(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('V') == "FATAL" || pgErr.Field('V') == "PANIC" {
		c.closed.Store(true)
		_ = c.Close()
	}
	return err
}

// guardedStmt is a pgdriver statement that closes its connection when an
// exchange breaks.
type guardedStmt struct {
	driver.Stmt
	conn *guardedConn
}

// Close deallocates the statement, unless its connection is closed: then
// there is nothing to deallocate, and no wire to say it on.
func (s guardedStmt) Close() error {
	if s.conn.closed.Load() {
		return nil
	}
	return s.Stmt.Close()
}

func (s guardedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		return nil, s.conn.broken(err)
	}
	return res, nil
}

func (s guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, s.conn.broken(err)
	}
	return rows, nil
}

// pgdriver prints a few events (a write on a connection a deadline already
// cut, a listener's full buffer) to stderr on its own. routeDriverLog sends
// them to the server's log instead, once per process (pgdriver has one
// logger): a cut-off write is routine when clients cancel, so it is a debug
// line; anything else a warning.
var routeDriverLogOnce sync.Once

func routeDriverLog(log *slog.Logger) {
	routeDriverLogOnce.Do(func() { pgdriver.Logger = driverLog{log} })
}

type driverLog struct{ log *slog.Logger }

func (l driverLog) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "pgdriver: ")
	level := slog.LevelWarn
	if strings.Contains(msg, "Conn.Write failed") {
		level = slog.LevelDebug
	}
	l.log.Log(ctx, level, "pgdriver: "+msg)
}
