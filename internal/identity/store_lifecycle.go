package identity

import (
	"context"
	"time"
)

// EmailTemplate is a developer's version of one template in one locale.
type EmailTemplate struct {
	AppID     string
	Kind      string
	Locale    string
	Subject   string
	HTML      string
	Text      string
	UpdatedAt time.Time
}

// LifecycleStore is the persistence of the account lifecycle: deleting
// users, invitations and per-app templates.
type LifecycleStore interface {
	// DeleteUser removes a user with their sessions and refresh tokens.
	DeleteUser(ctx context.Context, appID, userID string) error

	// CreateInvitation stores iv and revokes any pending invitation for the
	// same handle, so only the newest code works.
	CreateInvitation(ctx context.Context, iv Invitation) error
	// FindInvitation returns the newest invitation for a handle (NotFound if none).
	FindInvitation(ctx context.Context, appID, handle string) (Invitation, error)
	GetInvitation(ctx context.Context, appID, id string) (Invitation, error)
	// SpendInvitationAttempt atomically counts one guess at a pending
	// invitation's code while fewer than max were made.
	SpendInvitationAttempt(ctx context.Context, appID, id string, max int) (bool, error)
	// AcceptInvitation marks a pending invitation accepted by userID and
	// reports whether this caller did (at most one ever does).
	AcceptInvitation(ctx context.Context, appID, id, userID string, now time.Time) (bool, error)
	// RevokeInvitation marks a pending invitation revoked; false if it was not pending.
	RevokeInvitation(ctx context.Context, appID, id string, now time.Time) (bool, error)
	// RenewInvitation gives a pending invitation a new code and expiry.
	RenewInvitation(ctx context.Context, appID, id, hash string, expires time.Time) (bool, error)
	// ListInvitations lists an app's invitations newest first, after the id
	// `after` in that order (empty: from the start).
	ListInvitations(ctx context.Context, appID, after string, limit int) ([]Invitation, error)

	// GetTemplate returns the app's version of a template (NotFound: use the default).
	GetTemplate(ctx context.Context, appID, kind, locale string) (EmailTemplate, error)
}
