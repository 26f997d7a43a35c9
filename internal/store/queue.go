package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
)

var _ notify.QueueStore = (*Store)(nil)

type deliveryRow struct {
	bun.BaseModel `bun:"table:deliveries,alias:dl"`

	ID            string    `bun:"id,pk"`
	AppID         string    `bun:"app_id"`
	Channel       string    `bun:"channel"`
	ToAddr        string    `bun:"to_addr"`
	FromAddr      string    `bun:"from_addr"`
	Subject       string    `bun:"subject"`
	TextBody      string    `bun:"text_body"`
	HTMLBody      string    `bun:"html_body"`
	State         string    `bun:"state"`
	Attempts      int       `bun:"attempts"`
	NextAttemptAt time.Time `bun:"next_attempt_at"`
	LeaseUntil    time.Time `bun:"lease_until,nullzero"`
	LastError     string    `bun:"last_error"`
	CreatedAt     time.Time `bun:"created_at"`
	ExpiresAt     time.Time `bun:"expires_at,nullzero"`
	SentAt        time.Time `bun:"sent_at,nullzero"`
}

func toDeliveryRow(d identity.Delivery) deliveryRow {
	return deliveryRow{
		ID: d.ID, AppID: d.AppID, Channel: d.Channel, ToAddr: d.To, FromAddr: d.From,
		Subject: d.Subject, TextBody: d.Text, HTMLBody: d.HTML, State: string(d.State),
		Attempts: d.Attempts, NextAttemptAt: utc(d.NextAttemptAt), LastError: d.LastError,
		CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt), SentAt: utc(d.SentAt),
	}
}

func (r deliveryRow) delivery() identity.Delivery {
	return identity.Delivery{
		ID: r.ID, AppID: r.AppID, Channel: r.Channel, To: r.ToAddr, From: r.FromAddr,
		Subject: r.Subject, Text: r.TextBody, HTML: r.HTMLBody, State: identity.DeliveryState(r.State),
		Attempts: r.Attempts, NextAttemptAt: utc(r.NextAttemptAt), LastError: r.LastError,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), SentAt: utc(r.SentAt),
	}
}

// EnqueueDelivery stores d (pending, due at d.NextAttemptAt). Called
// through an InTx Store, it commits with the change that causes it.
// NotFound when the app does not exist.
func (s *Store) EnqueueDelivery(ctx context.Context, d identity.Delivery) error {
	row := toDeliveryRow(d)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.EnqueueDelivery")
}

// ClaimDeliveries leases up to limit pending deliveries due at now (oldest
// due first) until now+lease and counts an attempt on each, in one
// statement. On Postgres the rows are picked FOR UPDATE SKIP LOCKED, so
// workers on several replicas claim disjoint sets; a row whose lease
// expired (its worker crashed) is claimable again. SQLite has one process,
// and its writes are serialized.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]identity.Delivery, error) {
	now = utc(now)
	due := s.idb.NewSelect().Model((*deliveryRow)(nil)).Column("id").
		Where("state = ?", string(identity.DeliveryPending)).
		Where("next_attempt_at <= ?", now).
		Where("(lease_until IS NULL OR lease_until <= ?)", now).
		OrderExpr("next_attempt_at, id").
		Limit(limit)
	if s.dialect == Postgres {
		due = due.For("UPDATE SKIP LOCKED")
	}
	var rows []deliveryRow
	err := s.idb.NewUpdate().Model(&rows).ModelTableExpr("deliveries").
		Set("lease_until = ?", now.Add(lease)).
		Set("attempts = attempts + 1").
		Where("id IN (?)", due).
		Returning("*").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ClaimDeliveries")
	}
	ds := make([]identity.Delivery, len(rows))
	for i, r := range rows {
		ds[i] = r.delivery()
	}
	return ds, nil
}

// MarkDeliverySent records that d was delivered at now and blanks its
// bodies: the codes they carry are not kept past their use.
func (s *Store) MarkDeliverySent(ctx context.Context, id string, now time.Time) error {
	_, err := s.idb.NewUpdate().Model((*deliveryRow)(nil)).
		Set("state = ?", string(identity.DeliverySent)).
		Set("sent_at = ?", utc(now)).
		Set("lease_until = NULL").
		Set("last_error = ''").
		Set("text_body = ''").Set("html_body = ''").
		Where("id = ?", id).
		Exec(ctx)
	return wrap(err, "store.MarkDeliverySent")
}

// RetryDelivery records a failed attempt and makes the delivery due again
// at next.
func (s *Store) RetryDelivery(ctx context.Context, id string, next time.Time, lastErr string) error {
	_, err := s.idb.NewUpdate().Model((*deliveryRow)(nil)).
		Set("next_attempt_at = ?", utc(next)).
		Set("lease_until = NULL").
		Set("last_error = ?", lastErr).
		Where("id = ? AND state = ?", id, string(identity.DeliveryPending)).
		Exec(ctx)
	return wrap(err, "store.RetryDelivery")
}

// KillDelivery gives up on a delivery: dead, with the last error, the
// recipient and subject kept for the developer and the bodies blanked.
func (s *Store) KillDelivery(ctx context.Context, id string, now time.Time, lastErr string) error {
	_, err := s.idb.NewUpdate().Model((*deliveryRow)(nil)).
		Set("state = ?", string(identity.DeliveryDead)).
		Set("sent_at = ?", utc(now)).
		Set("lease_until = NULL").
		Set("last_error = ?", lastErr).
		Set("text_body = ''").Set("html_body = ''").
		Where("id = ? AND state = ?", id, string(identity.DeliveryPending)).
		Exec(ctx)
	return wrap(err, "store.KillDelivery")
}

// ListDeliveries returns up to limit deliveries of appID, newest first,
// all states when state is empty. A limit of zero or less returns them all.
func (s *Store) ListDeliveries(ctx context.Context, appID string, state identity.DeliveryState, limit int) ([]identity.Delivery, error) {
	var rows []deliveryRow
	q := s.idb.NewSelect().Model(&rows).Where("app_id = ?", appID).OrderExpr("created_at DESC, id DESC")
	if state != "" {
		q = q.Where("state = ?", string(state))
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, "store.ListDeliveries")
	}
	ds := make([]identity.Delivery, len(rows))
	for i, r := range rows {
		ds[i] = r.delivery()
	}
	return ds, nil
}

// SweepDeliveries deletes settled deliveries: sent and suppressed ones
// created before done, dead letters that died before dead. It returns how
// many rows it deleted. Pending rows are never swept.
func (s *Store) SweepDeliveries(ctx context.Context, done, dead time.Time) (int64, error) {
	res, err := s.idb.NewDelete().Model((*deliveryRow)(nil)).
		WhereGroup(" AND ", func(q *bun.DeleteQuery) *bun.DeleteQuery {
			return q.
				WhereOr("state IN (?) AND created_at < ?", bun.List([]string{string(identity.DeliverySent), string(identity.DeliverySuppressed)}), utc(done)).
				WhereOr("state = ? AND sent_at < ?", string(identity.DeliveryDead), utc(dead))
		}).
		Exec(ctx)
	if err != nil {
		return 0, wrap(err, "store.SweepDeliveries")
	}
	n, _ := res.RowsAffected()
	return n, nil
}
