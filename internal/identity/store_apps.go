package identity

import (
	"context"
)

// Apps is what the flows read of applications and their members.
type Apps interface {
	GetApp(ctx context.Context, id string) (App, error)
	PutMember(ctx context.Context, m Member) error // insert or change the role
	GetMember(ctx context.Context, appID, developerID string) (Member, error)
}
