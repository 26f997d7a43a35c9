package identity

import (
	"context"
	"time"
)

// Users is the persistence of app users and their credentials. The
// password hash is read and written only through its own methods.
type Users interface {
	// CreateUser inserts u with passwordHash ("" for no password). Exists
	// when the email (or user name, ignoring case) is taken in the app.
	CreateUser(ctx context.Context, u User, passwordHash string) error
	GetUser(ctx context.Context, appID, id string) (User, error)
	FindUserByEmail(ctx context.Context, appID, email string) (User, error)
	FindUserByUserName(ctx context.Context, appID, userName string) (User, error)
	// FindUserWithHash is FindUserByEmail (email set) or FindUserByUserName
	// (else) with the user's password hash ("" for none), in one read.
	FindUserWithHash(ctx context.Context, appID, email, userName string) (User, string, error)
	// UpdateUser writes the profile fields of u: email, user name, phone,
	// phone verified, metadata, locale, status, two-factor, anonymous,
	// updated at. Exists on a taken email or user name.
	UpdateUser(ctx context.Context, u User) error
	PasswordHash(ctx context.Context, appID, userID string) (string, error)
	SetPasswordHash(ctx context.Context, appID, userID, hash string, now time.Time) error
	// RecordLoginFailure atomically counts one failed login and returns the
	// new count; when the count reaches max (>0) it also sets LockedUntil to
	// now + backoff(count - max + 1). backoff must not be nil when max > 0.
	RecordLoginFailure(ctx context.Context, appID, userID string, now time.Time, max int, backoff func(n int) time.Duration) (count int, lockedUntil time.Time, err error)
	// RecordLoginSuccess clears the failure count and lock and sets LastLoginAt.
	RecordLoginSuccess(ctx context.Context, appID, userID string, now time.Time) error

	// ListUsers returns up to limit users of the app that match f, newest
	// first by (CreatedAt, ID), starting after the cursor (zero: from the
	// newest). Users created while a caller pages sort before its cursor,
	// so the pages after it neither skip nor repeat anyone.
	ListUsers(ctx context.Context, appID string, f UserFilter, after UserCursor, limit int) ([]User, error)
	// CountUsers counts the users of the app that match f.
	CountUsers(ctx context.Context, appID string, f UserFilter) (int, error)
}
