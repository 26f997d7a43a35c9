package main

import (
	"context"
	"time"
)

// janitor drops expired rows that nothing reads any more (finished
// rate-limit windows, settled deliveries past notify.KeepSent and
// notify.KeepDead, and sessions, codes, login tokens and social nonces a
// day past their expiry, in batches: store.SweepExpired) and rolls closed
// days into the stats (console.RollupStats) every interval until ctx ends.
// Several replicas running it at once only repeat cheap DELETEs, and the
// rollup's upserts of the same rows.
func janitor(ctx context.Context, p *parts, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := p.limiter.Sweep(ctx); err != nil {
				p.log.WarnContext(ctx, "janitor: rate limits", "err", err)
			} else if n > 0 {
				p.log.DebugContext(ctx, "janitor: rate limits swept", "rows", n)
			}
			if n, err := p.queue.Sweep(ctx); err != nil {
				p.log.WarnContext(ctx, "janitor: deliveries", "err", err)
			} else if n > 0 {
				p.log.DebugContext(ctx, "janitor: deliveries swept", "rows", n)
			}
			if n, err := p.store.SweepExpired(ctx, time.Now().Add(-expiredRetention), sweepBatch); err != nil {
				p.log.WarnContext(ctx, "janitor: expired sessions and codes", "err", err)
			} else if n > 0 {
				p.log.DebugContext(ctx, "janitor: expired sessions and codes swept", "rows", n)
			}
			if n, err := p.console.RollupStats(ctx); err != nil {
				p.log.WarnContext(ctx, "janitor: stats rollup", "err", err)
			} else if n > 0 {
				p.log.DebugContext(ctx, "janitor: stats rolled up", "days", n)
			}
		}
	}
}

// expiredRetention is how long an expired session or code stays before the
// janitor deletes it: a day in which a support question about it can still
// be answered from the admin API.
const expiredRetention = 24 * time.Hour

// sweepBatch bounds the rows one DELETE of the sweep takes, and so how long
// it holds their locks.
const sweepBatch = 1000
