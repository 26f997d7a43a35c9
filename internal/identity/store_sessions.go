package identity

import (
	"context"
	"time"
)

// Sessions is the persistence of sessions and their rotating refresh tokens.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, appID, id string) (Session, error)
	// GetSessionUser is GetSession, GetUser of the session's user and
	// ListIdentities of that user together (one round trip). NotFound when
	// there is no such session.
	GetSessionUser(ctx context.Context, appID, id string) (Session, User, []LinkedIdentity, error)
	// RevokeSession marks one live session revoked; revoking twice is not an error.
	RevokeSession(ctx context.Context, appID, id, reason string, now time.Time) error
	// RevokeUserSessions revokes every live session of the user except
	// exceptID (empty: all) and returns how many it revoked.
	RevokeUserSessions(ctx context.Context, appID, userID, exceptID, reason string, now time.Time) (int, error)
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	FindRefreshToken(ctx context.Context, appID, hash string) (RefreshToken, error)
	// FindRefreshSession is FindRefreshToken, GetSession of its session and
	// GetUser of the session's user together (one round trip). NotFound
	// when there is no such token.
	FindRefreshSession(ctx context.Context, appID, hash string) (RefreshToken, Session, User, error)
	// MarkRefreshTokenRotated sets RotatedAt if it is unset and reports
	// whether this caller set it (at most one caller ever gets true); the
	// caller that sets it also sets its session's LastUsedAt to now.
	MarkRefreshTokenRotated(ctx context.Context, appID, id string, now time.Time) (bool, error)
	// RotateRefreshToken spends the token oldID and stores next, its
	// successor, and ev as one change (atomic without an enclosing
	// transaction), setting the session's LastUsedAt to next.CreatedAt. The
	// token is spent when it is unrotated (RotatedAt becomes
	// next.CreatedAt) or was rotated at or after cutoff; when it was rotated
	// before cutoff nothing is stored and the answer is false. Racing calls
	// on one token each see the others' marks. NotFound when there is no
	// such token.
	RotateRefreshToken(ctx context.Context, appID, oldID string, cutoff time.Time, next RefreshToken, ev AuditEvent) (bool, error)
	// OpenSession records a sign-in as one change (atomic without an
	// enclosing transaction): RecordLoginSuccess of sess.UserID at
	// loginAt, CreateSession(sess), CreateRefreshToken(first) and ev.
	// NotFound when the app or user does not exist.
	OpenSession(ctx context.Context, loginAt time.Time, sess Session, first RefreshToken, ev AuditEvent) error
	// ListActiveSessions returns the user's live sessions at now (not
	// revoked, not expired), most recently used first (a session never
	// refreshed was last used when it was created).
	ListActiveSessions(ctx context.Context, appID, userID string, now time.Time) ([]Session, error)
}
