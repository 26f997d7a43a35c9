package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
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
