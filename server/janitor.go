package main

import (
	"context"
	"time"
)

// janitor drops expired rows that nothing reads any more (finished
// rate-limit windows, settled deliveries past notify.KeepSent and
// notify.KeepDead) every interval until ctx ends. Several replicas
// running it at once only repeat a cheap DELETE.
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
		}
	}
}
