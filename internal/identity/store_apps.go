package identity

import (
	"context"
	"time"
)

// Apps is what the flows read of applications and their members.
type Apps interface {
	GetApp(ctx context.Context, id string) (App, error)
	PutMember(ctx context.Context, m Member) error // insert or change the role
	GetMember(ctx context.Context, appID, developerID string) (Member, error)
	// PutMemberInvite records (or replaces) the pending membership of
	// m.Email in m.AppID.
	PutMemberInvite(ctx context.Context, m MemberInvite) error
	// AcceptMemberInvites makes developerID a member of every app with a
	// pending membership for email, with its role, and drops those rows.
	AcceptMemberInvites(ctx context.Context, email, developerID string, now time.Time) error
	APIKeyStore
}
