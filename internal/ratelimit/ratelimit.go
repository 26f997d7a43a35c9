// Package ratelimit counts attempts per key in fixed windows kept in the
// database, so every replica sees the same counts. A fixed window lets a
// burst of up to twice the limit straddle a window boundary; the limits are
// set with that in mind.
package ratelimit

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Store keeps the counters (the store package implements it).
type Store interface {
	// HitRateLimit counts one event for key in the window [start, expires)
	// and returns the window's count including it. It must be atomic under
	// concurrent callers on any replica.
	HitRateLimit(ctx context.Context, key string, start, expires time.Time) (int, error)
	// AddRateLimit adds n (negative: gives back, never below zero) to key's
	// count in the window [start, expires) unless the count would pass
	// limit, and reports whether it added. It must be atomic under
	// concurrent callers on any replica, and change nothing when it refuses.
	AddRateLimit(ctx context.Context, key string, start, expires time.Time, n, limit int) (bool, error)
	// ReturnRateLimits subtracts each Return's N from its window's count,
	// never below zero, leaving a window with no count as it is, in one
	// round trip to a database server.
	ReturnRateLimits(ctx context.Context, rs []Return) error
	// DeleteRateLimitsBefore drops windows that ended before t.
	DeleteRateLimitsBefore(ctx context.Context, t time.Time) (int, error)
}

// Return is N events given back to Key's window starting at Start.
type Return struct {
	Key   string
	Start time.Time
	N     int
}

// Rule is one limit: at most Limit events per Window for each key. The
// domain declares it (identity.LimitRule) with the rules its flows keep.
type Rule = identity.LimitRule

var _ identity.Limiter = (*Limiter)(nil)

// Limiter applies rules. It is safe for concurrent use.
type Limiter struct {
	store Store
	now   func() time.Time
}

// New returns a Limiter over store; now nil means time.Now.
func New(store Store, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{store: store, now: now}
}

// Allow counts one event for key under rule and returns a RateLimited error
// (reason RATE_LIMITED, with the time until the window ends) once the
// window's count passes the limit. An empty key is never limited (a call
// with no IP, say). A rule with Limit <= 0 is off.
func (l *Limiter) Allow(ctx context.Context, rule Rule, key string) error {
	if key == "" || rule.Limit <= 0 {
		return nil
	}
	now := l.now().UTC()
	start := now.Truncate(rule.Window)
	end := start.Add(rule.Window)
	n, err := l.store.HitRateLimit(ctx, rule.Name+":"+key, start, end)
	if err != nil {
		return err
	}
	if n > rule.Limit {
		return limited(end.Sub(now))
	}
	return nil
}

func limited(retry time.Duration) error {
	return apperr.New(apperr.RateLimited, apperr.ReasonRateLimited, "too many attempts; try again later").WithRetryAfter(retry)
}

// Take counts n events for key under rule unless that would pass the
// limit; a refusal counts nothing and returns the same RateLimited error as
// Allow. Concurrent takes on any replica never together pass the limit, so
// a batch (n invitations in one call) is all counted or not at all. An
// empty key or a rule with Limit <= 0 is never limited.
func (l *Limiter) Take(ctx context.Context, rule Rule, key string, n int) error {
	if key == "" || rule.Limit <= 0 {
		return nil
	}
	now := l.now().UTC()
	start := now.Truncate(rule.Window)
	end := start.Add(rule.Window)
	ok, err := l.store.AddRateLimit(ctx, rule.Name+":"+key, start, end, n, rule.Limit)
	if err != nil {
		return err
	}
	if !ok {
		return limited(end.Sub(now))
	}
	return nil
}

// Give gives back what was taken, each Give's N for its key under its
// rule in the current window, in one round trip: attempts that turned out
// not to count (a right password). Giving back more than was taken leaves
// the count at zero; a take in a window that has since ended is not given
// back to the new one.
func (l *Limiter) Give(ctx context.Context, gives ...identity.LimitGive) error {
	now := l.now().UTC()
	rs := make([]Return, 0, len(gives))
	for _, g := range gives {
		if g.Key == "" || g.Rule.Limit <= 0 || g.N <= 0 {
			continue
		}
		rs = append(rs, Return{Key: g.Rule.Name + ":" + g.Key, Start: now.Truncate(g.Rule.Window), N: g.N})
	}
	if len(rs) == 0 {
		return nil
	}
	return l.store.ReturnRateLimits(ctx, rs)
}

// Sweep drops the counters of finished windows. The server calls it now and
// then, off the request path, so no request pays for it (and the cost of a
// request does not depend on whether its key was new).
func (l *Limiter) Sweep(ctx context.Context) (int, error) {
	return l.store.DeleteRateLimitsBefore(ctx, l.now().UTC())
}
