package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/ratelimit"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// take is Take of one count.
func take(ctx context.Context, l *ratelimit.Limiter, rule ratelimit.Rule, key string, n int) error {
	_, err := l.Take(ctx, identity.LimitCount{Rule: rule, Key: key, N: n})
	return err
}

// TestTakeOne runs on both databases: concurrent attempts are all counted,
// the limit holds exactly, and a new window starts afresh.
func TestTakeOne(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		now := time.Date(2026, 11, 23, 10, 0, 5, 0, time.UTC)
		var mu sync.Mutex
		l := ratelimit.New(s, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		rule := ratelimit.Rule{Name: "test", Limit: 7, Window: time.Minute}
		var allowed, limited atomic.Int32
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				err := take(context.Background(), l, rule, "1.2.3.4", 1)
				switch {
				case err == nil:
					allowed.Add(1)
				case apperr.Is(err, apperr.RateLimited) && apperr.ReasonOf(err) == apperr.ReasonRateLimited:
					limited.Add(1)
				default:
					t.Errorf("Take = %v", err)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 7 || limited.Load() != 23 {
			t.Fatalf("30 concurrent hits: %d allowed, %d limited; want 7 and 23", allowed.Load(), limited.Load())
		}
		var e *apperr.Error
		err := take(context.Background(), l, rule, "1.2.3.4", 1)
		if !apperr.Is(err, apperr.RateLimited) {
			t.Fatalf("Take past the limit = %v", err)
		}
		if !errors.As(err, &e) || e.RetryAfter() != 55*time.Second {
			t.Errorf("RetryAfter = %v, want 55s (to the end of the window)", e.RetryAfter())
		}
		if err := take(context.Background(), l, rule, "5.6.7.8", 1); err != nil {
			t.Errorf("another key = %v, want allowed", err)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		if err := take(context.Background(), l, rule, "1.2.3.4", 1); err != nil {
			t.Errorf("next window = %v, want allowed", err)
		}
		if err := take(context.Background(), l, ratelimit.Rule{Name: "off", Limit: 0, Window: time.Minute}, "k", 1); err != nil {
			t.Errorf("a rule with no limit = %v", err)
		}
		// The first window has ended: sweeping drops its two keys, not the current one.
		if n, err := l.Sweep(context.Background()); err != nil || n != 2 {
			t.Errorf("Sweep = %d, %v; want the 2 finished windows", n, err)
		}
		if err := take(context.Background(), l, rule, "1.2.3.4", 1); err != nil {
			t.Errorf("after the sweep the current window still counts, 2nd hit = %v", err)
		}
	})
}

// TestTake runs on both databases: concurrent takes never together pass
// the limit, a refused take (a batch too big for what is left) counts
// nothing, and Give hands counts back but never below zero.
func TestTake(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 5, 0, time.UTC)
		var mu sync.Mutex
		l := ratelimit.New(s, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		rule := ratelimit.Rule{Name: "take", Limit: 10, Window: time.Minute}
		var taken, refused atomic.Int32
		var wg sync.WaitGroup
		for range 12 {
			wg.Go(func() {
				err := take(ctx, l, rule, "k", 3)
				switch {
				case err == nil:
					taken.Add(1)
				case apperr.Is(err, apperr.RateLimited) && apperr.ReasonOf(err) == apperr.ReasonRateLimited:
					refused.Add(1)
				default:
					t.Errorf("Take = %v", err)
				}
			})
		}
		wg.Wait()
		if taken.Load() != 3 || refused.Load() != 9 {
			t.Fatalf("12 concurrent takes of 3 under 10: %d taken, %d refused; want 3 and 9", taken.Load(), refused.Load())
		}
		// 9 are counted; the refusals counted nothing, so one more fits.
		if err := take(ctx, l, rule, "k", 1); err != nil {
			t.Fatalf("Take(1) with 9 of 10 counted = %v", err)
		}
		err := take(ctx, l, rule, "k", 1)
		var e *apperr.Error
		if !errors.As(err, &e) || e.RetryAfter() != 55*time.Second {
			t.Fatalf("Take past the limit = %v, want RATE_LIMITED with 55s to the window's end", err)
		}
		if err := take(ctx, l, rule, "new", 11); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("a batch bigger than the limit = %v, want RATE_LIMITED", err)
		}
		if err := take(ctx, l, rule, "new", 10); err != nil {
			t.Errorf("after the refused batch, a batch of the whole limit = %v", err)
		}
		// Give hands back: 10 counted, give 4, take 4 fits, the 5th does not.
		if err := l.Give(ctx, identity.LimitCount{Rule: rule, Key: "k", N: 4}); err != nil {
			t.Fatal(err)
		}
		if err := take(ctx, l, rule, "k", 4); err != nil {
			t.Errorf("Take(4) after Give(4) = %v", err)
		}
		if err := take(ctx, l, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("Take(1) at the limit again = %v", err)
		}
		// Giving back more than was counted stops at zero.
		if err := l.Give(ctx, identity.LimitCount{Rule: rule, Key: "k", N: 100}); err != nil {
			t.Fatal(err)
		}
		if err := take(ctx, l, rule, "k", 10); err != nil {
			t.Errorf("Take of the whole limit after an over-give = %v", err)
		}
		if err := take(ctx, l, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("an over-give let more than the limit through: %v", err)
		}
		// One call gives back to several keys, adding up gives to one key.
		if err := l.Give(ctx, identity.LimitCount{Rule: rule, Key: "k", N: 2}, identity.LimitCount{Rule: rule, Key: "new", N: 3},
			identity.LimitCount{Rule: rule, Key: "k", N: 1}); err != nil {
			t.Fatal(err)
		}
		for key, n := range map[string]int{"k": 3, "new": 3} {
			if err := take(ctx, l, rule, key, n); err != nil {
				t.Errorf("Take(%q, %d) after giving %d back = %v", key, n, n, err)
			}
			if err := take(ctx, l, rule, key, 1); !apperr.Is(err, apperr.RateLimited) {
				t.Errorf("Take(%q, 1) past what was given back = %v, want RATE_LIMITED", key, err)
			}
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		// A give to a window that has no count yet changes nothing.
		if err := l.Give(ctx, identity.LimitCount{Rule: rule, Key: "k", N: 5}); err != nil {
			t.Fatal(err)
		}
		if err := take(ctx, l, rule, "k", 10); err != nil {
			t.Errorf("next window = %v, want a fresh count", err)
		}
		if err := take(ctx, l, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("a give before the window's first take let more than the limit through: %v", err)
		}
		if err := take(ctx, l, ratelimit.Rule{Name: "off", Window: time.Minute}, "k", 1000); err != nil {
			t.Errorf("a rule with no limit = %v", err)
		}
	})
}

// TestTakeAllOrNone runs on both databases: several counts in one Take are
// all counted or none, the refusal names the first count over its limit
// (counts that are not counted keep their place), and under concurrent
// takes that share one full key no other count stays taken.
func TestTakeAllOrNone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 10, 0, 5, 0, time.UTC)
		l := ratelimit.New(s, func() time.Time { return now })
		two := ratelimit.Rule{Name: "two", Limit: 2, Window: time.Minute}
		one := ratelimit.Rule{Name: "one", Limit: 1, Window: time.Hour}
		off := ratelimit.Rule{Name: "off", Window: time.Minute}
		both := []identity.LimitCount{{Rule: two, Key: "k", N: 1}, {Rule: one, Key: "k", N: 1}}
		if refused, err := l.Take(ctx, both...); err != nil || refused != -1 {
			t.Fatalf("Take(two, one) = %d, %v; want -1, nil", refused, err)
		}
		refused, err := l.Take(ctx, both...)
		var e *apperr.Error
		if refused != 1 || !errors.As(err, &e) || apperr.ReasonOf(err) != apperr.ReasonRateLimited || e.RetryAfter() != 59*time.Minute+55*time.Second {
			t.Fatalf("Take(two, one) with one full = %d, %v; want 1, RATE_LIMITED with 59m55s to one's window end", refused, err)
		}
		// The refusal counted nothing under "two": one more fits, then no more.
		if err := take(ctx, l, two, "k", 1); err != nil {
			t.Fatalf("Take(two) after the refused pair = %v, want the 2nd of 2", err)
		}
		if err := take(ctx, l, two, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Fatalf("Take(two) past 2 = %v", err)
		}
		// Both full: the first in the order given is refused. An empty key
		// and a rule that is off keep their places and are never refused.
		for _, tc := range []struct {
			counts []identity.LimitCount
			want   int
		}{
			{[]identity.LimitCount{{Rule: one, Key: "k", N: 1}, {Rule: two, Key: "k", N: 1}}, 0},
			{[]identity.LimitCount{{Rule: two, Key: "", N: 1}, {Rule: off, Key: "k", N: 5}, {Rule: one, Key: "k", N: 1}}, 2},
			{[]identity.LimitCount{{Rule: one, Key: "fresh", N: 1}, {Rule: two, Key: "fresh", N: 3}}, 1}, // more than the limit: never fits
		} {
			if refused, err := l.Take(ctx, tc.counts...); refused != tc.want || !apperr.Is(err, apperr.RateLimited) {
				t.Errorf("Take(%v) = %d, %v; want %d, RATE_LIMITED", tc.counts, refused, err, tc.want)
			}
		}
		if err := take(ctx, l, one, "fresh", 1); err != nil {
			t.Errorf("one:fresh after a refused pair = %v, want nothing counted", err)
		}

		// 24 concurrent takes each of its own key and one shared key with
		// room for 8: 8 succeed, and the others leave their own keys at 0
		// (a take that raced past the count and was refused by the upsert
		// gave its own back).
		shared := ratelimit.Rule{Name: "shared", Limit: 8, Window: time.Minute}
		own := ratelimit.Rule{Name: "a-own", Limit: 1, Window: time.Minute} // sorts first: added before the shared row is refused
		ok := make([]bool, 24)
		var wg sync.WaitGroup
		for i := range ok {
			wg.Go(func() {
				refused, err := l.Take(ctx, identity.LimitCount{Rule: own, Key: fmt.Sprint(i), N: 1}, identity.LimitCount{Rule: shared, Key: "s", N: 1})
				switch {
				case err == nil:
					ok[i] = true
				case refused != 1 || !apperr.Is(err, apperr.RateLimited):
					t.Errorf("take %d = %d, %v; want the shared count refused", i, refused, err)
				}
			})
		}
		wg.Wait()
		n := 0
		for i, took := range ok {
			err := take(ctx, l, own, fmt.Sprint(i), 1)
			if took {
				n++
				if !apperr.Is(err, apperr.RateLimited) {
					t.Errorf("own key %d of a take that succeeded: another fits (%v); want it counted", i, err)
				}
			} else if err != nil {
				t.Errorf("own key %d of a refused take = %v; want nothing left counted", i, err)
			}
		}
		if n != 8 {
			t.Errorf("%d of 24 concurrent takes succeeded, want 8", n)
		}
	})
}

// raceStore answers AddRateLimits as a take that raced another does (the
// first count added, the second refused by its upsert) and records what
// is given back.
type raceStore struct {
	ratelimit.Store
	returned []ratelimit.Return
	ctxErr   error // the give-back's context's error
}

func (r *raceStore) AddRateLimits(_ context.Context, adds []ratelimit.Add) ([]bool, int, error) {
	return []bool{true, false}[:len(adds)], 1, nil
}

func (r *raceStore) ReturnRateLimits(ctx context.Context, rs []ratelimit.Return) error {
	r.returned = append(r.returned, rs...)
	r.ctxErr = ctx.Err()
	return nil
}

// TestTakeGivesBackARace: when the store added some counts before one was
// refused, Take gives exactly those back to their windows, even when its
// caller has gone meanwhile, and answers the refusal.
func TestTakeGivesBackARace(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 5, 0, time.UTC)
	st := &raceStore{}
	l := ratelimit.New(st, func() time.Time { return now })
	rule := ratelimit.Rule{Name: "r", Limit: 5, Window: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	refused, err := l.Take(ctx, identity.LimitCount{Rule: rule, Key: "a", N: 2}, identity.LimitCount{Rule: rule, Key: "b", N: 1})
	if refused != 1 || !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("Take = %d, %v; want 1, RATE_LIMITED", refused, err)
	}
	want := []ratelimit.Return{{Key: "r:a", Start: now.Truncate(time.Minute), N: 2}}
	if !slices.Equal(st.returned, want) {
		t.Errorf("given back %v, want %v", st.returned, want)
	}
	if st.ctxErr != nil {
		t.Errorf("gave back on a context that was done (%v); a caller that went away would leave the counts taken", st.ctxErr)
	}
}
