package store

import (
	"context"
	"fmt"
	"time"
)

// sweptTables are the tables whose rows are useless once they expired:
// sessions (their refresh tokens go with them, by the foreign key's
// cascade), one-time codes (pending signups, password resets, invitations'
// codes), second-factor login tokens and social sign-in nonces.
var sweptTables = []string{"sessions", "codes", "login_tokens", "social_nonces"}

// SweepExpired deletes the rows of sweptTables that expired before
// before, at most batch rows per statement, each statement its own short
// transaction: no lock is held across batches, and the rows it locks are
// ones nothing reads any more. It returns how many rows it deleted in all
// (cascaded refresh tokens not counted). ctx stops it between batches.
// Every table has an index on expires_at, so each batch reads only what it
// deletes.
func (s *Store) SweepExpired(ctx context.Context, before time.Time, batch int) (int, error) {
	const op = "store.SweepExpired"
	if batch <= 0 {
		batch = 1000
	}
	// Rows by their physical id (social_nonces has no single-column key):
	// Postgres' ctid, which = ANY(ARRAY(…)) turns into a TID scan, or
	// SQLite's rowid.
	form := "DELETE FROM %[1]s WHERE rowid IN (SELECT rowid FROM %[1]s WHERE expires_at < ? LIMIT ?)"
	if s.dialect == Postgres {
		form = "DELETE FROM %[1]s WHERE ctid = ANY(ARRAY(SELECT ctid FROM %[1]s WHERE expires_at < ? LIMIT ?))"
	}
	total := 0
	for _, table := range sweptTables {
		q := fmt.Sprintf(form, table)
		for {
			if err := ctx.Err(); err != nil {
				return total, wrap(err, op)
			}
			res, err := s.idb.NewRaw(q, before.UTC(), batch).Exec(ctx)
			if err != nil {
				return total, wrap(err, op)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, wrap(err, op)
			}
			total += int(n)
			if int(n) < batch {
				break
			}
		}
	}
	return total, nil
}
