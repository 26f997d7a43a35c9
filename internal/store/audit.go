package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

type auditEventRow struct {
	bun.BaseModel `bun:"table:audit_events,alias:ae"`

	ID         string    `bun:"id,pk"`
	AppID      string    `bun:"app_id"`
	Action     string    `bun:"action"`
	Outcome    string    `bun:"outcome"`
	ActorID    string    `bun:"actor_id"`
	SubjectID  string    `bun:"subject_id"`
	IP         string    `bun:"ip"`
	Reason     string    `bun:"reason"`
	Details    string    `bun:"details,nullzero"` // JSON object; NULL for nil
	OccurredAt time.Time `bun:"occurred_at,nullzero"`
}

func toAuditEventRow(e identity.AuditEvent) (auditEventRow, error) {
	row := auditEventRow{
		ID:         e.ID,
		AppID:      e.AppID,
		Action:     e.Action,
		Outcome:    e.Outcome,
		ActorID:    e.ActorID,
		SubjectID:  e.SubjectID,
		IP:         e.IP,
		Reason:     string(e.Reason),
		OccurredAt: utc(e.OccurredAt),
	}
	if e.Details != nil {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return auditEventRow{}, err
		}
		row.Details = string(b)
	}
	return row, nil
}

func (r auditEventRow) auditEvent() (identity.AuditEvent, error) {
	e := identity.AuditEvent{
		ID:         r.ID,
		AppID:      r.AppID,
		Action:     r.Action,
		Outcome:    r.Outcome,
		ActorID:    r.ActorID,
		SubjectID:  r.SubjectID,
		IP:         r.IP,
		Reason:     apperr.Reason(r.Reason),
		OccurredAt: utc(r.OccurredAt),
	}
	if r.Details != "" {
		if err := json.Unmarshal([]byte(r.Details), &e.Details); err != nil {
			return identity.AuditEvent{}, err
		}
	}
	return e, nil
}

// InsertAuditEvent records e. NotFound when the app does not exist.
func (s *Store) InsertAuditEvent(ctx context.Context, e identity.AuditEvent) error {
	const op = "store.InsertAuditEvent"
	row, err := toAuditEventRow(e)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	_, err = s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, op)
}
