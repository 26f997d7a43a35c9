package ratelimit_test

import (
	"context"
	"errors"
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

// TestAllow runs on both databases: concurrent hits are all counted, the
// limit holds exactly, and a new window starts afresh.
func TestAllow(t *testing.T) {
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
				err := l.Allow(context.Background(), rule, "1.2.3.4")
				switch {
				case err == nil:
					allowed.Add(1)
				case apperr.Is(err, apperr.RateLimited) && apperr.ReasonOf(err) == apperr.ReasonRateLimited:
					limited.Add(1)
				default:
					t.Errorf("Allow = %v", err)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 7 || limited.Load() != 23 {
			t.Fatalf("30 concurrent hits: %d allowed, %d limited; want 7 and 23", allowed.Load(), limited.Load())
		}
		var e *apperr.Error
		err := l.Allow(context.Background(), rule, "1.2.3.4")
		if !apperr.Is(err, apperr.RateLimited) {
			t.Fatalf("Allow past the limit = %v", err)
		}
		if !errors.As(err, &e) || e.RetryAfter() != 55*time.Second {
			t.Errorf("RetryAfter = %v, want 55s (to the end of the window)", e.RetryAfter())
		}
		if err := l.Allow(context.Background(), rule, "5.6.7.8"); err != nil {
			t.Errorf("another key = %v, want allowed", err)
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		if err := l.Allow(context.Background(), rule, "1.2.3.4"); err != nil {
			t.Errorf("next window = %v, want allowed", err)
		}
		if err := l.Allow(context.Background(), ratelimit.Rule{Name: "off", Limit: 0, Window: time.Minute}, "k"); err != nil {
			t.Errorf("a rule with no limit = %v", err)
		}
		// The first window has ended: sweeping drops its two keys, not the current one.
		if n, err := l.Sweep(context.Background()); err != nil || n != 2 {
			t.Errorf("Sweep = %d, %v; want the 2 finished windows", n, err)
		}
		if err := l.Allow(context.Background(), rule, "1.2.3.4"); err != nil {
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
				err := l.Take(ctx, rule, "k", 3)
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
		if err := l.Take(ctx, rule, "k", 1); err != nil {
			t.Fatalf("Take(1) with 9 of 10 counted = %v", err)
		}
		err := l.Take(ctx, rule, "k", 1)
		var e *apperr.Error
		if !errors.As(err, &e) || e.RetryAfter() != 55*time.Second {
			t.Fatalf("Take past the limit = %v, want RATE_LIMITED with 55s to the window's end", err)
		}
		if err := l.Take(ctx, rule, "new", 11); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("a batch bigger than the limit = %v, want RATE_LIMITED", err)
		}
		if err := l.Take(ctx, rule, "new", 10); err != nil {
			t.Errorf("after the refused batch, a batch of the whole limit = %v", err)
		}
		// Give hands back: 10 counted, give 4, take 4 fits, the 5th does not.
		if err := l.Give(ctx, identity.LimitGive{Rule: rule, Key: "k", N: 4}); err != nil {
			t.Fatal(err)
		}
		if err := l.Take(ctx, rule, "k", 4); err != nil {
			t.Errorf("Take(4) after Give(4) = %v", err)
		}
		if err := l.Take(ctx, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("Take(1) at the limit again = %v", err)
		}
		// Giving back more than was counted stops at zero.
		if err := l.Give(ctx, identity.LimitGive{Rule: rule, Key: "k", N: 100}); err != nil {
			t.Fatal(err)
		}
		if err := l.Take(ctx, rule, "k", 10); err != nil {
			t.Errorf("Take of the whole limit after an over-give = %v", err)
		}
		if err := l.Take(ctx, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("an over-give let more than the limit through: %v", err)
		}
		// One call gives back to several keys, adding up gives to one key.
		if err := l.Give(ctx, identity.LimitGive{Rule: rule, Key: "k", N: 2}, identity.LimitGive{Rule: rule, Key: "new", N: 3},
			identity.LimitGive{Rule: rule, Key: "k", N: 1}); err != nil {
			t.Fatal(err)
		}
		for key, n := range map[string]int{"k": 3, "new": 3} {
			if err := l.Take(ctx, rule, key, n); err != nil {
				t.Errorf("Take(%q, %d) after giving %d back = %v", key, n, n, err)
			}
			if err := l.Take(ctx, rule, key, 1); !apperr.Is(err, apperr.RateLimited) {
				t.Errorf("Take(%q, 1) past what was given back = %v, want RATE_LIMITED", key, err)
			}
		}
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		// A give to a window that has no count yet changes nothing.
		if err := l.Give(ctx, identity.LimitGive{Rule: rule, Key: "k", N: 5}); err != nil {
			t.Fatal(err)
		}
		if err := l.Take(ctx, rule, "k", 10); err != nil {
			t.Errorf("next window = %v, want a fresh count", err)
		}
		if err := l.Take(ctx, rule, "k", 1); !apperr.Is(err, apperr.RateLimited) {
			t.Errorf("a give before the window's first take let more than the limit through: %v", err)
		}
		if err := l.Take(ctx, ratelimit.Rule{Name: "off", Window: time.Minute}, "k", 1000); err != nil {
			t.Errorf("a rule with no limit = %v", err)
		}
	})
}
