package console

import (
	"fmt"
	"math"
	"testing"
)

func TestDistinct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		days     [][2]int // each day adds ids [lo, hi)
		want     int64
		tolerant bool // past exactLimit: an estimate
	}{
		{"empty", nil, 0, false},
		{"one day", [][2]int{{0, 10}}, 10, false},
		{"overlapping days", [][2]int{{0, 10}, {5, 20}, {0, 3}}, 20, false},
		{"exact at the limit", [][2]int{{0, 1000}, {1000, exactLimit}}, exactLimit, false},
		{"sketch past the limit", [][2]int{{0, 1500}, {1000, 3000}}, 3000, true},
		{"sketch of many", [][2]int{{0, 60000}, {30000, 100000}, {0, 5}}, 100000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			total := &distinct{}
			for _, d := range tc.days {
				day := &distinct{}
				for i := d[0]; i < d[1]; i++ {
					day.Add(fmt.Sprintf("user-%d", i))
				}
				// Through the bytes, as the rollup stores it.
				back, err := parseDistinct(day.MarshalBinary())
				if err != nil {
					t.Fatalf("parseDistinct = %v", err)
				}
				if back.Count() != day.Count() {
					t.Fatalf("round trip: Count = %d, want %d", back.Count(), day.Count())
				}
				total.Merge(back)
			}
			got := total.Count()
			if !tc.tolerant && got != tc.want {
				t.Errorf("Count = %d, want exactly %d", got, tc.want)
			}
			if tc.tolerant && math.Abs(float64(got-tc.want)) > 0.03*float64(tc.want) {
				t.Errorf("Count = %d, want %d within 3%%", got, tc.want)
			}
			if n := len(total.MarshalBinary()); n > 1+hllM {
				t.Errorf("encoded size %d bytes, want at most %d", n, 1+hllM)
			}
		})
	}
	for _, bad := range [][]byte{{9}, {kindExact, 1, 2}, {kindHLL, 1}} {
		if _, err := parseDistinct(bad); err == nil {
			t.Errorf("parseDistinct(%v) = nil error, want one", bad)
		}
	}
}
