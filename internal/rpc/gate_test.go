package rpc

import (
	"context"
	"errors"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// TestGateSheds: with every slot held, the next call is refused at once
// with ResourceExhausted, reason RATE_LIMITED and a retry delay; a released slot
// admits again.
func TestGateSheds(t *testing.T) {
	t.Parallel()
	g := NewGate(2, "/p")
	ctx := context.Background()
	var releases []func()
	for range 2 {
		rel, err := g.Enter(ctx, "/p")
		if err != nil {
			t.Fatalf("Enter with a free slot = %v", err)
		}
		releases = append(releases, rel)
	}
	_, err := g.Enter(ctx, "/p")
	if apperr.KindOf(err) != apperr.RateLimited || apperr.ReasonOf(err) != apperr.ReasonRateLimited {
		t.Fatalf("Enter when full = %v, want RateLimited/RATE_LIMITED", err)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.RetryAfter() != GateRetryAfter {
		t.Errorf("Enter when full: retry after = %v, want %v", ae, GateRetryAfter)
	}
	releases[0]()
	rel, err := g.Enter(ctx, "/p")
	if err != nil {
		t.Fatalf("Enter after a release = %v", err)
	}
	rel()
	releases[1]()
}
