package identity

import (
	"context"
	"time"
)

// Store is the persistence the flows need. Every method is scoped by app.
// Errors are *apperr.Error: NotFound when a row is missing, Exists on a
// unique violation, Unavailable when the database cannot be reached.
// Implementations are safe for concurrent use.
type Store interface {
	LifecycleStore
	SocialStore

	// InTx runs fn in one transaction: every write fn makes through tx
	// commits together or not at all. fn must use tx, not the outer Store.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	GetApp(ctx context.Context, id string) (App, error)
	PutMember(ctx context.Context, m Member) error // insert or change the role
	GetMember(ctx context.Context, appID, developerID string) (Member, error)

	// CreateUser inserts u with passwordHash ("" for no password). Exists
	// when the email (or user name, ignoring case) is taken in the app.
	CreateUser(ctx context.Context, u User, passwordHash string) error
	GetUser(ctx context.Context, appID, id string) (User, error)
	FindUserByEmail(ctx context.Context, appID, email string) (User, error)
	FindUserByUserName(ctx context.Context, appID, userName string) (User, error)
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

	// PutCode stores c, replacing any code with the same app, purpose and handle.
	PutCode(ctx context.Context, c Code) error
	// FindCode returns the code for app, purpose and handle, expired or
	// not (the caller tells them apart); NotFound if there is none.
	FindCode(ctx context.Context, appID, purpose, handle string) (Code, error)
	// SpendCodeAttempt atomically counts one attempt at the code if fewer
	// than max have been made, and reports whether this attempt may be
	// checked. Concurrent callers never get more than max trues in total.
	// NotFound when the code was used or replaced meanwhile.
	SpendCodeAttempt(ctx context.Context, appID, codeID string, max int) (bool, error)
	// ConsumeCode deletes the code and reports whether this caller did (at
	// most one caller ever gets true).
	ConsumeCode(ctx context.Context, appID, codeID string) (bool, error)

	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, appID, id string) (Session, error)
	// RevokeSession marks one live session revoked; revoking twice is not an error.
	RevokeSession(ctx context.Context, appID, id, reason string, now time.Time) error
	// RevokeUserSessions revokes every live session of the user except
	// exceptID (empty: all) and returns how many it revoked.
	RevokeUserSessions(ctx context.Context, appID, userID, exceptID, reason string, now time.Time) (int, error)
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	FindRefreshToken(ctx context.Context, appID, hash string) (RefreshToken, error)
	// MarkRefreshTokenRotated sets RotatedAt if it is unset and reports
	// whether this caller set it (at most one caller ever gets true).
	MarkRefreshTokenRotated(ctx context.Context, appID, id string, now time.Time) (bool, error)

	InsertAuditEvent(ctx context.Context, e AuditEvent) error

	TwoFactorStore
}
