package identity

import (
	"context"
	"time"
)

// Sessions is the persistence of sessions and their rotating refresh tokens.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, appID, id string) (Session, error)
	// RevokeSession marks one live session revoked; revoking twice is not an error.
	RevokeSession(ctx context.Context, appID, id, reason string, now time.Time) error
	// RevokeUserSessions revokes every live session of the user except
	// exceptID (empty: all) and returns how many it revoked.
	RevokeUserSessions(ctx context.Context, appID, userID, exceptID, reason string, now time.Time) (int, error)
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	FindRefreshToken(ctx context.Context, appID, hash string) (RefreshToken, error)
	// FindRefreshSession is FindRefreshToken and GetSession of its session
	// together (one round trip). NotFound when there is no such token.
	FindRefreshSession(ctx context.Context, appID, hash string) (RefreshToken, Session, error)
	// MarkRefreshTokenRotated sets RotatedAt if it is unset and reports
	// whether this caller set it (at most one caller ever gets true).
	MarkRefreshTokenRotated(ctx context.Context, appID, id string, now time.Time) (bool, error)
}
