package console

import (
	"context"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Deliveries is the send queue as the developer reads it.
type Deliveries interface {
	// ListDeliveries returns up to limit deliveries of appID, newest first;
	// an empty state means every state.
	ListDeliveries(ctx context.Context, appID string, state identity.DeliveryState, limit int) ([]identity.Delivery, error)
}

// Deliveries lists an app's send queue, newest first, in state (empty:
// every state), without the bodies: they carry codes, and a viewer may
// read the queue. Dead letters are how a developer learns that mail or a
// text did not go, and why.
func (s *Service) Deliveries(ctx context.Context, d identity.Developer, appID string, state identity.DeliveryState, limit int) ([]identity.Delivery, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleViewer); err != nil {
		return nil, err
	}
	ds, err := s.store.ListDeliveries(ctx, appID, state, limit)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		ds[i].Text, ds[i].HTML = "", ""
	}
	return ds, nil
}
