package console

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Apps is the persistence of applications.
type Apps interface {
	CreateApp(ctx context.Context, a identity.App) error
	GetApp(ctx context.Context, id string) (identity.App, error)
	// GetAppForUpdate reads an app inside InTx and keeps any other
	// transaction from changing it until this one ends.
	GetAppForUpdate(ctx context.Context, id string) (identity.App, error)
	UpdateApp(ctx context.Context, a identity.App) error // name, settings, updated_at
	// DeleteApp removes the app and everything scoped to it.
	DeleteApp(ctx context.Context, id string) error
}

// Members is who may manage which app.
type Members interface {
	// ListMemberApps lists the apps developerID is a member of, ordered by
	// app id, starting after the id `after` (empty: from the start).
	ListMemberApps(ctx context.Context, developerID, after string, limit int) ([]identity.MemberApp, error)
	PutMember(ctx context.Context, m identity.Member) error // insert or change the role
	GetMember(ctx context.Context, appID, developerID string) (identity.Member, error)
	// ListAllApps lists every app as ListMemberApps does, with
	// developerID's role where they are a member and viewer elsewhere.
	ListAllApps(ctx context.Context, developerID, after string, limit int) ([]identity.MemberApp, error)
}

// SigningKeys is the persistence of signing keys and their rotation.
type SigningKeys interface {
	// CreateSigningKey stores a new key record.
	CreateSigningKey(ctx context.Context, r identity.SigningKey) error
	// ListSigningKeys returns every key of the app, newest first.
	ListSigningKeys(ctx context.Context, appID string) ([]identity.SigningKey, error)
	// DeactivateSigningKey moves the key kid of appID from active to
	// verifying (stopped at `at`, leaving the JWKS at retireAt) and reports
	// whether this call did; concurrent callers never both get true.
	DeactivateSigningKey(ctx context.Context, appID, kid string, at, retireAt time.Time) (bool, error)
	// RetireSigningKeys marks retired every verifying key, of any app,
	// whose retire_at is at or before now, dropping its sealed private key,
	// and returns the keys it retired.
	RetireSigningKeys(ctx context.Context, now time.Time) ([]identity.SigningKey, error)
	// ListActiveSigningKeys returns the active key of every app whose id
	// sorts after `after`, by app id, at most limit of them.
	ListActiveSigningKeys(ctx context.Context, after string, limit int) ([]identity.SigningKey, error)
}

// Templates is the persistence of an app's own message templates.
type Templates interface {
	// GetTemplate returns the app's version of kind in locale (NotFound: none).
	GetTemplate(ctx context.Context, appID, kind, locale string) (identity.EmailTemplate, error)
	PutTemplate(ctx context.Context, t identity.EmailTemplate) error
	DeleteTemplate(ctx context.Context, appID, kind, locale string) error
}

// Audit records what developers did.
type Audit interface {
	InsertAuditEvent(ctx context.Context, e identity.AuditEvent) error
}

// Store is every aggregate the console touches. InTx runs fn in one
// transaction and hands it the same set, bound to that transaction: fn must
// use tx, not the outer Store.
type Store interface {
	Apps
	Members
	Team
	APIKeys
	SigningKeys
	Templates
	Audit
	AuditLog
	StatsStore
	Deliveries
	Developers
	InTx(ctx context.Context, fn func(tx Store) error) error
}
