package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/cosync/cosync-auth/internal/identity"
)

// AuditEvents returns the audit events of appID, oldest first. The
// identity.Store interface only writes them; tests read them back here.
func AuditEvents(ctx context.Context, s *Store, appID string) ([]identity.AuditEvent, error) {
	var rows []auditEventRow
	if err := s.idb.NewSelect().Model(&rows).Where("app_id = ?", appID).OrderExpr("occurred_at, id").Scan(ctx); err != nil {
		return nil, err
	}
	events := make([]identity.AuditEvent, len(rows))
	for i, r := range rows {
		e, err := r.auditEvent()
		if err != nil {
			return nil, err
		}
		events[i] = e
	}
	return events, nil
}

// AppliedMigrations returns the names of the migrations recorded as applied.
func AppliedMigrations(ctx context.Context, s *Store) ([]string, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	applied, err := migrate.NewMigrator(s.db, ms).AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range applied {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names, nil
}

// Schema describes the tables the migrations made, leaving out bun's own:
// one "table.column type-class null|not null" line per column, one
// "index name" line per named index (primary keys and inline unique
// constraints get dialect-specific names, so they are left out, as are
// postgresOnlyIndexes). The type class folds each dialect's types into what
// they hold.
func Schema(ctx context.Context, s *Store) ([]string, error) {
	var cols, idx string
	switch s.dialect {
	case Postgres:
		cols = `SELECT table_name || '.' || column_name, data_type, is_nullable = 'YES'
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name NOT LIKE 'bun_%'`
		idx = `SELECT indexname FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename NOT LIKE 'bun_%' AND indexname NOT LIKE '%_pkey'`
	case SQLite:
		cols = `SELECT m.name || '.' || p.name, p.type, p."notnull" = 0 AND p.pk = 0
			FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS p
			WHERE m.type = 'table' AND m.name NOT LIKE 'bun_%' AND m.name NOT LIKE 'sqlite_%'`
		idx = `SELECT name FROM sqlite_schema
			WHERE type = 'index' AND tbl_name NOT LIKE 'bun_%' AND name NOT LIKE 'sqlite_autoindex_%'`
	}
	classes := map[string]string{
		"text": "text", "TEXT": "text",
		"timestamp with time zone": "time",
		"jsonb":                    "json",
		"boolean":                  "bool",
		"integer":                  "int", "INTEGER": "int",
		"bytea": "bytes", "BLOB": "bytes",
	}
	var out []string
	rows, err := s.db.QueryContext(ctx, cols)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var col, typ string
		var null bool
		if err := rows.Scan(&col, &typ, &null); err != nil {
			return nil, err
		}
		class := classes[typ]
		if s.dialect == SQLite && typ == "TEXT" {
			// SQLite keeps times and JSON in TEXT: name the class by column.
			class = sqliteTextClass(col)
		}
		if s.dialect == SQLite && typ == "INTEGER" && sqliteBoolColumns[col] {
			class = "bool"
		}
		nullness := "not null"
		if null {
			nullness = "null"
		}
		out = append(out, fmt.Sprintf("%s %s %s", col, class, nullness))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	irows, err := s.db.QueryContext(ctx, idx)
	if err != nil {
		return nil, err
	}
	defer irows.Close()
	for irows.Next() {
		var name string
		if err := irows.Scan(&name); err != nil {
			return nil, err
		}
		if s.dialect == Postgres && postgresOnlyIndexes[name] {
			continue
		}
		out = append(out, "index "+name)
	}
	sort.Strings(out)
	return out, irows.Err()
}

// postgresOnlyIndexes serve ListUsers' search on Postgres only (migration
// 20261207000002): text_pattern_ops for LIKE prefixes and a GIN index over
// an expression, neither of which SQLite has; SQLite searches with range
// scans on the unique indexes both dialects share.
var postgresOnlyIndexes = map[string]bool{
	"users_app_id_email_pattern_idx":         true,
	"users_app_id_user_name_key_pattern_idx": true,
	"users_metadata_values_idx":              true,
}

var sqliteBoolColumns = map[string]bool{"users.phone_verified": true, "users.anonymous": true}

func sqliteTextClass(col string) string {
	_, name, _ := strings.Cut(col, ".")
	switch {
	case strings.HasSuffix(name, "_at") || name == "locked_until" || name == "lease_until" || name == "window_start":
		return "time"
	case name == "settings" || name == "metadata" || name == "details":
		return "json"
	}
	return "text"
}

// Prepared returns how many statements s keeps prepared (prepared.go).
func Prepared(s *Store) int {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	return len(s.stmts.stmts)
}

// PreparedOnConn returns the text of the statements prepared on the
// connection the pool hands out next: after sequential calls, the one
// they used (database/sql reuses the most recently idle connection).
func PreparedOnConn(ctx context.Context, s *Store) ([]string, error) {
	var out []string
	err := s.db.NewRaw("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time").Scan(ctx, &out)
	return out, err
}

// BoundQuery runs query, with $n parameters args, as the hot paths run
// theirs (prepared.go), and returns the first column of its one row.
func BoundQuery(ctx context.Context, s *Store, query string, args ...any) (string, error) {
	var out string
	err := s.db.NewRaw(query).Conn(s.bound(args...)).Scan(ctx, &out)
	return out, err
}

// CountActive returns how many other connections run a query LIKE pattern.
func CountActive(ctx context.Context, s *Store, pattern string) (int, error) {
	var n int
	err := s.db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND datname = current_database() AND query LIKE ?", pattern).Scan(ctx, &n)
	return n, err
}

// Rotation is one RotateRefreshToken of RotateBatch.
type Rotation struct {
	AppID, OldID string
	Cutoff       time.Time
	Next         identity.RefreshToken
	Event        identity.AuditEvent
}

// RotateBatch runs rotations as the batch of one statement, as concurrent
// RotateRefreshToken calls share one on Postgres (batch.go), and reports
// which won.
func RotateBatch(ctx context.Context, s *Store, rs []Rotation) ([]bool, error) {
	in := make([]rotation, len(rs))
	for i, r := range rs {
		ae, err := toAuditEventRow(r.Event)
		if err != nil {
			return nil, err
		}
		in[i] = rotation{appID: r.AppID, oldID: r.OldID, cutoff: r.Cutoff, token: toRefreshTokenRow(r.Next), event: ae}
	}
	return s.rotate(ctx, in)
}

// FindRefreshSessions looks hashes of appID up as the batch of one
// statement (Postgres) and returns the ids of the tokens found, "" where
// none was.
func FindRefreshSessions(ctx context.Context, s *Store, appID string, hashes ...string) ([]string, error) {
	in := make([]refreshLookup, len(hashes))
	for i, h := range hashes {
		in[i] = refreshLookup{AppID: appID, Hash: h}
	}
	rows, err := s.findRefreshSessions(ctx, in)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		if r != nil {
			ids[i] = r.Token.ID
		}
	}
	return ids, nil
}

// BeginRaw starts a transaction on a connection of its own, outside the
// Store: a test holds row locks with it.
func BeginRaw(ctx context.Context, s *Store) (*sql.Tx, error) {
	return s.db.DB.BeginTx(ctx, nil)
}

// CountLockWaits returns how many other connections run a query LIKE
// pattern and wait for a lock.
func CountLockWaits(ctx context.Context, s *Store, pattern string) (int, error) {
	var n int
	err := s.db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database() AND query LIKE ?", pattern).Scan(ctx, &n)
	return n, err
}
