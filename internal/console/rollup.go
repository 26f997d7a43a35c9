package console

import (
	"context"
	"slices"
	"time"
)

// maxBackfillDays bounds the first rollup of a database with a long history.
const maxBackfillDays = 400

// RollupStats rolls every closed UTC day since the watermark into
// daily_stats, and rolls the watermark's own day again: an event whose
// transaction began before midnight may commit after the run that closed
// its day. It returns how many days it rolled (0 when the watermark is at
// yesterday already, the cheap common case: one read).
//
// Every replica's janitor may run it at once: a day is recomputed from the
// audit log and the users table and written with an upsert, so two runs
// write the same rows, and the watermark only moves forward. Each day is
// written and the watermark advanced before the next, so an interrupted
// backfill resumes where it stopped.
//
// Users and TwoFactorUsers of a day are the users created by its end that
// still exist, with the factors they have when the day is rolled (a
// snapshot taken just after midnight for a normal run); the newest day also
// keeps the users by provider. Deleted users drop out of the days rolled
// after their deletion only.
func (s *Service) RollupStats(ctx context.Context) (int, error) {
	now := s.clock()
	yesterday := dayOf(now).AddDate(0, 0, -1)
	wm, err := s.store.StatsWatermark(ctx)
	if err != nil {
		return 0, err
	}
	from := wm
	if wm.IsZero() {
		first, err := s.store.EarliestActivity(ctx)
		if err != nil {
			return 0, err
		}
		from = dayOf(first)
		if first.IsZero() {
			from = yesterday
		}
		from = latest(from, yesterday.AddDate(0, 0, -maxBackfillDays))
	} else if !wm.Before(yesterday) {
		return 0, nil
	}
	// Users created before the first day, per app; each day adds its own.
	users := map[string]UserCount{}
	base, err := s.store.CountUsers(ctx, "", time.Time{}, from)
	if err != nil {
		return 0, err
	}
	for _, c := range base {
		users[c.AppID] = c
	}
	n := 0
	for day := from; !day.After(yesterday); day = nextDay(day) {
		rows, err := s.rollDay(ctx, day, users, now, day.Equal(yesterday))
		if err != nil {
			return n, err
		}
		if err := s.store.PutDailyStats(ctx, rows); err != nil {
			return n, err
		}
		if err := s.store.AdvanceStatsWatermark(ctx, day, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// rollDay computes day's rows for every app with users or events, adding
// the day's new users to users.
func (s *Service) rollDay(ctx context.Context, day time.Time, users map[string]UserCount, now time.Time, newest bool) ([]DailyStatsRow, error) {
	end := nextDay(day)
	rows := map[string]*DailyStatsRow{}
	row := func(app string) *DailyStatsRow {
		r := rows[app]
		if r == nil {
			r = &DailyStatsRow{AppID: app, DayStats: DayStats{Day: day}, RolledAt: now}
			rows[app] = r
		}
		return r
	}
	created, err := s.store.CountUsers(ctx, "", day, end)
	if err != nil {
		return nil, err
	}
	for _, c := range created {
		u := users[c.AppID]
		u.AppID, u.Users, u.TwoFactor = c.AppID, u.Users+c.Users, u.TwoFactor+c.TwoFactor
		users[c.AppID] = u
	}
	for app, u := range users {
		r := row(app)
		r.Users, r.TwoFactorUsers = u.Users, u.TwoFactor
	}
	counts, err := s.store.CountActions(ctx, "", countedActions, day, end)
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		row(c.AppID).add(c.Action, c.Outcome, c.N)
	}
	actors, err := s.store.ActiveActors(ctx, "", activeActions, day, end)
	if err != nil {
		return nil, err
	}
	sets := map[string]*distinct{}
	for _, a := range actors {
		if sets[a.AppID] == nil {
			sets[a.AppID] = &distinct{}
		}
		sets[a.AppID].Add(a.ActorID)
		row(a.AppID).ActiveUsers++
	}
	if newest {
		pc, err := s.store.CountProviders(ctx, "", time.Time{}, end)
		if err != nil {
			return nil, err
		}
		for _, c := range pc {
			r := row(c.AppID)
			if r.Providers == nil {
				r.Providers = map[string]int64{}
			}
			r.Providers[c.Provider] = c.Users
		}
	}
	out := make([]DailyStatsRow, 0, len(rows))
	for app, r := range rows {
		set := sets[app]
		if set == nil {
			set = &distinct{}
		}
		r.ActiveSketch = set.MarshalBinary()
		out = append(out, *r)
	}
	// One order for every replica, so concurrent upserts take their row
	// locks in the same order and never deadlock.
	slices.SortFunc(out, func(a, b DailyStatsRow) int {
		switch {
		case a.AppID < b.AppID:
			return -1
		case a.AppID > b.AppID:
			return 1
		}
		return 0
	})
	return out, nil
}
