package store

import (
	"context"
	"database/sql"

	"github.com/cosync/cosync-auth/internal/identity"
)

// DBStats returns the connection pool's statistics (open, in use, idle,
// waits), for the operator's metrics. It is cheap and safe for concurrent use.
func (s *Store) DBStats() sql.DBStats { return s.db.Stats() }

// PendingDeliveries counts the send queue's pending deliveries (due now or
// waiting for a retry), counting at most max of them so the query stays
// bounded however long the queue grows; it walks the partial index of
// pending rows. A result of max means "max or more".
func (s *Store) PendingDeliveries(ctx context.Context, max int) (int, error) {
	pending := s.db.NewSelect().Model((*deliveryRow)(nil)).ColumnExpr("1").
		Where("state = ?", string(identity.DeliveryPending)).
		Limit(max)
	var n int
	err := s.db.NewSelect().TableExpr("(?) AS pending", pending).ColumnExpr("count(*)").Scan(ctx, &n)
	return n, wrap(err, "store.PendingDeliveries")
}

// BatchCounts gives each batched hot path's name (refresh_read,
// refresh_write) with how many statements it has run and how many calls
// those answered (batch.go): calls over statements is its mean batch
// size. None on SQLite.
func (s *Store) BatchCounts(each func(path string, statements, calls int64)) {
	if s.refreshReads == nil || s.rotations == nil {
		return
	}
	each("refresh_read", s.refreshReads.batches.Load(), s.refreshReads.calls.Load())
	each("refresh_write", s.rotations.batches.Load(), s.rotations.calls.Load())
}
