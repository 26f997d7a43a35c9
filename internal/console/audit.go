package console

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// AuditFilter picks audit events; empty fields match everything.
type AuditFilter struct {
	// Action is matched exactly, unless it ends in "." ("user.",
	// "user.2fa."): then every action that starts with it matches.
	Action    string
	Outcome   string // identity.OutcomeSuccess or OutcomeFailure
	ActorID   string
	SubjectID string
	IP        string
	// Start and End bound OccurredAt to [Start, End); zero is unbounded.
	Start, End time.Time
}

// AuditCursor is the position after which a page starts (newest first).
type AuditCursor struct {
	OccurredAt time.Time
	ID         string
}

// AuditLog lists audit events.
type AuditLog interface {
	// ListAuditEvents returns appID's events that match f, newest first
	// (by OccurredAt, then ID), strictly after `after` when it is set, at
	// most limit.
	ListAuditEvents(ctx context.Context, appID string, f AuditFilter, after *AuditCursor, limit int) ([]identity.AuditEvent, error)
}

// ListAuditEvents lists appID's audit events matching f, newest first, one
// page of at most limit after pageToken (empty: the first page). It returns
// the token of the next page, empty on the last. Viewers may read it.
func (s *Service) ListAuditEvents(ctx context.Context, d identity.Developer, appID string, f AuditFilter, pageToken string, limit int) ([]identity.AuditEvent, string, error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return nil, "", err
	}
	var after *AuditCursor
	if pageToken != "" {
		c, ok := parseAuditCursor(pageToken)
		if !ok {
			return nil, "", apperr.Field("page_token", "is not a page token from a previous answer")
		}
		after = &c
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		return nil, "", apperr.Field("end_time", "is not after start_time")
	}
	events, err := s.store.ListAuditEvents(ctx, m.ID, f, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(events) <= limit {
		return events, "", nil
	}
	last := events[limit-1]
	return events[:limit], auditCursorToken(AuditCursor{OccurredAt: last.OccurredAt, ID: last.ID}), nil
}

// A page token is the last event's time (Unix microseconds) and id,
// base64url: opaque to callers, stable while events are added, since new
// events sort before it.
func auditCursorToken(c AuditCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.OccurredAt.UnixMicro(), 10) + ":" + c.ID))
}

func parseAuditCursor(tok string) (AuditCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return AuditCursor{}, false
	}
	us, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return AuditCursor{}, false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n < 0 {
		return AuditCursor{}, false
	}
	return AuditCursor{OccurredAt: time.UnixMicro(n).UTC(), ID: id}, true
}
