package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// Group commit. Every refresh reads once (FindRefreshSession) and writes
// once (RotateRefreshToken), and on Postgres most of what those cost is
// the statement, not its rows: the round trip, the executor's start and,
// for the write, the commit's WAL flush. So concurrent refreshes share
// their statements: a batcher runs the calls that arrive while earlier
// batches are in flight as the next batch.
//
// A call that finds a free slot (fewer than maxInFlight batches running)
// goes at once, alone or with whoever queued before it, so a lone call
// never waits for company; calls queue only while the database is busy
// with the slots' statements, which is when sharing one pays. A batch
// that waits on a lock (a refresh racing on another replica, an app's
// deletion cascading through its sessions) must not hold up every other
// app's refreshes: once every running batch has run longer than
// stuckAfter, a call opens another slot, up to maxStuck more.

// maxBatch caps a batch: each size is a statement of its own (its VALUES
// rows), prepared once per connection (prepared.go's maxPrepared bounds
// them all).
const maxBatch = 8

const (
	stuckAfter = 20 * time.Millisecond // a statement's usual time is well under 1 ms
	maxStuck   = 4
)

// batcher groups concurrent calls of one statement into batches.
type batcher[In, Out any] struct {
	// run executes a batch as one statement: out[i] answers in[i]. When
	// the database refuses a batch of several, each call runs again alone,
	// so one call's failure (a foreign key, say) is its own; when it does
	// not answer, every call gets that error at once.
	run func(ctx context.Context, in []In) ([]Out, error)
	// key, when set, keeps calls with one key in different batches: a
	// statement sees its own rows' changes only at its end, so two
	// rotations of one token must not share one.
	key         func(In) string
	maxBatch    int
	maxInFlight int
	now         func() time.Time // time.Now; tests set their own

	mu       sync.Mutex
	queue    []*batchCall[In, Out]
	inFlight int
	lastTook time.Time // when the newest running batch began

	batches, calls atomic.Int64 // statements run and calls they answered (Store.BatchCounts)
}

type batchCall[In, Out any] struct {
	ctx context.Context
	in  In
	res chan batchResult[Out] // buffered: a caller that left never blocks the flush
}

type batchResult[Out any] struct {
	out Out
	err error
}

func newBatcher[In, Out any](maxInFlight int, run func(context.Context, []In) ([]Out, error), key func(In) string) *batcher[In, Out] {
	return &batcher[In, Out]{run: run, key: key, maxBatch: maxBatch, maxInFlight: maxInFlight, now: time.Now}
}

// slotFree says whether a new batch may start now. b.mu is held.
func (b *batcher[In, Out]) slotFree() bool {
	if b.inFlight < b.maxInFlight {
		return true
	}
	return b.inFlight < b.maxInFlight+maxStuck && b.now().Sub(b.lastTook) > stuckAfter
}

// do runs in with the next batch and returns its answer. When ctx ends
// first, do returns its error; in may still be written by a batch that
// took it before then, as a statement cut short by a client that left
// may still commit.
func (b *batcher[In, Out]) do(ctx context.Context, in In) (Out, error) {
	c := &batchCall[In, Out]{ctx: ctx, in: in, res: make(chan batchResult[Out], 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	var next []*batchCall[In, Out]
	if b.slotFree() {
		next = b.take()
	}
	b.mu.Unlock()
	if next != nil {
		b.flush(next)
	}
	select {
	case r := <-c.res:
		return r.out, r.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// take removes the next batch from the queue, leaving out calls whose
// callers have gone and leaving queued, in order, those past maxBatch or
// with a key already in the batch; it counts the batch in flight. nil
// when none is waiting. b.mu is held.
func (b *batcher[In, Out]) take() []*batchCall[In, Out] {
	var next, rest []*batchCall[In, Out]
	var keys map[string]bool
	for _, c := range b.queue {
		switch {
		case c.ctx.Err() != nil: // its caller has gone
		case len(next) == b.maxBatch:
			rest = append(rest, c)
		case b.key != nil && keys[b.key(c.in)]:
			rest = append(rest, c)
		default:
			if b.key != nil {
				if keys == nil {
					keys = map[string]bool{}
				}
				keys[b.key(c.in)] = true
			}
			next = append(next, c)
		}
	}
	b.queue = rest
	if next != nil {
		b.inFlight++
		b.lastTook = b.now()
	}
	return next
}

// flush runs batch and answers its calls; then, if calls queued
// meanwhile, it hands the slot to a goroutine that runs them, so the call
// that ran this batch returns without waiting for the next.
func (b *batcher[In, Out]) flush(batch []*batchCall[In, Out]) {
	// The statement serves every caller, so no one caller's cancellation
	// cuts it short; the store's query timeout bounds it.
	ctx := context.WithoutCancel(batch[0].ctx)
	in := make([]In, len(batch))
	for i, c := range batch {
		in[i] = c.in
	}
	b.batches.Add(1)
	b.calls.Add(int64(len(batch)))
	out, err := b.run(ctx, in)
	if err == nil && len(out) != len(in) {
		panic("store: a batch answered a different number of calls")
	}
	switch {
	case err == nil:
		for i, c := range batch {
			c.res <- batchResult[Out]{out: out[i]}
		}
	case len(batch) == 1 || kindOf(err, apperr.Internal) == apperr.Unavailable:
		// A database that did not answer (down, or past the query
		// timeout) would not answer each call alone either.
		for _, c := range batch {
			c.res <- batchResult[Out]{err: err}
		}
	default:
		for i, c := range batch {
			b.batches.Add(1)
			one, err := b.run(ctx, in[i:i+1])
			var r batchResult[Out]
			if r.err = err; err == nil {
				r.out = one[0]
			}
			c.res <- r
		}
	}
	b.mu.Lock()
	b.inFlight--
	var next []*batchCall[In, Out]
	if b.slotFree() {
		next = b.take()
	}
	b.mu.Unlock()
	if next != nil {
		go b.flush(next)
	}
}
