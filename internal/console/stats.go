package console

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Stats come from the audit log and the users table, never from a counter
// written by a request: a counter row per app and day would be one hot row
// that every login of a busy app updates. A rollup (RollupStats, which the
// server's janitor runs on every replica) recomputes each closed UTC day
// into daily_stats with set-based queries and advances a watermark; GetStats
// reads the rolled days and counts the open days since the watermark live,
// with indexed queries over one app's day. Which audit actions feed which
// counter is decided here:
var (
	// A signup starts with SignUp (code or link flow), or starts and
	// completes at once (flow none, or a social sign-in that creates the user).
	signupStartActions      = []string{"user.signup.start", "user.signup", "user.signup.social"}
	signupCompletionActions = []string{"user.signup.complete", "user.signup", "user.signup.social"}
	inviteSentActions       = []string{"invite.create"}
	inviteAcceptedActions   = []string{"user.register"}
	// A login is a sign-in of an existing user (password, with or without a
	// second factor, or social) or an anonymous one; sign-ins that create a
	// user count as signups.
	loginActions        = []string{"user.login", "user.login.social", "user.anonymous.create"}
	loginFailureActions = []string{"user.login", "user.login.second_factor", "user.login.social"}
	// Active users: whoever signed in (any way, signups included) or
	// refreshed a session. Each of these events names the user as actor, so
	// the refresh path needs no extra write.
	activeActions = []string{
		"user.login", "user.login.social", "user.anonymous.create", "user.anonymous.upgrade",
		"user.signup", "user.signup.complete", "user.signup.social", "user.register",
		"user.password.change", "session.refresh",
	}
	// Second factors turned on and off: the open days' adoption adds them
	// to the newest rolled day's; the rollup walks them back from a
	// snapshot of the users table.
	twoFactorOnActions  = []string{"user.2fa.enable", "user.2fa.import"}
	twoFactorOffActions = []string{"user.2fa.disable", "user.2fa.reset"}
)

// countedActions are every action CountActions needs to read.
var countedActions = union(signupStartActions, signupCompletionActions, inviteSentActions, inviteAcceptedActions,
	loginActions, loginFailureActions, twoFactorOnActions, twoFactorOffActions)

func union(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, a := range l {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// DayStats are the counts of one UTC day of an app, or of a range (totals).
type DayStats struct {
	Day               time.Time // midnight UTC; zero for totals
	Signups           int64
	SignupCompletions int64
	InvitesSent       int64
	InvitesAccepted   int64
	Logins            int64
	LoginFailures     int64
	ActiveUsers       int64 // distinct users who signed in or refreshed
	Users             int64 // at the day's end
	TwoFactorUsers    int64 // of Users, with a second factor
}

// SignupConversion is SignupCompletions / Signups, 0 when none started.
func (d DayStats) SignupConversion() float64 { return ratio(d.SignupCompletions, d.Signups) }

// InviteConversion is InvitesAccepted / InvitesSent, 0 when none was sent.
func (d DayStats) InviteConversion() float64 { return ratio(d.InvitesAccepted, d.InvitesSent) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// add counts n events of action with outcome.
func (d *DayStats) add(action, outcome string, n int64) {
	if outcome == identity.OutcomeFailure {
		if has(loginFailureActions, action) {
			d.LoginFailures += n
		}
		return
	}
	for _, c := range []struct {
		actions []string
		field   *int64
	}{
		{signupStartActions, &d.Signups}, {signupCompletionActions, &d.SignupCompletions},
		{inviteSentActions, &d.InvitesSent}, {inviteAcceptedActions, &d.InvitesAccepted}, {loginActions, &d.Logins},
	} {
		if has(c.actions, action) {
			*c.field += n
		}
	}
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// twoFactorNet is how many second factors counts turned on minus off.
func twoFactorNet(counts []ActionCount) int64 {
	var n int64
	for _, c := range counts {
		switch {
		case c.Outcome != identity.OutcomeSuccess:
		case has(twoFactorOnActions, c.Action):
			n += c.N
		case has(twoFactorOffActions, c.Action):
			n -= c.N
		}
	}
	return n
}

// StatsReport is what GetStats answers.
type StatsReport struct {
	Days []DayStats
	// Totals sums the days; Users and TwoFactorUsers are the last day's,
	// ActiveUsers the distinct users over the whole range.
	Totals DayStats
	// UsersByProvider counts users now by way of signing in ("password",
	// "anonymous", "apple", "google"); a user with two counts in both.
	UsersByProvider map[string]int64
}

// ActionCount is how many audit events of one app had one action and outcome.
type ActionCount struct {
	AppID, Action, Outcome string
	N                      int64
}

// AppActor is one distinct actor of an app.
type AppActor struct{ AppID, ActorID string }

// UserCount counts an app's users, and how many have a second factor.
type UserCount struct {
	AppID            string
	Users, TwoFactor int64
}

// ProviderCount counts an app's users with one way of signing in.
type ProviderCount struct {
	AppID, Provider string
	Users           int64
}

// DailyStatsRow is one rolled-up day of one app.
type DailyStatsRow struct {
	AppID string
	DayStats
	ActiveSketch []byte           // a distinct set of the day's active users
	Providers    map[string]int64 // users by provider at the day's end; set on the newest rolled day only
	RolledAt     time.Time
}

// StatsStore reads what stats are made of and keeps the rollup. Ranges
// are half-open [from, to); a zero from is the beginning, a zero to the
// end; appID "" means every app.
type StatsStore interface {
	// CountActions counts audit events whose action is one of actions, per
	// app, action and outcome.
	CountActions(ctx context.Context, appID string, actions []string, from, to time.Time) ([]ActionCount, error)
	// ActiveActors lists the distinct non-empty actors of successful events
	// whose action is one of actions.
	ActiveActors(ctx context.Context, appID string, actions []string, from, to time.Time) ([]AppActor, error)
	// CountUsersCreated counts users created in the range, per app, with how many
	// of them have a second factor now.
	CountUsersCreated(ctx context.Context, appID string, from, to time.Time) ([]UserCount, error)
	// CountProviders counts users created in the range per app with a
	// password ("password") or anonymous ("anonymous"), and social
	// identities linked in the range per provider.
	CountProviders(ctx context.Context, appID string, from, to time.Time) ([]ProviderCount, error)
	// EarliestActivity is the time of the oldest audit event or user
	// (zero: none).
	EarliestActivity(ctx context.Context) (time.Time, error)
	// PutDailyStats inserts the rows or replaces those of the same app and day.
	PutDailyStats(ctx context.Context, rows []DailyStatsRow) error
	// DailyStats returns appID's rolled days in [from, to] (inclusive days), oldest first.
	DailyStats(ctx context.Context, appID string, from, to time.Time) ([]DailyStatsRow, error)
	// StatsWatermark is the last day rolled up (zero: none yet).
	StatsWatermark(ctx context.Context) (time.Time, error)
	// AdvanceStatsWatermark moves the watermark to day unless it is past it already.
	AdvanceStatsWatermark(ctx context.Context, day, at time.Time) error
}

// dayOf is the UTC midnight that starts t's day.
func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func nextDay(d time.Time) time.Time { return d.AddDate(0, 0, 1) }

// DateLayout is how stats name a day.
const DateLayout = "2006-01-02"

// maxStatsDays bounds a GetStats range (inclusive days).
const maxStatsDays = 366

// GetStats counts appID's days in [start, end] (YYYY-MM-DD, inclusive);
// empty start and end mean the 30 days ending today (UTC), one empty the
// 30 days from or to the other. Viewers may read it.
func (s *Service) GetStats(ctx context.Context, d identity.Developer, appID, start, end string) (StatsReport, error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return StatsReport{}, err
	}
	from, to, err := statsRange(s.clock(), start, end)
	if err != nil {
		return StatsReport{}, err
	}
	appID = m.ID
	wm, err := s.store.StatsWatermark(ctx)
	if err != nil {
		return StatsReport{}, err
	}
	rolled := map[time.Time]DailyStatsRow{}
	var wmRow DailyStatsRow // the app's newest rolled day, when there is one
	if !wm.IsZero() {
		lo, hi := from, to
		if wm.Before(hi) {
			hi = wm
		}
		if wm.Before(lo) { // the range is past the watermark: read the watermark's day alone
			lo = wm
		}
		rows, err := s.store.DailyStats(ctx, appID, lo, hi)
		if err != nil {
			return StatsReport{}, err
		}
		if wm.After(to) {
			// The watermark's day is past the range: read it for the providers.
			more, err := s.store.DailyStats(ctx, appID, wm, wm)
			if err != nil {
				return StatsReport{}, err
			}
			rows = append(rows, more...)
		}
		for _, r := range rows {
			rolled[r.Day] = r
			if r.Day.Equal(wm) {
				wmRow = r
			}
		}
	}

	rep := StatsReport{UsersByProvider: map[string]int64{}}
	active := &distinct{}
	var live *liveDays // built at the first day past the watermark
	for day := from; !day.After(to); day = nextDay(day) {
		var ds DayStats
		if !wm.IsZero() && !day.After(wm) {
			r := rolled[day]
			ds = r.DayStats
			sk, err := parseDistinct(r.ActiveSketch)
			if err != nil {
				return StatsReport{}, apperr.Wrap(err, apperr.Internal, "console.GetStats")
			}
			active.Merge(sk)
		} else {
			if live == nil {
				if live, err = s.startLive(ctx, appID, wm, wmRow, day); err != nil {
					return StatsReport{}, err
				}
			}
			if ds, err = live.day(ctx, day, active); err != nil {
				return StatsReport{}, err
			}
		}
		ds.Day = day
		rep.Days = append(rep.Days, ds)
		t := &rep.Totals
		t.Signups += ds.Signups
		t.SignupCompletions += ds.SignupCompletions
		t.InvitesSent += ds.InvitesSent
		t.InvitesAccepted += ds.InvitesAccepted
		t.Logins += ds.Logins
		t.LoginFailures += ds.LoginFailures
		t.Users, t.TwoFactorUsers = ds.Users, ds.TwoFactorUsers
	}
	rep.Totals.ActiveUsers = active.Count()

	// Users by provider now: the newest snapshot plus users created and
	// identities linked since.
	var since time.Time
	if !wm.IsZero() {
		since = nextDay(wm)
		for p, n := range wmRow.Providers {
			rep.UsersByProvider[p] += n
		}
	}
	newer, err := s.store.CountProviders(ctx, appID, since, time.Time{})
	if err != nil {
		return StatsReport{}, err
	}
	for _, c := range newer {
		rep.UsersByProvider[c.Provider] += c.Users
	}
	return rep, nil
}

// statsRange parses and checks a GetStats range.
func statsRange(now time.Time, start, end string) (from, to time.Time, err error) {
	parse := func(field, v string) (time.Time, error) {
		t, err := time.Parse(DateLayout, v)
		if err != nil {
			return time.Time{}, apperr.Field(field, "is not a date (YYYY-MM-DD)")
		}
		return t, nil
	}
	today := dayOf(now)
	switch {
	case start == "" && end == "":
		to = today
		from = to.AddDate(0, 0, -29)
	case start == "":
		if to, err = parse("end_date", end); err != nil {
			return
		}
		from = to.AddDate(0, 0, -29)
	case end == "":
		if from, err = parse("start_date", start); err != nil {
			return
		}
		to = from.AddDate(0, 0, 29)
	default:
		if from, err = parse("start_date", start); err != nil {
			return
		}
		if to, err = parse("end_date", end); err != nil {
			return
		}
	}
	if to.Before(from) {
		return from, to, apperr.Field("end_date", "is before start_date")
	}
	if to.Sub(from) >= maxStatsDays*24*time.Hour {
		return from, to, apperr.Field("end_date", "is more than 366 days after start_date")
	}
	return from, to, nil
}

// liveDays counts the days past the watermark from the audit log and the
// users table: the users at the start of the first such day come from the
// watermark's row (or a count, before the first rollup), each day adds the
// users it created and the second factors turned on and off.
type liveDays struct {
	s                *Service
	appID            string
	users, twoFactor int64
}

func (s *Service) startLive(ctx context.Context, appID string, wm time.Time, wmRow DailyStatsRow, first time.Time) (*liveDays, error) {
	l := &liveDays{s: s, appID: appID}
	var since time.Time
	if !wm.IsZero() {
		since = nextDay(wm)
		l.users, l.twoFactor = wmRow.Users, wmRow.TwoFactorUsers
	}
	if since.Before(first) { // users and factors between the watermark (or the beginning) and first
		uc, err := s.store.CountUsersCreated(ctx, appID, since, first)
		if err != nil {
			return nil, err
		}
		for _, c := range uc {
			l.users += c.Users
			if since.IsZero() { // no rollup yet: today's factors of the users then
				l.twoFactor += c.TwoFactor
			}
		}
		if !since.IsZero() {
			ac, err := s.store.CountActions(ctx, appID, union(twoFactorOnActions, twoFactorOffActions), since, first)
			if err != nil {
				return nil, err
			}
			l.twoFactor += twoFactorNet(ac)
		}
	}
	return l, nil
}

// day counts one day past the watermark and adds its active users to active.
func (l *liveDays) day(ctx context.Context, day time.Time, active *distinct) (DayStats, error) {
	end := nextDay(day)
	var ds DayStats
	counts, err := l.s.store.CountActions(ctx, l.appID, countedActions, day, end)
	if err != nil {
		return DayStats{}, err
	}
	for _, c := range counts {
		ds.add(c.Action, c.Outcome, c.N)
	}
	actors, err := l.s.store.ActiveActors(ctx, l.appID, activeActions, day, end)
	if err != nil {
		return DayStats{}, err
	}
	for _, a := range actors {
		active.Add(a.ActorID)
	}
	ds.ActiveUsers = int64(len(actors))
	uc, err := l.s.store.CountUsersCreated(ctx, l.appID, day, end)
	if err != nil {
		return DayStats{}, err
	}
	for _, c := range uc {
		l.users += c.Users // their factors come with the enable events
	}
	l.twoFactor = min(max(l.twoFactor+twoFactorNet(counts), 0), l.users)
	ds.Users, ds.TwoFactorUsers = l.users, l.twoFactor
	return ds, nil
}
