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
	// AddRateLimits adds each Add's N to its key's count in its window,
	// in one round trip to a database server, all or none: when one would
	// pass its limit, it returns that one's index as refused (-1 when all
	// were added) and which it added anyway (a concurrent caller raced it),
	// for the caller to give back. Concurrent callers on any replica
	// together never pass a limit. Keys must differ; every N is at least 1.
	AddRateLimits(ctx context.Context, adds []Add) (added []bool, refused int, err error)
	// ReturnRateLimits subtracts each Return's N from its window's count,
	// never below zero, leaving a window with no count as it is, in one
	// round trip to a database server.
	ReturnRateLimits(ctx context.Context, rs []Return) error
	// DeleteRateLimitsBefore drops windows that ended before t.
	DeleteRateLimitsBefore(ctx context.Context, t time.Time) (int, error)
}

// Add is N events counted under Key in the window [Start, Expires), unless
// the count would pass Limit.
type Add struct {
	Key            string
	Start, Expires time.Time
	N, Limit       int
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

func limited(retry time.Duration) error {
	return apperr.New(apperr.RateLimited, apperr.ReasonRateLimited, "too many attempts; try again later").WithRetryAfter(retry)
}

// Take counts each count's N events under its rule and key, all or none, in
// one round trip. When one would pass its rule's limit nothing is counted,
// and it returns that one's index (the first, in the order given) with a
// RateLimited error (reason RATE_LIMITED) carrying the time until its
// window ends. Concurrent takes on any replica never together pass a
// limit, so a batch (n invitations in one call) is all counted or not at
// all. A count with an empty key (a call with no IP, say) or under a rule
// with Limit <= 0 is not counted and never refused. refused is -1 when
// nothing was refused, and also with any other error.
func (l *Limiter) Take(ctx context.Context, counts ...identity.LimitCount) (refused int, err error) {
	now := l.now().UTC()
	adds := make([]Add, 0, len(counts))
	index := make([]int, 0, len(counts)) // adds[j] is counts[index[j]]
	for i, c := range counts {
		if c.Key == "" || c.Rule.Limit <= 0 {
			continue
		}
		start := now.Truncate(c.Rule.Window)
		adds = append(adds, Add{Key: c.Rule.Name + ":" + c.Key, Start: start, Expires: start.Add(c.Rule.Window), N: c.N, Limit: c.Rule.Limit})
		index = append(index, i)
	}
	if len(adds) == 0 {
		return -1, nil
	}
	added, j, err := l.store.AddRateLimits(ctx, adds)
	if err != nil {
		return -1, err
	}
	if j < 0 {
		return -1, nil
	}
	// A concurrent take raced this one: give back what was added, even
	// when the caller has gone meanwhile.
	var back []Return
	for k, ok := range added {
		if ok {
			back = append(back, Return{Key: adds[k].Key, Start: adds[k].Start, N: adds[k].N})
		}
	}
	if len(back) > 0 {
		if err := l.store.ReturnRateLimits(context.WithoutCancel(ctx), back); err != nil {
			return -1, err
		}
	}
	return index[j], limited(adds[j].Expires.Sub(now))
}

// Give gives back what was taken, each Give's N for its key under its
// rule in the current window, in one round trip: attempts that turned out
// not to count (a right password). Giving back more than was taken leaves
// the count at zero; a take in a window that has since ended is not given
// back to the new one.
func (l *Limiter) Give(ctx context.Context, gives ...identity.LimitCount) error {
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
