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

func TestStatsQueries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
		next := day.AddDate(0, 0, 1)

		first, err := s.EarliestActivity(ctx)
		noErr(t, "EarliestActivity(empty)", err)
		equal(t, "EarliestActivity(empty)", first, time.Time{})

		ev := func(id, app, action, outcome, actor string, at time.Time) {
			noErr(t, "InsertAuditEvent", s.InsertAuditEvent(ctx, identity.AuditEvent{
				ID: id, AppID: app, Action: action, Outcome: outcome, ActorID: actor, OccurredAt: at}))
		}
		ev("e1", "app1", "user.login", "success", "u1", day.Add(time.Hour))
		ev("e2", "app1", "user.login", "success", "u1", day.Add(2*time.Hour))
		ev("e3", "app1", "session.refresh", "success", "u2", day.Add(3*time.Hour))
		ev("e4", "app1", "user.login", "failure", "", day.Add(4*time.Hour))
		ev("e5", "app2", "user.login", "success", "u9", day.Add(5*time.Hour))
		ev("e6", "app1", "user.login", "success", "u3", next) // the next day: outside [day, next)
		ev("e7", "app1", "app.update", "success", "dev", day.Add(6*time.Hour))
		ev("e0", "app1", "user.login", "success", "u0", day.Add(-time.Microsecond)) // the day before

		counts, err := s.CountActions(ctx, "", []string{"user.login", "session.refresh"}, day, next)
		noErr(t, "CountActions", err)
		got := map[console.ActionCount]bool{}
		for _, c := range counts {
			got[c] = true
		}
		equal(t, "CountActions(every app)", got, map[console.ActionCount]bool{
			{AppID: "app1", Action: "user.login", Outcome: "success", N: 2}:      true,
			{AppID: "app1", Action: "user.login", Outcome: "failure", N: 1}:      true,
			{AppID: "app1", Action: "session.refresh", Outcome: "success", N: 1}: true,
			{AppID: "app2", Action: "user.login", Outcome: "success", N: 1}:      true,
		})
		counts, err = s.CountActions(ctx, "app2", []string{"user.login"}, time.Time{}, time.Time{})
		noErr(t, "CountActions(app2)", err)
		equal(t, "CountActions(app2, unbounded)", counts, []console.ActionCount{{AppID: "app2", Action: "user.login", Outcome: "success", N: 1}})

		actors, err := s.ActiveActors(ctx, "app1", []string{"user.login", "session.refresh"}, day, next)
		noErr(t, "ActiveActors", err)
		seen := map[string]int{}
		for _, a := range actors {
			seen[a.AppID+"/"+a.ActorID]++
		}
		equal(t, "ActiveActors(app1, day)", seen, map[string]int{"app1/u1": 1, "app1/u2": 1})

		u := newUser("app1", "u1", "a@example.com", "")
		u.CreatedAt = day.Add(time.Hour)
		createUser(t, s, u)
		u = newUser("app1", "u2", "b@example.com", "")
		u.CreatedAt, u.TwoFactor = day.Add(2*time.Hour), identity.TwoFactorTOTP
		noErr(t, "CreateUser(password)", s.CreateUser(ctx, u, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"))
		u = newUser("app1", "u3", "", "")
		u.CreatedAt, u.Anonymous = next, true
		createUser(t, s, u)
		u = newUser("app2", "u9", "z@example.com", "")
		u.CreatedAt = day.Add(-time.Hour)
		createUser(t, s, u)
		noErr(t, "CreateIdentity", s.CreateIdentity(ctx, identity.LinkedIdentity{
			AppID: "app1", UserID: "u1", ID: "i1", Provider: "google", Subject: "g-1", CreatedAt: day.Add(time.Hour)}))

		uc, err := s.CountUsersCreated(ctx, "", day, next)
		noErr(t, "CountUsersCreated", err)
		equal(t, "CountUsersCreated(day)", uc, []console.UserCount{{AppID: "app1", Users: 2, TwoFactor: 1}})
		uc, err = s.CountUsersCreated(ctx, "app2", time.Time{}, day)
		noErr(t, "CountUsersCreated(before)", err)
		equal(t, "CountUsersCreated(app2, before the day)", uc, []console.UserCount{{AppID: "app2", Users: 1}})

		pc, err := s.CountProviders(ctx, "app1", time.Time{}, time.Time{})
		noErr(t, "CountProviders", err)
		byProvider := map[string]int64{}
		for _, c := range pc {
			byProvider[c.AppID+"/"+c.Provider] = c.Users
		}
		equal(t, "CountProviders(app1)", byProvider, map[string]int64{"app1/password": 1, "app1/anonymous": 1, "app1/google": 1})
		pc, err = s.CountProviders(ctx, "", next, time.Time{})
		noErr(t, "CountProviders(since)", err)
		equal(t, "CountProviders(since the next day)", pc, []console.ProviderCount{{AppID: "app1", Provider: "anonymous", Users: 1}})

		first, err = s.EarliestActivity(ctx)
		noErr(t, "EarliestActivity", err)
		equal(t, "EarliestActivity", first, day.Add(-time.Hour))
	})
}

func TestDailyStatsAndWatermark(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		d1 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
		d2 := d1.AddDate(0, 0, 1)

		wm, err := s.StatsWatermark(ctx)
		noErr(t, "StatsWatermark(none)", err)
		equal(t, "StatsWatermark(none)", wm, time.Time{})
		noErr(t, "AdvanceStatsWatermark", s.AdvanceStatsWatermark(ctx, d2, t0))
		noErr(t, "AdvanceStatsWatermark(back)", s.AdvanceStatsWatermark(ctx, d1, t0))
		wm, err = s.StatsWatermark(ctx)
		noErr(t, "StatsWatermark", err)
		equal(t, "StatsWatermark after moving back", wm, d2)

		rows := []console.DailyStatsRow{
			{AppID: "app1", DayStats: console.DayStats{Day: d1, Signups: 3, Logins: 2, Users: 10}, ActiveSketch: []byte{1}, Providers: map[string]int64{}, RolledAt: t0},
			{AppID: "app1", DayStats: console.DayStats{Day: d2, Logins: 1, ActiveUsers: 1, Users: 11, TwoFactorUsers: 4}, ActiveSketch: []byte{1, 2, 3},
				Providers: map[string]int64{"password": 11}, RolledAt: t0},
		}
		noErr(t, "PutDailyStats", s.PutDailyStats(ctx, rows))
		rows[0].Signups, rows[0].RolledAt = 4, t0.Add(time.Hour) // a re-roll replaces the day
		noErr(t, "PutDailyStats(again)", s.PutDailyStats(ctx, rows[:1]))
		got, err := s.DailyStats(ctx, "app1", d1, d2)
		noErr(t, "DailyStats", err)
		equal(t, "DailyStats", got, rows)
		got, err = s.DailyStats(ctx, "app1", d2, d2)
		noErr(t, "DailyStats(one day)", err)
		equal(t, "DailyStats(one day)", got, rows[1:])
		wantKind(t, "PutDailyStats(unknown app)", s.PutDailyStats(ctx, []console.DailyStatsRow{{AppID: "nope", DayStats: console.DayStats{Day: d1}, RolledAt: t0}}), apperr.NotFound)
	})
}
