package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestPendingDeliveries counts pending rows only, and at most max of them.
func TestPendingDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		a := identity.App{ID: "app1", Name: "Notes", Settings: identity.DefaultSettings(), CreatedAt: now, UpdatedAt: now}
		if err := s.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PendingDeliveries(ctx, 100); err != nil || n != 0 {
			t.Fatalf("PendingDeliveries on an empty queue = %d, %v; want 0, nil", n, err)
		}
		for i := range 5 {
			d := identity.Delivery{ID: fmt.Sprintf("d%d", i), AppID: a.ID, Channel: identity.ChannelEmail,
				To: "u@example.com", Subject: "hi", Text: "hi", State: identity.DeliveryPending,
				NextAttemptAt: now, CreatedAt: now}
			if err := s.EnqueueDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.MarkDeliverySent(ctx, "d0", now); err != nil {
			t.Fatal(err)
		}
		if err := s.KillDelivery(ctx, "d1", now, "bounced"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			max, want int
		}{{100, 3}, {3, 3}, {2, 2}}
		for _, tt := range tests {
			if n, err := s.PendingDeliveries(ctx, tt.max); err != nil || n != tt.want {
				t.Errorf("PendingDeliveries(max %d) = %d, %v; want %d, nil", tt.max, n, err, tt.want)
			}
		}
		if st := s.DBStats(); st.OpenConnections < 1 {
			t.Errorf("DBStats().OpenConnections = %d after queries, want at least 1", st.OpenConnections)
		}
	})
}
