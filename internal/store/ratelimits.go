package store

import (
	"context"
	"errors"
	"fmt"
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

// AddRateLimits adds each Add's N to its key's count in its window, all
// or none: when one would pass its Limit, it adds nothing and returns that
// one's index as refused (-1 when all were added). Keys must differ.
//
// On Postgres it is one prepared statement, so a login's three counters
// cost one round trip: it reads the counts, adds only when all fit, and
// each row's upsert checks its limit again, so concurrent callers on any
// replica together never pass a limit. A caller that raced past the first
// read can still find one row full; the rows it did add come back as added,
// and the caller gives them back (ratelimit.Limiter does). SQLite, with one
// writer, runs an upsert per Add in a transaction that a refusal rolls back.
func (s *Store) AddRateLimits(ctx context.Context, adds []ratelimit.Add) (added []bool, refused int, err error) {
	const op = "store.AddRateLimits"
	added = make([]bool, len(adds))
	seen := make(map[string]bool, len(adds))
	for i, a := range adds {
		switch {
		case seen[a.Key]:
			return nil, -1, fmt.Errorf("%s: key %q twice", op, a.Key)
		case a.N < 1:
			return nil, -1, fmt.Errorf("%s: key %q: n = %d, want at least 1", op, a.Key, a.N)
		case a.N > a.Limit:
			return added, i, nil // could never fit: nothing to ask
		}
		seen[a.Key] = true
	}
	if len(adds) == 0 {
		return added, -1, nil
	}
	if s.inTx { // a refusal would roll back the caller's transaction
		return nil, -1, fmt.Errorf("%s: in a transaction", op)
	}
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	if s.dialect != Postgres {
		refused, err = s.addRateLimitsTx(ctx, adds)
		if err != nil {
			return nil, -1, wrap(err, op)
		}
		if refused < 0 {
			for i := range added {
				added[i] = true
			}
		}
		return added, refused, nil
	}
	args := make([]any, 0, 6*len(adds))
	for i, a := range adds {
		args = append(args, int64(i), a.Key, utc(a.Start), int64(a.N), int64(a.Limit), utc(a.Expires))
	}
	var rows []addRateLimitRow
	err = s.idb.NewRaw(queryText(addRateLimitsQueries, addRateLimitsSQL, len(adds))).Conn(s.bound(args...)).Scan(ctx, &rows)
	if err != nil {
		return nil, -1, wrap(err, op)
	}
	refused = -1
	for _, r := range rows {
		if r.I < 0 || r.I >= len(adds) {
			return nil, -1, fmt.Errorf("%s: row %d of %d", op, r.I, len(adds))
		}
		added[r.I] = r.Added
	}
	for _, r := range rows { // the first over its limit when read, else the first a race refused
		if r.Over {
			return added, r.I, nil
		}
	}
	for i, ok := range added {
		if !ok {
			return added, i, nil
		}
	}
	return added, refused, nil
}

// addRateLimitRow is one Add's answer: whether it was over its limit when
// the statement read the counts, and whether it was added.
type addRateLimitRow struct {
	I     int  `bun:"i"`
	Over  bool `bun:"over"`
	Added bool `bun:"added"`
}

// addRateLimitsSQL is AddRateLimits' statement for n adds. It upserts in key
// order, so two callers that share keys lock their rows in the same order
// and cannot deadlock.
func addRateLimitsSQL(n int) string {
	return `WITH v (i, key, window_start, n, lim, expires_at) AS (VALUES ` +
		valuesRows(n, "integer", "text", "timestamptz", "integer", "integer", "timestamptz") + `),
	cur AS (
		SELECT v.i, COALESCE(rl.count, 0) + v.n > v.lim AS over
		FROM v LEFT JOIN rate_limits AS rl ON rl.key = v.key AND rl.window_start = v.window_start),
	ins AS (
		INSERT INTO rate_limits AS rl (key, window_start, count, expires_at)
		SELECT v.key, v.window_start, v.n, v.expires_at FROM v
		WHERE NOT EXISTS (SELECT 1 FROM cur WHERE cur.over)
		ORDER BY v.key
		ON CONFLICT (key, window_start) DO UPDATE SET count = rl.count + excluded.count
		WHERE rl.count + excluded.count <= (SELECT v.lim FROM v WHERE v.key = excluded.key)
		RETURNING rl.key)
	SELECT cur.i, cur.over, EXISTS (SELECT 1 FROM ins WHERE ins.key = v.key) AS added
	FROM cur JOIN v ON v.i = cur.i ORDER BY cur.i`
}

// addRateLimitsTx is AddRateLimits on SQLite: a conditional upsert per Add
// in one transaction, rolled back at the first refusal.
func (s *Store) addRateLimitsTx(ctx context.Context, adds []ratelimit.Add) (refused int, err error) {
	refused = -1
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for i, a := range adds {
			row := &rateLimitRow{Key: a.Key, WindowStart: utc(a.Start), Count: a.N, ExpiresAt: utc(a.Expires)}
			res, err := tx.NewInsert().Model(row).
				On("CONFLICT (key, window_start) DO UPDATE").
				Set("count = rl.count + ?", a.N).
				Where("rl.count + ? <= ?", a.N, a.Limit).
				Exec(ctx)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				refused = i
				return errRefused
			}
		}
		return nil
	})
	if errors.Is(err, errRefused) {
		return refused, nil
	}
	return -1, err
}

// errRefused rolls back addRateLimitsTx.
var errRefused = errors.New("rate limit reached")

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
	args := make([]any, 0, 3*len(order))
	for _, w := range order {
		args = append(args, w.key, w.start, int64(sum[w]))
	}
	_, err := s.idb.NewRaw(queryText(returnRateLimitsQueries, returnRateLimitsSQL, len(order))).
		Conn(s.bound(args...)).
		Exec(ctx)
	return wrap(err, op)
}

// returnRateLimitsSQL is ReturnRateLimits' statement for n windows.
func returnRateLimitsSQL(n int) string {
	return `UPDATE rate_limits AS rl SET count = GREATEST(rl.count - v.n, 0)
		FROM (VALUES ` + valuesRows(n, "text", "timestamptz", "integer") + `) AS v (key, window_start, n)
		WHERE rl.key = v.key AND rl.window_start = v.window_start`
}

// addRateLimitsQueries and returnRateLimitsQueries are the statements
// for up to maxBatch counts, built once: a login runs both.
var addRateLimitsQueries, returnRateLimitsQueries = batchTexts(addRateLimitsSQL), batchTexts(returnRateLimitsSQL)

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
