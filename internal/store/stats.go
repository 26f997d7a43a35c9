package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
)

var _ console.StatsStore = (*Store)(nil)

type dailyStatsRow struct {
	bun.BaseModel `bun:"table:daily_stats,alias:ds"`

	AppID             string    `bun:"app_id,pk"`
	Day               string    `bun:"day,pk"` // YYYY-MM-DD
	Signups           int64     `bun:"signups"`
	SignupCompletions int64     `bun:"signup_completions"`
	InvitesSent       int64     `bun:"invites_sent"`
	InvitesAccepted   int64     `bun:"invites_accepted"`
	Logins            int64     `bun:"logins"`
	LoginFailures     int64     `bun:"login_failures"`
	ActiveUsers       int64     `bun:"active_users"`
	Users             int64     `bun:"users"`
	TwoFactorUsers    int64     `bun:"two_factor_users"`
	ActiveSketch      []byte    `bun:"active_sketch,notnull"`
	Providers         string    `bun:"providers"` // JSON object
	RolledAt          time.Time `bun:"rolled_at"`
}

type statsRollupRow struct {
	bun.BaseModel `bun:"table:stats_rollups,alias:sr"`

	Name          string    `bun:"name,pk"`
	RolledThrough string    `bun:"rolled_through"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// dailyRollup names the one watermark row.
const dailyRollup = "daily"

func dayString(t time.Time) string { return t.UTC().Format(console.DateLayout) }

// timeRange adds `column >= from AND column < to` for the set bounds.
func timeRange(q *bun.SelectQuery, column string, from, to time.Time) *bun.SelectQuery {
	if !from.IsZero() {
		q = q.Where("? >= ?", bun.Ident(column), utc(from))
	}
	if !to.IsZero() {
		q = q.Where("? < ?", bun.Ident(column), utc(to))
	}
	return q
}

func byApp(q *bun.SelectQuery, column, appID string) *bun.SelectQuery {
	if appID != "" {
		q = q.Where("? = ?", bun.Ident(column), appID)
	}
	return q
}

// CountActions counts audit events by app, action and outcome.
func (s *Store) CountActions(ctx context.Context, appID string, actions []string, from, to time.Time) ([]console.ActionCount, error) {
	var out []struct {
		AppID   string `bun:"app_id"`
		Action  string `bun:"action"`
		Outcome string `bun:"outcome"`
		N       int64  `bun:"n"`
	}
	q := s.idb.NewSelect().TableExpr("audit_events").
		ColumnExpr("app_id, action, outcome, count(*) AS n").
		Where("action IN (?)", bun.List(actions)).
		GroupExpr("app_id, action, outcome")
	q = timeRange(byApp(q, "app_id", appID), "occurred_at", from, to)
	if err := q.Scan(ctx, &out); err != nil {
		return nil, wrap(err, "store.CountActions")
	}
	counts := make([]console.ActionCount, len(out))
	for i, c := range out {
		counts[i] = console.ActionCount{AppID: c.AppID, Action: c.Action, Outcome: c.Outcome, N: c.N}
	}
	return counts, nil
}

// ActiveActors lists the distinct actors of successful events.
func (s *Store) ActiveActors(ctx context.Context, appID string, actions []string, from, to time.Time) ([]console.AppActor, error) {
	var out []struct {
		AppID   string `bun:"app_id"`
		ActorID string `bun:"actor_id"`
	}
	q := s.idb.NewSelect().TableExpr("audit_events").Distinct().
		ColumnExpr("app_id, actor_id").
		Where("action IN (?)", bun.List(actions)).
		Where("outcome = 'success' AND actor_id <> ''")
	q = timeRange(byApp(q, "app_id", appID), "occurred_at", from, to)
	if err := q.Scan(ctx, &out); err != nil {
		return nil, wrap(err, "store.ActiveActors")
	}
	actors := make([]console.AppActor, len(out))
	for i, a := range out {
		actors[i] = console.AppActor{AppID: a.AppID, ActorID: a.ActorID}
	}
	return actors, nil
}

// CountUsersCreated counts users created in the range per app.
func (s *Store) CountUsersCreated(ctx context.Context, appID string, from, to time.Time) ([]console.UserCount, error) {
	var out []struct {
		AppID     string `bun:"app_id"`
		Users     int64  `bun:"users"`
		TwoFactor int64  `bun:"two_factor"`
	}
	q := s.idb.NewSelect().TableExpr("users").
		ColumnExpr("app_id, count(*) AS users, sum(CASE WHEN two_factor <> 'none' THEN 1 ELSE 0 END) AS two_factor").
		GroupExpr("app_id")
	q = timeRange(byApp(q, "app_id", appID), "created_at", from, to)
	if err := q.Scan(ctx, &out); err != nil {
		return nil, wrap(err, "store.CountUsersCreated")
	}
	counts := make([]console.UserCount, len(out))
	for i, c := range out {
		counts[i] = console.UserCount{AppID: c.AppID, Users: c.Users, TwoFactor: c.TwoFactor}
	}
	return counts, nil
}

// CountProviders counts users created in the range per app and way of
// signing in, "password" (a password is set) and "anonymous", and social
// identities linked in the range per provider.
func (s *Store) CountProviders(ctx context.Context, appID string, from, to time.Time) ([]console.ProviderCount, error) {
	const op = "store.CountProviders"
	type count struct {
		AppID    string `bun:"app_id"`
		Provider string `bun:"provider"`
		N        int64  `bun:"n"`
	}
	var all []count
	for _, q := range []*bun.SelectQuery{
		s.idb.NewSelect().TableExpr("users AS u").ColumnExpr("u.app_id, 'password' AS provider, count(*) AS n").
			Where("u.password_hash IS NOT NULL").GroupExpr("u.app_id"),
		s.idb.NewSelect().TableExpr("users AS u").ColumnExpr("u.app_id, 'anonymous' AS provider, count(*) AS n").
			Where("u.anonymous").GroupExpr("u.app_id"),
	} {
		var out []count
		q = timeRange(byApp(q, "u.app_id", appID), "u.created_at", from, to)
		if err := q.Scan(ctx, &out); err != nil {
			return nil, wrap(err, op)
		}
		all = append(all, out...)
	}
	// Social identities by when they were linked: a user who links Google
	// a year after signing up counts from the link.
	var out []count
	q := s.idb.NewSelect().TableExpr("user_identities AS i").
		ColumnExpr("i.app_id, i.provider, count(*) AS n").GroupExpr("i.app_id, i.provider")
	q = timeRange(byApp(q, "i.app_id", appID), "i.created_at", from, to)
	if err := q.Scan(ctx, &out); err != nil {
		return nil, wrap(err, op)
	}
	all = append(all, out...)
	counts := make([]console.ProviderCount, len(all))
	for i, c := range all {
		counts[i] = console.ProviderCount{AppID: c.AppID, Provider: c.Provider, Users: c.N}
	}
	return counts, nil
}

// EarliestActivity is the time of the oldest audit event or user.
func (s *Store) EarliestActivity(ctx context.Context) (time.Time, error) {
	const op = "store.EarliestActivity"
	var first time.Time
	for _, q := range []*bun.SelectQuery{
		s.idb.NewSelect().TableExpr("audit_events").ColumnExpr("occurred_at").OrderExpr("occurred_at").Limit(1),
		s.idb.NewSelect().TableExpr("users").ColumnExpr("created_at").OrderExpr("created_at").Limit(1),
	} {
		var ts []time.Time
		if err := q.Scan(ctx, &ts); err != nil {
			return time.Time{}, wrap(err, op)
		}
		if len(ts) == 1 && (first.IsZero() || ts[0].Before(first)) {
			first = ts[0]
		}
	}
	return utc(first), nil
}

// PutDailyStats upserts rolled-up days.
func (s *Store) PutDailyStats(ctx context.Context, rows []console.DailyStatsRow) error {
	const op = "store.PutDailyStats"
	if len(rows) == 0 {
		return nil
	}
	out := make([]dailyStatsRow, len(rows))
	for i, r := range rows {
		providers := []byte("{}")
		if len(r.Providers) > 0 {
			var err error
			if providers, err = json.Marshal(r.Providers); err != nil {
				return apperr.Wrap(err, apperr.Internal, op)
			}
		}
		sketch := r.ActiveSketch
		if sketch == nil {
			sketch = []byte{}
		}
		out[i] = dailyStatsRow{
			AppID: r.AppID, Day: dayString(r.Day), Signups: r.Signups, SignupCompletions: r.SignupCompletions,
			InvitesSent: r.InvitesSent, InvitesAccepted: r.InvitesAccepted, Logins: r.Logins, LoginFailures: r.LoginFailures,
			ActiveUsers: r.ActiveUsers, Users: r.Users, TwoFactorUsers: r.TwoFactorUsers,
			ActiveSketch: sketch, Providers: string(providers), RolledAt: utc(r.RolledAt),
		}
	}
	// Large backfills write one app per row: keep each statement's
	// parameters well under SQLite's and Postgres' limits.
	const batch = 500
	for len(out) > 0 {
		n := min(batch, len(out))
		chunk := out[:n]
		out = out[n:]
		_, err := s.idb.NewInsert().Model(&chunk).
			On("CONFLICT (app_id, day) DO UPDATE").
			Set("signups = EXCLUDED.signups").
			Set("signup_completions = EXCLUDED.signup_completions").
			Set("invites_sent = EXCLUDED.invites_sent").
			Set("invites_accepted = EXCLUDED.invites_accepted").
			Set("logins = EXCLUDED.logins").
			Set("login_failures = EXCLUDED.login_failures").
			Set("active_users = EXCLUDED.active_users").
			Set("users = EXCLUDED.users").
			Set("two_factor_users = EXCLUDED.two_factor_users").
			Set("active_sketch = EXCLUDED.active_sketch").
			Set("providers = EXCLUDED.providers").
			Set("rolled_at = EXCLUDED.rolled_at").
			Exec(ctx)
		if err != nil {
			return wrap(err, op)
		}
	}
	return nil
}

// DailyStats returns appID's rolled days in [from, to], oldest first.
func (s *Store) DailyStats(ctx context.Context, appID string, from, to time.Time) ([]console.DailyStatsRow, error) {
	const op = "store.DailyStats"
	var rows []dailyStatsRow
	err := s.idb.NewSelect().Model(&rows).
		Where("app_id = ? AND day >= ? AND day <= ?", appID, dayString(from), dayString(to)).
		OrderExpr("day").Scan(ctx)
	if err != nil {
		return nil, wrap(err, op)
	}
	out := make([]console.DailyStatsRow, len(rows))
	for i, r := range rows {
		day, err := time.Parse(console.DateLayout, r.Day)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		var providers map[string]int64
		if err := json.Unmarshal([]byte(r.Providers), &providers); err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		out[i] = console.DailyStatsRow{
			AppID: r.AppID,
			DayStats: console.DayStats{
				Day: day, Signups: r.Signups, SignupCompletions: r.SignupCompletions, InvitesSent: r.InvitesSent,
				InvitesAccepted: r.InvitesAccepted, Logins: r.Logins, LoginFailures: r.LoginFailures,
				ActiveUsers: r.ActiveUsers, Users: r.Users, TwoFactorUsers: r.TwoFactorUsers,
			},
			ActiveSketch: r.ActiveSketch, Providers: providers, RolledAt: utc(r.RolledAt),
		}
	}
	return out, nil
}

// StatsWatermark is the last day rolled up, zero before the first rollup.
func (s *Store) StatsWatermark(ctx context.Context) (time.Time, error) {
	const op = "store.StatsWatermark"
	var row statsRollupRow
	err := s.idb.NewSelect().Model(&row).Where("name = ?", dailyRollup).Scan(ctx)
	if err != nil {
		if apperr.Is(wrap(err, op), apperr.NotFound) {
			return time.Time{}, nil
		}
		return time.Time{}, wrap(err, op)
	}
	day, err := time.Parse(console.DateLayout, row.RolledThrough)
	if err != nil {
		return time.Time{}, apperr.Wrap(err, apperr.Internal, op)
	}
	return day, nil
}

// AdvanceStatsWatermark moves the watermark forward to day, in one
// statement, so concurrent rollups never move it back.
func (s *Store) AdvanceStatsWatermark(ctx context.Context, day, at time.Time) error {
	row := statsRollupRow{Name: dailyRollup, RolledThrough: dayString(day), UpdatedAt: utc(at)}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (name) DO UPDATE").
		Set("rolled_through = EXCLUDED.rolled_through, updated_at = EXCLUDED.updated_at").
		Where("sr.rolled_through < EXCLUDED.rolled_through").
		Exec(ctx)
	return wrap(err, "store.AdvanceStatsWatermark")
}
