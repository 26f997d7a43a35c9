package console

import (
	"context"
	"maps"
	"slices"
	"strings"
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
// Users of a day are the users created by its end that still exist.
// TwoFactorUsers is a snapshot for the newest day (those users' factors
// when the rollup runs, just after midnight in the common case), and for
// each earlier day of the run that snapshot less the second factors turned
// on (and plus those turned off) after it, from the audit log. The newest
// day also keeps the users by provider. Deleted users drop out of the days
// rolled after their deletion only.
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
	var days []*rollDay
	for day := from; !day.After(yesterday); day = nextDay(day) {
		days = append(days, &rollDay{day: day})
	}
	// First the counters and new users of every day, small per app, so the
	// second factors can be walked back from today's snapshot.
	users := map[string]int64{}     // per app, created by the current day's end
	twoFactor := map[string]int64{} // per app: of those, with a factor now
	base, err := s.store.CountUsersCreated(ctx, "", time.Time{}, from)
	if err != nil {
		return 0, err
	}
	for _, c := range base {
		users[c.AppID], twoFactor[c.AppID] = c.Users, c.TwoFactor
	}
	for _, d := range days {
		if err := s.countDay(ctx, d, users, twoFactor); err != nil {
			return 0, err
		}
	}
	for i := len(days) - 1; i >= 0; i-- {
		d := days[i]
		d.twoFactor = maps.Clone(twoFactor)
		for app, n := range d.net2FA {
			twoFactor[app] -= n
		}
	}
	n := 0
	for i, d := range days {
		rows, err := s.rollRows(ctx, d, now, i == len(days)-1)
		if err != nil {
			return n, err
		}
		if err := s.store.PutDailyStats(ctx, rows); err != nil {
			return n, err
		}
		if err := s.store.AdvanceStatsWatermark(ctx, d.day, now); err != nil {
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

// rollDay is one day of a rollup run in the making.
type rollDay struct {
	day       time.Time
	counts    map[string]*DayStats // per app
	net2FA    map[string]int64     // per app: factors turned on less off that day
	twoFactor map[string]int64     // per app: with a factor at the day's end
}

func (d *rollDay) app(id string) *DayStats {
	ds := d.counts[id]
	if ds == nil {
		ds = &DayStats{Day: d.day}
		d.counts[id] = ds
	}
	return ds
}

// countDay reads d's counters and new users; users and twoFactor carry
// each app's totals from day to day.
func (s *Service) countDay(ctx context.Context, d *rollDay, users, twoFactor map[string]int64) error {
	end := nextDay(d.day)
	d.counts, d.net2FA = map[string]*DayStats{}, map[string]int64{}
	created, err := s.store.CountUsersCreated(ctx, "", d.day, end)
	if err != nil {
		return err
	}
	for _, c := range created {
		users[c.AppID] += c.Users
		twoFactor[c.AppID] += c.TwoFactor
	}
	for app, n := range users {
		d.app(app).Users = n
	}
	counts, err := s.store.CountActions(ctx, "", countedActions, d.day, end)
	if err != nil {
		return err
	}
	for _, c := range counts {
		d.app(c.AppID).add(c.Action, c.Outcome, c.N)
		d.net2FA[c.AppID] += twoFactorNet([]ActionCount{c})
	}
	return nil
}

// rollRows completes d's rows with the active users (and, for the newest
// day, the users by provider).
func (s *Service) rollRows(ctx context.Context, d *rollDay, now time.Time, newest bool) ([]DailyStatsRow, error) {
	end := nextDay(d.day)
	actors, err := s.store.ActiveActors(ctx, "", activeActions, d.day, end)
	if err != nil {
		return nil, err
	}
	sets := map[string]*distinct{}
	for _, a := range actors {
		if sets[a.AppID] == nil {
			sets[a.AppID] = &distinct{}
		}
		sets[a.AppID].Add(a.ActorID)
		d.app(a.AppID).ActiveUsers++
	}
	var providers map[string]map[string]int64
	if newest {
		pc, err := s.store.CountProviders(ctx, "", time.Time{}, end)
		if err != nil {
			return nil, err
		}
		providers = map[string]map[string]int64{}
		for _, c := range pc {
			d.app(c.AppID)
			if providers[c.AppID] == nil {
				providers[c.AppID] = map[string]int64{}
			}
			providers[c.AppID][c.Provider] = c.Users
		}
	}
	out := make([]DailyStatsRow, 0, len(d.counts))
	for app, ds := range d.counts {
		ds.TwoFactorUsers = min(max(d.twoFactor[app], 0), ds.Users)
		set := sets[app]
		if set == nil {
			set = &distinct{}
		}
		out = append(out, DailyStatsRow{AppID: app, DayStats: *ds, ActiveSketch: set.MarshalBinary(), Providers: providers[app], RolledAt: now})
	}
	// One order for every replica, so concurrent upserts take their row
	// locks in the same order and never deadlock.
	slices.SortFunc(out, func(a, b DailyStatsRow) int { return strings.Compare(a.AppID, b.AppID) })
	return out, nil
}
