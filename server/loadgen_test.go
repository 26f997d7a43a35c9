package main

import (
	"context"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/cmd/loadgen/gen"
)

// TestLoadgenSmoke runs every scenario of the load generator (cmd/loadgen)
// for a second with two workers against a real server, each after a
// short warm-up and its Analyze, and checks that each answered requests
// and none failed. It measures nothing; `make bench` does.
func TestLoadgenSmoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	e.developer(t, "load@example.com")
	ctx := context.Background()
	analyzed := 0 // Run calls it between scenarios, never concurrently
	r, err := gen.New(ctx, gen.Config{URL: e.url, DevEmail: "load@example.com", DevPassword: "dev-password-1", Workers: 2, Duration: time.Second,
		WarmUp: 200 * time.Millisecond, Analyze: func(context.Context) error { analyzed++; return nil }})
	if err != nil {
		t.Fatalf("gen.New = %v", err)
	}
	results, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if len(results) != len(gen.Scenarios) {
		t.Fatalf("Run gave %d results, want one per scenario (%d)", len(results), len(gen.Scenarios))
	}
	if analyzed != len(gen.Scenarios) {
		t.Errorf("Analyze ran %d times, want once after each scenario's warm-up (%d)", analyzed, len(gen.Scenarios))
	}
	for _, res := range results {
		if res.Requests == 0 || res.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (first: %s); want some and none", res.Scenario, res.Requests, res.Errors, res.FirstError)
		}
		if res.P50 <= 0 || res.P99 < res.P50 {
			t.Errorf("%s: p50 %v, p99 %v; want 0 < p50 <= p99", res.Scenario, res.P50, res.P99)
		}
	}
}
