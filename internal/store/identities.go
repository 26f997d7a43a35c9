package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
)

var _ identity.SocialStore = (*Store)(nil)

type identityRow struct {
	bun.BaseModel `bun:"table:user_identities,alias:ui"`

	ID         string    `bun:"id,pk"`
	AppID      string    `bun:"app_id"`
	UserID     string    `bun:"user_id"`
	Provider   string    `bun:"provider"`
	Subject    string    `bun:"subject"`
	Email      string    `bun:"email"`
	GivenName  string    `bun:"given_name"`
	FamilyName string    `bun:"family_name"`
	CreatedAt  time.Time `bun:"created_at,nullzero"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
}

func toIdentityRow(li identity.LinkedIdentity) identityRow {
	return identityRow{
		ID:         li.ID,
		AppID:      li.AppID,
		UserID:     li.UserID,
		Provider:   string(li.Provider),
		Subject:    li.Subject,
		Email:      li.Email,
		GivenName:  li.GivenName,
		FamilyName: li.FamilyName,
		CreatedAt:  utc(li.CreatedAt),
		LastUsedAt: utc(li.LastUsedAt),
	}
}

func (r identityRow) linkedIdentity() identity.LinkedIdentity {
	return identity.LinkedIdentity{
		ID:         r.ID,
		AppID:      r.AppID,
		UserID:     r.UserID,
		Provider:   social.Provider(r.Provider),
		Subject:    r.Subject,
		Email:      r.Email,
		GivenName:  r.GivenName,
		FamilyName: r.FamilyName,
		CreatedAt:  utc(r.CreatedAt),
		LastUsedAt: utc(r.LastUsedAt),
	}
}

// CreateIdentity links li to its user. Exists when (app, provider, subject)
// or (user, provider) is taken; NotFound when the app or user is missing.
func (s *Store) CreateIdentity(ctx context.Context, li identity.LinkedIdentity) error {
	row := toIdentityRow(li)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.CreateIdentity")
}

// FindIdentity returns the identity of provider and subject in appID.
func (s *Store) FindIdentity(ctx context.Context, appID string, provider social.Provider, subject string) (identity.LinkedIdentity, error) {
	var row identityRow
	err := s.idb.NewSelect().Model(&row).
		Where("app_id = ? AND provider = ? AND subject = ?", appID, string(provider), subject).
		Scan(ctx)
	if err != nil {
		return identity.LinkedIdentity{}, wrap(err, "store.FindIdentity")
	}
	return row.linkedIdentity(), nil
}

// ListIdentities returns the user's identities ordered by provider; none is
// an empty list, not an error.
func (s *Store) ListIdentities(ctx context.Context, appID, userID string) ([]identity.LinkedIdentity, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
	var rows []identityRow
	err := s.idb.NewSelect().Model(&rows).
		Where("app_id = $1 AND user_id = $2").
		OrderExpr("provider, id").
		Conn(s.bound(appID, userID)). // prepared: GetUser reads it (prepared.go)
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ListIdentities")
	}
	out := make([]identity.LinkedIdentity, len(rows))
	for i, r := range rows {
		out[i] = r.linkedIdentity()
	}
	return out, nil
}

// TouchIdentity sets the identity's email and last use.
func (s *Store) TouchIdentity(ctx context.Context, appID, id, email string, now time.Time) error {
	res, err := s.idb.NewUpdate().Model((*identityRow)(nil)).
		Set("email = ?", email).
		Set("last_used_at = ?", utc(now)).
		Where("app_id = ? AND id = ?", appID, id).
		Exec(ctx)
	return oneRow(res, err, "store.TouchIdentity")
}

// DeleteIdentity unlinks the user's identity of provider.
func (s *Store) DeleteIdentity(ctx context.Context, appID, userID string, provider social.Provider) error {
	res, err := s.idb.NewDelete().Model((*identityRow)(nil)).
		Where("app_id = ? AND user_id = ? AND provider = ?", appID, userID, string(provider)).
		Exec(ctx)
	return oneRow(res, err, "store.DeleteIdentity")
}

// LockUserRow takes the user's row lock on Postgres (SELECT … FOR UPDATE),
// held until the transaction ends. On SQLite every transaction already holds
// the database's write lock from its start, so it only checks the user exists.
// Outside a transaction it locks nothing.
func (s *Store) LockUserRow(ctx context.Context, appID, userID string) error {
	q := s.idb.NewSelect().Model((*userRow)(nil)).Column("id").
		Where("app_id = ? AND id = ?", appID, userID)
	if s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	var id string
	return wrap(q.Scan(ctx, &id), "store.LockUserRow")
}

type nonceRow struct {
	bun.BaseModel `bun:"table:social_nonces,alias:sn"`

	AppID     string    `bun:"app_id,pk"`
	Provider  string    `bun:"provider,pk"`
	NonceHash string    `bun:"nonce_hash,pk"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// UseNonce inserts the nonce, or takes over an entry that expired, in one
// statement: a live entry makes the upsert change nothing, which reports a
// replay. Inside a transaction on Postgres a concurrent caller waits for the
// first one's transaction, then sees its entry (or, after a rollback, none).
func (s *Store) UseNonce(ctx context.Context, appID string, provider social.Provider, nonceHash string, expiresAt, now time.Time) (bool, error) {
	row := &nonceRow{AppID: appID, Provider: string(provider), NonceHash: nonceHash, ExpiresAt: utc(expiresAt)}
	res, err := s.idb.NewInsert().Model(row).
		On("CONFLICT (app_id, provider, nonce_hash) DO UPDATE").
		Set("expires_at = EXCLUDED.expires_at").
		Where("sn.expires_at <= ?", utc(now)).
		Exec(ctx)
	return changed(res, err, "store.UseNonce")
}

// SweepNonces deletes the app's nonce entries that expired before now.
func (s *Store) SweepNonces(ctx context.Context, appID string, now time.Time) error {
	_, err := s.idb.NewDelete().Model((*nonceRow)(nil)).
		Where("app_id = ? AND expires_at < ?", appID, utc(now)).
		Exec(ctx)
	return wrap(err, "store.SweepNonces")
}
