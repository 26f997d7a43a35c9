package notify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Outbox channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Outbox list limits: the default when none is given, and the most returned.
const (
	DefaultOutboxLimit = 50
	MaxOutboxLimit     = 500
)

// OutboxMessage is a message the dev outbox kept instead of sending; the
// domain declares it (identity.OutboxMessage).
type OutboxMessage = identity.OutboxMessage

// OutboxStore persists the outbox. The store package implements it, so
// replicas share one outbox.
type OutboxStore interface {
	InsertOutboxMessage(ctx context.Context, m OutboxMessage) error
	// ListOutboxMessages returns up to limit messages of appID, newest first.
	ListOutboxMessages(ctx context.Context, appID string, limit int) ([]OutboxMessage, error)
}

// Outbox is the dev-mode Mailer: instead of sending, it stores each message
// and logs one Info line with the recipient, subject and text, so a developer
// running `make run` reads codes and links in the log. It is safe for
// concurrent use when its store is.
//
// The log line carries the code in clear on purpose; the Outbox is for
// development only, and the server uses SMTP whenever COSYNC_SMTP_URL is set.
type Outbox struct {
	store OutboxStore
	log   *slog.Logger
	now   func() time.Time
}

var _ Mailer = (*Outbox)(nil)

// NewOutbox returns an Outbox keeping messages in store, which must not be
// nil. A nil log discards the log lines; a nil now means time.Now.
func NewOutbox(store OutboxStore, log *slog.Logger, now func() time.Time) *Outbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Outbox{store: store, log: log, now: now}
}

// Send stores m as an email and logs it. It rejects the messages SMTP.Send
// would reject, so mistakes show in development too.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := validate("notify.Outbox.Send", m); err != nil {
		return err
	}
	return o.keep(ctx, OutboxMessage{
		AppID:   m.AppID,
		Channel: ChannelEmail,
		To:      m.To,
		Subject: m.Subject,
		Text:    m.Text,
		HTML:    m.HTML,
	})
}

// SendSMS stores a text message to the phone number to and logs it, for the
// development stand-in of SMS delivery. to and text are required.
func (o *Outbox) SendSMS(ctx context.Context, appID, to, text string) error {
	var vs []apperr.Violation
	if to == "" {
		vs = append(vs, apperr.Violation{Field: "to", Description: "required"})
	}
	if text == "" {
		vs = append(vs, apperr.Violation{Field: "text", Description: "required"})
	}
	if err := apperr.Fields(apperr.ReasonInvalidArgument, vs); err != nil {
		return err
	}
	return o.keep(ctx, OutboxMessage{AppID: appID, Channel: ChannelSMS, To: to, Text: text})
}

func (o *Outbox) keep(ctx context.Context, m OutboxMessage) error {
	id, err := uuid.NewV7() // time-ordered, so IDs sort like SentAt
	if err != nil {
		return fmt.Errorf("notify.Outbox: id: %w", err)
	}
	m.ID, m.SentAt = id.String(), o.now().UTC()
	if err := o.store.InsertOutboxMessage(ctx, m); err != nil {
		return fmt.Errorf("notify.Outbox: store: %w", err)
	}
	text := m.Text
	if text == "" {
		text = m.HTML
	}
	o.log.InfoContext(ctx, "outbox: "+m.Channel+" kept, not sent",
		slog.String("app_id", m.AppID),
		slog.String("channel", m.Channel),
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", text),
		slog.String("id", m.ID),
	)
	return nil
}

// List returns up to limit messages the outbox kept for appID, newest first.
// A limit of zero or less means DefaultOutboxLimit; more than MaxOutboxLimit
// is capped.
func (o *Outbox) List(ctx context.Context, appID string, limit int) ([]OutboxMessage, error) {
	switch {
	case limit <= 0:
		limit = DefaultOutboxLimit
	case limit > MaxOutboxLimit:
		limit = MaxOutboxLimit
	}
	ms, err := o.store.ListOutboxMessages(ctx, appID, limit)
	if err != nil {
		return nil, fmt.Errorf("notify.Outbox.List: %w", err)
	}
	return ms, nil
}

var (
	_ identity.Mailer      = (*Outbox)(nil)
	_ console.OutboxReader = (*Outbox)(nil)
	_ identity.DevSMS      = (*Outbox)(nil)
)
