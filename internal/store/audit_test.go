package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
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
		// SQLite's foreign key refuses an event of no app. Postgres has none
		// (it made every refresh lock its app's row: migration
		// 20261207000006); DeleteApp deletes an app's events itself
		// (TestDeleteAppCascades).
		if s.Dialect() == store.SQLite {
			unknown := events[1]
			unknown.ID, unknown.AppID = "e3", "nope"
			wantKind(t, "InsertAuditEvent(unknown app)", s.InsertAuditEvent(ctx, unknown), apperr.NotFound)
		}

		got, err := store.AuditEvents(ctx, s, "app1")
		noErr(t, "AuditEvents", err)
		equal(t, "AuditEvents", got, events)
	})
}

func TestListAuditEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		// e2 and e3 share a time: the id orders them, and paging must not
		// lose either.
		evs := []identity.AuditEvent{
			{ID: "e1", AppID: "app1", Action: "user.login", Outcome: "failure", SubjectID: "u1", IP: "192.0.2.1", OccurredAt: t0},
			{ID: "e2", AppID: "app1", Action: "user.login", Outcome: "success", ActorID: "u1", SubjectID: "u1", IP: "192.0.2.1", OccurredAt: t0.Add(time.Second)},
			{ID: "e3", AppID: "app1", Action: "user.2fa.enable", Outcome: "success", ActorID: "u1", SubjectID: "u1", IP: "192.0.2.2", OccurredAt: t0.Add(time.Second)},
			{ID: "e4", AppID: "app1", Action: "app.update", Outcome: "success", ActorID: "dev1", SubjectID: "app1", IP: "198.51.100.7", OccurredAt: t0.Add(2 * time.Second),
				Details: map[string]any{"fields": []any{"name"}}},
			{ID: "e5", AppID: "app1", Action: "users.export", Outcome: "success", ActorID: "dev1", OccurredAt: t0.Add(3 * time.Second)},
			{ID: "e6", AppID: "app2", Action: "user.login", Outcome: "success", ActorID: "u9", OccurredAt: t0.Add(4 * time.Second)},
		}
		for _, e := range evs {
			noErr(t, "InsertAuditEvent", s.InsertAuditEvent(ctx, e))
		}
		ids := func(es []identity.AuditEvent) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    console.AuditFilter
			want []string
		}{
			{"all, newest first", console.AuditFilter{}, []string{"e5", "e4", "e3", "e2", "e1"}},
			{"action", console.AuditFilter{Action: "user.login"}, []string{"e2", "e1"}},
			{"action prefix", console.AuditFilter{Action: "user."}, []string{"e3", "e2", "e1"}}, // not users.export
			{"outcome", console.AuditFilter{Outcome: "failure"}, []string{"e1"}},
			{"actor", console.AuditFilter{ActorID: "dev1"}, []string{"e5", "e4"}},
			{"subject and outcome", console.AuditFilter{SubjectID: "u1", Outcome: "success"}, []string{"e3", "e2"}},
			{"ip", console.AuditFilter{IP: "192.0.2.1"}, []string{"e2", "e1"}},
			{"time range is half-open", console.AuditFilter{Start: t0.Add(time.Second), End: t0.Add(3 * time.Second)}, []string{"e4", "e3", "e2"}},
			{"nothing", console.AuditFilter{Action: "user.delete"}, nil},
		} {
			got, err := s.ListAuditEvents(ctx, "app1", tc.f, nil, 100)
			noErr(t, tc.name, err)
			equal(t, "ListAuditEvents("+tc.name+")", ids(got), tc.want)
		}

		// Two at a time, each page after the previous page's last event.
		var pages [][]string
		var after *console.AuditCursor
		for {
			got, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{}, after, 2)
			noErr(t, "ListAuditEvents(page)", err)
			if len(got) == 0 {
				break
			}
			pages = append(pages, ids(got))
			last := got[len(got)-1]
			after = &console.AuditCursor{OccurredAt: last.OccurredAt, ID: last.ID}
		}
		equal(t, "pages", pages, [][]string{{"e5", "e4"}, {"e3", "e2"}, {"e1"}})

		got, err := s.ListAuditEvents(ctx, "app1", console.AuditFilter{ActorID: "dev1"}, nil, 1)
		noErr(t, "ListAuditEvents(details)", err)
		equal(t, "ListAuditEvents(limit 1)", got, evs[4:5])
		got, err = s.ListAuditEvents(ctx, "app1", console.AuditFilter{Action: "app.update"}, nil, 10)
		noErr(t, "ListAuditEvents(details)", err)
		equal(t, "ListAuditEvents(details round-trip)", got, evs[3:4])
	})
}
