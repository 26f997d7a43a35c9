package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/notify"
)

type outboxMessageRow struct {
	bun.BaseModel `bun:"table:outbox_messages,alias:om"`

	ID       string    `bun:"id,pk"`
	AppID    string    `bun:"app_id"`
	Channel  string    `bun:"channel"`
	ToAddr   string    `bun:"to_addr"`
	Subject  string    `bun:"subject"`
	TextBody string    `bun:"text_body"`
	HTMLBody string    `bun:"html_body"`
	SentAt   time.Time `bun:"sent_at,nullzero"`
}

func toOutboxMessageRow(m notify.OutboxMessage) outboxMessageRow {
	return outboxMessageRow{
		ID:       m.ID,
		AppID:    m.AppID,
		Channel:  m.Channel,
		ToAddr:   m.To,
		Subject:  m.Subject,
		TextBody: m.Text,
		HTMLBody: m.HTML,
		SentAt:   utc(m.SentAt),
	}
}

func (r outboxMessageRow) message() notify.OutboxMessage {
	return notify.OutboxMessage{
		ID:      r.ID,
		AppID:   r.AppID,
		Channel: r.Channel,
		To:      r.ToAddr,
		Subject: r.Subject,
		Text:    r.TextBody,
		HTML:    r.HTMLBody,
		SentAt:  utc(r.SentAt),
	}
}

// InsertOutboxMessage keeps m. NotFound when the app does not exist.
func (s *Store) InsertOutboxMessage(ctx context.Context, m notify.OutboxMessage) error {
	row := toOutboxMessageRow(m)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.InsertOutboxMessage")
}

// ListOutboxMessages returns up to limit messages of appID, newest first
// (ties by id, descending). A limit of zero or less returns them all.
func (s *Store) ListOutboxMessages(ctx context.Context, appID string, limit int) ([]notify.OutboxMessage, error) {
	var rows []outboxMessageRow
	q := s.idb.NewSelect().Model(&rows).
		Where("app_id = ?", appID).
		OrderExpr("sent_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, "store.ListOutboxMessages")
	}
	msgs := make([]notify.OutboxMessage, len(rows))
	for i, r := range rows {
		msgs[i] = r.message()
	}
	return msgs, nil
}
