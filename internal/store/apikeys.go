package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/identity"
)

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:k"`

	ID         string    `bun:"id,pk"`
	AppID      string    `bun:"app_id"`
	Name       string    `bun:"name"`
	Role       string    `bun:"role"`
	Prefix     string    `bun:"prefix"`
	Hash       string    `bun:"hash"`
	CreatedBy  string    `bun:"created_by"`
	CreatedAt  time.Time `bun:"created_at"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
	ExpiresAt  time.Time `bun:"expires_at,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`
}

func toAPIKeyRow(k identity.APIKey) apiKeyRow {
	return apiKeyRow{
		ID: k.ID, AppID: k.AppID, Name: k.Name, Role: string(k.Role), Prefix: k.Prefix, Hash: k.Hash, CreatedBy: k.CreatedBy,
		CreatedAt: utc(k.CreatedAt), LastUsedAt: utc(k.LastUsedAt), ExpiresAt: utc(k.ExpiresAt), RevokedAt: utc(k.RevokedAt),
	}
}

func (r apiKeyRow) apiKey() identity.APIKey {
	return identity.APIKey{
		ID: r.ID, AppID: r.AppID, Name: r.Name, Role: identity.Role(r.Role), Prefix: r.Prefix, Hash: r.Hash, CreatedBy: r.CreatedBy,
		CreatedAt: utc(r.CreatedAt), LastUsedAt: utc(r.LastUsedAt), ExpiresAt: utc(r.ExpiresAt), RevokedAt: utc(r.RevokedAt),
	}
}

// CreateAPIKey stores k. Exists when its id or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k identity.APIKey) error {
	row := toAPIKeyRow(k)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.CreateAPIKey")
}

// FindAPIKeyByHash returns the key whose secret hashes to hash (unique
// index), revoked and expired ones included: the caller decides.
func (s *Store) FindAPIKeyByHash(ctx context.Context, hash string) (identity.APIKey, error) {
	var row apiKeyRow
	if err := s.idb.NewSelect().Model(&row).Where("hash = ?", hash).Scan(ctx); err != nil {
		return identity.APIKey{}, wrap(err, "store.FindAPIKeyByHash")
	}
	return row.apiKey(), nil
}

// GetAPIKey returns one key of appID.
func (s *Store) GetAPIKey(ctx context.Context, appID, id string) (identity.APIKey, error) {
	var row apiKeyRow
	if err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND id = ?", appID, id).Scan(ctx); err != nil {
		return identity.APIKey{}, wrap(err, "store.GetAPIKey")
	}
	return row.apiKey(), nil
}

// ListAPIKeys returns appID's keys not revoked, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, appID string) ([]identity.APIKey, error) {
	var rows []apiKeyRow
	err := s.idb.NewSelect().Model(&rows).
		Where("app_id = ? AND revoked_at IS NULL", appID).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ListAPIKeys")
	}
	out := make([]identity.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.apiKey()
	}
	return out, nil
}

// RevokeAPIKey marks a live key of appID revoked at now and reports
// whether this call did.
func (s *Store) RevokeAPIKey(ctx context.Context, appID, id string, now time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("revoked_at = ?", utc(now)).
		Where("app_id = ? AND id = ? AND revoked_at IS NULL", appID, id).
		Exec(ctx)
	return changed(res, err, "store.RevokeAPIKey")
}

// TouchAPIKey sets the key's last-used time to at, in one statement that
// skips the write when another request recorded a use within
// identity.APIKeyTouchInterval before at.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.idb.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("last_used_at = ?", utc(at)).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, utc(at.Add(-identity.APIKeyTouchInterval))).
		Exec(ctx)
	return wrap(err, "store.TouchAPIKey")
}
