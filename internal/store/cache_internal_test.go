package store

import (
	"testing"
	"time"
)

// TestSetReadyReleasesMarks: when the listener goes down or comes back, a
// marker AwaitChanges waits for may have been lost with the old
// connection; its waiter is let go, after the cache was dropped.
func TestSetReadyReleasesMarks(t *testing.T) {
	for _, ready := range []bool{false, true} {
		c := newCache(!ready)
		c.apps["app1"] = cachedApp{expires: time.Now().Add(time.Hour)}
		arrived := make(chan struct{})
		c.marks["m1"] = arrived
		c.setReady(ready)
		select {
		case <-arrived:
		default:
			t.Fatalf("setReady(%v) left AwaitChanges waiting for a marker the old connection may have lost", ready)
		}
		if len(c.apps) != 0 || len(c.marks) != 0 {
			t.Errorf("setReady(%v) kept %d cached apps and %d markers, want none", ready, len(c.apps), len(c.marks))
		}
		c.marked("m1") // the marker turning up after all changes nothing
	}
}
