package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/ratelimit"
)

var _ ratelimit.Store = (*Store)(nil)

type rateLimitRow struct {
	bun.BaseModel `bun:"table:rate_limits,alias:rl"`

	Key         string    `bun:"key,pk"`
	WindowStart time.Time `bun:"window_start,pk"`
	Count       int       `bun:"count"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

// HitRateLimit counts one event for key in the window starting at start
// and returns the window's count so far, in one statement (an upsert), so
// concurrent hits on any replica are all counted.
func (s *Store) HitRateLimit(ctx context.Context, key string, start, expires time.Time) (int, error) {
	const op = "store.HitRateLimit"
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	row := &rateLimitRow{Key: key, WindowStart: utc(start), Count: 1, ExpiresAt: utc(expires)}
	if s.dialect == Postgres { // prepared: every login and signup counts (prepared.go)
		err := s.idb.NewRaw(`INSERT INTO rate_limits AS rl (key, window_start, count, expires_at)
			VALUES ($1, $2::timestamptz, 1, $3::timestamptz)
			ON CONFLICT (key, window_start) DO UPDATE SET count = rl.count + 1
			RETURNING count`).
			Conn(s.bound(key, row.WindowStart, row.ExpiresAt)).
			Scan(ctx, &row.Count)
		if err != nil {
			return 0, wrap(err, op)
		}
		return row.Count, nil
	}
	_, err := s.idb.NewInsert().Model(row).
		On("CONFLICT (key, window_start) DO UPDATE").
		Set("count = rl.count + 1").
		Returning("count").
		Exec(ctx, &row.Count)
	if err != nil {
		return 0, wrap(err, op)
	}
	return row.Count, nil
}

// AddRateLimit adds n to key's count in the window starting at start,
// unless the new count would pass limit, and reports whether it added. A
// negative n gives events back (the count never drops below zero). It is
// one statement (an upsert whose update is conditional), so concurrent
// callers on any replica together never pass limit, and a refusal changes
// nothing.
func (s *Store) AddRateLimit(ctx context.Context, key string, start, expires time.Time, n, limit int) (bool, error) {
	const op = "store.AddRateLimit"
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	if n > limit {
		return false, nil
	}
	row := &rateLimitRow{Key: key, WindowStart: utc(start), Count: max(n, 0), ExpiresAt: utc(expires)}
	var (
		res sql.Result
		err error
	)
	if s.dialect == Postgres { // prepared, as HitRateLimit
		res, err = s.idb.NewRaw(`INSERT INTO rate_limits AS rl (key, window_start, count, expires_at)
			VALUES ($1, $2::timestamptz, $3::integer, $4::timestamptz)
			ON CONFLICT (key, window_start) DO UPDATE SET count = CASE WHEN rl.count + $5::integer < 0 THEN 0 ELSE rl.count + $5::integer END
			WHERE rl.count + $5::integer <= $6::integer`).
			Conn(s.bound(key, row.WindowStart, int64(row.Count), row.ExpiresAt, int64(n), int64(limit))).
			Exec(ctx)
	} else {
		res, err = s.idb.NewInsert().Model(row).
			On("CONFLICT (key, window_start) DO UPDATE").
			Set("count = CASE WHEN rl.count + ? < 0 THEN 0 ELSE rl.count + ? END", n, n).
			Where("rl.count + ? <= ?", n, limit).
			Exec(ctx)
	}
	if err != nil {
		return false, wrap(err, op)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return false, wrap(err, op)
	}
	return added > 0, nil
}

// ReturnRateLimits subtracts each return's N from its window's count, never
// below zero; a window with no row stays without one. On Postgres it is one
// prepared statement (a login gives back two counts); SQLite, in process,
// runs an update per window. Returns to the same window are added up first.
func (s *Store) ReturnRateLimits(ctx context.Context, rs []ratelimit.Return) error {
	const op = "store.ReturnRateLimits"
	type window struct {
		key   string
		start time.Time
	}
	var order []window
	sum := map[window]int{}
	for _, r := range rs {
		w := window{r.Key, utc(r.Start)}
		if _, ok := sum[w]; !ok {
			order = append(order, w)
		}
		sum[w] += r.N
	}
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	if s.dialect != Postgres {
		for _, w := range order {
			_, err := s.idb.NewUpdate().Model((*rateLimitRow)(nil)).
				Set("count = MAX(count - ?, 0)", sum[w]).
				Where("key = ? AND window_start = ?", w.key, w.start).
				Exec(ctx)
			if err != nil {
				return wrap(err, op)
			}
		}
		return nil
	}
	var values strings.Builder
	args := make([]any, 0, 3*len(order))
	for i, w := range order {
		if i > 0 {
			values.WriteString(", ")
		}
		fmt.Fprintf(&values, "($%d, $%d::timestamptz, $%d::integer)", 3*i+1, 3*i+2, 3*i+3)
		args = append(args, w.key, w.start, int64(sum[w]))
	}
	_, err := s.idb.NewRaw(`UPDATE rate_limits AS rl SET count = GREATEST(rl.count - v.n, 0)
		FROM (VALUES ` + values.String() + `) AS v (key, window_start, n)
		WHERE rl.key = v.key AND rl.window_start = v.window_start`).
		Conn(s.bound(args...)).
		Exec(ctx)
	return wrap(err, op)
}

// DeleteRateLimitsBefore drops the counters of windows that ended before t
// and returns how many it dropped.
func (s *Store) DeleteRateLimitsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.idb.NewDelete().Model((*rateLimitRow)(nil)).Where("expires_at < ?", utc(t)).Exec(ctx)
	if err != nil {
		return 0, wrap(err, "store.DeleteRateLimitsBefore")
	}
	n, err := res.RowsAffected()
	return int(n), wrap(err, "store.DeleteRateLimitsBefore")
}
