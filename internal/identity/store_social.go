package identity

import (
	"context"
	"time"
)

// SocialStore is the persistence of social sign-in: linked identities and
// the nonces of ID tokens already used.
type SocialStore interface {
	// CreateIdentity links li to its user. Exists when the provider's
	// subject is linked in the app already, or the user already has an
	// identity of that provider; NotFound when the user does not exist.
	CreateIdentity(ctx context.Context, li LinkedIdentity) error
	// FindIdentity returns the identity of provider and subject in the app.
	FindIdentity(ctx context.Context, appID string, provider Provider, subject string) (LinkedIdentity, error)
	// ListIdentities returns the user's identities, ordered by provider.
	ListIdentities(ctx context.Context, appID, userID string) ([]LinkedIdentity, error)
	// TouchIdentity records a sign-in with the identity: the email the
	// provider gave this time and the time. NotFound when it is gone.
	TouchIdentity(ctx context.Context, appID, id, email string, now time.Time) error
	// DeleteIdentity unlinks the user's identity of provider; NotFound when
	// there is none.
	DeleteIdentity(ctx context.Context, appID, userID string, provider Provider) error
	// LockUserRow holds the user's row until the transaction ends, so
	// concurrent changes to the user's ways of signing in happen one after
	// another. NotFound when there is no such user.
	LockUserRow(ctx context.Context, appID, userID string) error
	// UseNonce records that an ID token nonce (a hash of it) was used, until
	// expiresAt, and reports whether this caller was the first: false means
	// a replay. Concurrent callers on any replica get at most one true. An
	// entry already expired at now is taken over.
	UseNonce(ctx context.Context, appID string, provider Provider, nonceHash string, expiresAt, now time.Time) (bool, error)
	// SweepNonces deletes the app's nonce entries that expired before now.
	SweepNonces(ctx context.Context, appID string, now time.Time) error
}
