package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// gate is a batcher's run that doubles each input, records each batch,
// and holds its first batch until released, so the calls made meanwhile
// queue and go together.
type gate struct {
	held    chan struct{} // closed when the first batch is running
	release chan struct{}
	fail    func(in []int) error // nil: never

	mu      sync.Mutex
	batches [][]int
}

func newGate() *gate {
	return &gate{held: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) run(_ context.Context, in []int) ([]int, error) {
	g.mu.Lock()
	g.batches = append(g.batches, slices.Clone(in))
	first := len(g.batches) == 1
	g.mu.Unlock()
	if first {
		close(g.held)
		<-g.release
	}
	if g.fail != nil {
		if err := g.fail(in); err != nil {
			return nil, err
		}
	}
	out := make([]int, len(in))
	for i, v := range in {
		out[i] = 2 * v
	}
	return out, nil
}

func (g *gate) seen() [][]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.batches)
}

// frozen stops b's clock, so a held batch never counts as stuck however
// long a busy machine takes to queue the calls (TestBatcherStuck moves it).
func frozen[In, Out any](b *batcher[In, Out]) *batcher[In, Out] {
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b.now = func() time.Time { return at }
	return b
}

// queued waits until n calls wait in b's queue.
func queued[In, Out any](t *testing.T, b *batcher[In, Out], n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		got := len(b.queue)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", got, n)
		}
	}
}

type answer struct {
	in, out int
	err     error
}

// call runs b.do(ctx, v) in a goroutine, answering on the returned channel.
func call(ctx context.Context, b *batcher[int, int], v int) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		out, err := b.do(ctx, v)
		ch <- answer{v, out, err}
	}()
	return ch
}

// TestBatcherGroups: calls made while a batch runs go together in the
// next, at most maxBatch at a time, and each gets its own answer.
func TestBatcherGroups(t *testing.T) {
	g := newGate()
	b := frozen(newBatcher(1, g.run, nil))
	ctx := t.Context()
	first := call(ctx, b, 100)
	<-g.held
	var rest []<-chan answer
	for v := range maxBatch + 2 {
		rest = append(rest, call(ctx, b, v))
		queued(t, b, v+1) // in order, so the batches' contents are known
	}
	close(g.release)
	for _, ch := range append(rest, first) {
		a := <-ch
		if a.err != nil || a.out != 2*a.in {
			t.Errorf("do(%d) = %d, %v; want %d", a.in, a.out, a.err, 2*a.in)
		}
	}
	want := [][]int{{100}, {0, 1, 2, 3, 4, 5, 6, 7}, {8, 9}}
	if got := g.seen(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	if n, calls := b.batches.Load(), b.calls.Load(); n != 3 || calls != maxBatch+3 {
		t.Errorf("counted %d batches of %d calls, want 3 of %d", n, calls, maxBatch+3)
	}
}

// TestBatcherInFlight: a lone call goes at once while fewer than
// maxInFlight batches run; past that, calls wait for a slot.
func TestBatcherInFlight(t *testing.T) {
	g := newGate()
	b := frozen(newBatcher(2, g.run, nil))
	ctx := t.Context()
	first := call(ctx, b, 1)
	<-g.held
	if a := <-call(ctx, b, 2); a.err != nil || a.out != 4 {
		t.Fatalf("a call beside one running batch = %d, %v; want 4 at once", a.out, a.err)
	}
	b.mu.Lock()
	b.inFlight++ // as if a second batch were running
	b.mu.Unlock()
	third := call(ctx, b, 3)
	queued(t, b, 1)
	b.mu.Lock()
	b.inFlight--
	b.mu.Unlock()
	close(g.release) // the first batch ends and takes the queued call along
	for _, ch := range []<-chan answer{first, third} {
		if a := <-ch; a.err != nil || a.out != 2*a.in {
			t.Errorf("do(%d) = %d, %v", a.in, a.out, a.err)
		}
	}
	if got, want := g.seen(), [][]int{{1}, {2}, {3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}

// failedBatch runs a batch of calls 1 to 4 behind a held call 0 with
// fail deciding which runs fail, and returns their answers and the
// batches run.
func failedBatch(t *testing.T, fail func(in []int) error) ([]answer, [][]int) {
	t.Helper()
	g := newGate()
	g.fail = fail
	b := frozen(newBatcher(1, g.run, nil))
	ctx := t.Context()
	first := call(ctx, b, 0)
	<-g.held
	var rest []<-chan answer
	for v := 1; v <= 4; v++ {
		rest = append(rest, call(ctx, b, v))
		queued(t, b, v)
	}
	close(g.release)
	<-first
	var answers []answer
	for _, ch := range rest {
		answers = append(answers, <-ch)
	}
	return answers, g.seen()
}

// TestBatcherIsolatesFailure: when the database refuses a batch of
// several, each call runs alone, so only the call that fails alone gets
// an error.
func TestBatcherIsolatesFailure(t *testing.T) {
	bad := errors.New("row 3 breaks a constraint")
	answers, seen := failedBatch(t, func(in []int) error {
		if slices.Contains(in, 3) {
			return bad
		}
		return nil
	})
	for _, a := range answers {
		switch {
		case a.in == 3 && !errors.Is(a.err, bad):
			t.Errorf("do(3) = %d, %v; want its own error", a.out, a.err)
		case a.in != 3 && (a.err != nil || a.out != 2*a.in):
			t.Errorf("do(%d) = %d, %v; want %d", a.in, a.out, a.err, 2*a.in)
		}
	}
	if want := [][]int{{0}, {1, 2, 3, 4}, {1}, {2}, {3}, {4}}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", seen, want)
	}
}

// TestBatcherUnavailable: when the database does not answer a batch, every
// call gets that error at once, without a run of its own that would wait
// out the same timeout again.
func TestBatcherUnavailable(t *testing.T) {
	timedOut := fmt.Errorf("query_timeout: %w", context.DeadlineExceeded)
	answers, seen := failedBatch(t, func(in []int) error {
		if len(in) > 1 {
			return timedOut
		}
		return nil
	})
	for _, a := range answers {
		if !errors.Is(a.err, context.DeadlineExceeded) {
			t.Errorf("do(%d) = %d, %v; want the batch's timeout", a.in, a.out, a.err)
		}
	}
	if want := [][]int{{0}, {1, 2, 3, 4}}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v (no call alone after a timeout)", seen, want)
	}
}

// TestBatcherSkipsLeftCalls: a caller that leaves before its batch is
// taken gets its context's error, and its call is not run.
func TestBatcherSkipsLeftCalls(t *testing.T) {
	g := newGate()
	b := frozen(newBatcher(1, g.run, nil))
	ctx := t.Context()
	first := call(ctx, b, 1)
	<-g.held
	gone, cancel := context.WithCancel(ctx)
	left := call(gone, b, 2)
	queued(t, b, 1)
	stays := call(ctx, b, 3)
	queued(t, b, 2)
	cancel()
	if a := <-left; !errors.Is(a.err, context.Canceled) {
		t.Errorf("the left call = %d, %v; want context.Canceled", a.out, a.err)
	}
	close(g.release)
	for _, ch := range []<-chan answer{first, stays} {
		if a := <-ch; a.err != nil || a.out != 2*a.in {
			t.Errorf("do(%d) = %d, %v", a.in, a.out, a.err)
		}
	}
	if got, want := g.seen(), [][]int{{1}, {3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}

// TestBatcherOnePerKey: calls with one key go in different batches, in
// the order they came; the others go together.
func TestBatcherOnePerKey(t *testing.T) {
	g := newGate()
	b := frozen(newBatcher(1, g.run, func(v int) string { return fmt.Sprint(v % 10) }))
	ctx := t.Context()
	first := call(ctx, b, 100)
	<-g.held
	var rest []<-chan answer
	for i, v := range []int{1, 11, 2, 21, 3} {
		rest = append(rest, call(ctx, b, v))
		queued(t, b, i+1)
	}
	close(g.release)
	for _, ch := range append(rest, first) {
		if a := <-ch; a.err != nil || a.out != 2*a.in {
			t.Errorf("do(%d) = %d, %v", a.in, a.out, a.err)
		}
	}
	if got, want := g.seen(), [][]int{{100}, {1, 2, 3}, {11}, {21}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}

// TestBatcherStuck: while its one batch runs, calls queue; once that batch
// has run longer than stuckAfter, the next call opens another slot and
// takes the queue along.
func TestBatcherStuck(t *testing.T) {
	g := newGate()
	b := newBatcher(1, g.run, nil)
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	b.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	ctx := t.Context()
	first := call(ctx, b, 1)
	<-g.held
	waits := call(ctx, b, 2)
	queued(t, b, 1)
	mu.Lock()
	now = now.Add(stuckAfter + time.Millisecond)
	mu.Unlock()
	if a := <-call(ctx, b, 3); a.err != nil || a.out != 6 {
		t.Fatalf("a call past a stuck batch = %d, %v; want 6 at once", a.out, a.err)
	}
	if a := <-waits; a.err != nil || a.out != 4 {
		t.Errorf("the queued call = %d, %v; want 4 with the new slot's batch", a.out, a.err)
	}
	close(g.release)
	if a := <-first; a.err != nil || a.out != 2 {
		t.Errorf("the stuck call = %d, %v", a.out, a.err)
	}
	if got, want := g.seen(), [][]int{{1}, {2, 3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
}
