package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		events := []identity.AuditEvent{
			{
				ID: "e1", AppID: "app1", Action: "user.login", Outcome: identity.OutcomeFailure,
				SubjectID: "u1", IP: "2001:db8::1", Reason: apperr.ReasonInvalidCredentials,
				Details:    map[string]any{"attempt": 3.0, "locked": false, "via": map[string]any{"method": "password"}},
				OccurredAt: t0,
			},
			{ID: "e2", AppID: "app1", Action: "app.update", Outcome: identity.OutcomeSuccess, ActorID: "dev1", OccurredAt: t0.Add(time.Second)},
		}
		for _, e := range events {
			noErr(t, "InsertAuditEvent", s.InsertAuditEvent(ctx, e))
		}
		wantKind(t, "InsertAuditEvent(same id)", s.InsertAuditEvent(ctx, events[0]), apperr.Exists)
		unknown := events[1]
		unknown.ID, unknown.AppID = "e3", "nope"
		wantKind(t, "InsertAuditEvent(unknown app)", s.InsertAuditEvent(ctx, unknown), apperr.NotFound)

		got, err := store.AuditEvents(ctx, s, "app1")
		noErr(t, "AuditEvents", err)
		equal(t, "AuditEvents", got, events)
	})
}
