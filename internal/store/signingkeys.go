package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/keys"
)

type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys,alias:sk"`

	AppID            string    `bun:"app_id,pk"`
	KID              string    `bun:"kid,pk"`
	Algorithm        string    `bun:"algorithm"`
	Backend          string    `bun:"backend"`
	BackendRef       string    `bun:"backend_ref"`
	State            string    `bun:"state"`
	PublicKeyPEM     string    `bun:"public_key_pem"`
	SealedPrivateKey []byte    `bun:"sealed_private_key,nullzero"`
	CreatedAt        time.Time `bun:"created_at,nullzero"`
	DeactivatedAt    time.Time `bun:"deactivated_at,nullzero"`
	RetireAt         time.Time `bun:"retire_at,nullzero"`
}

func toSigningKeyRow(r keys.Record) signingKeyRow {
	return signingKeyRow{
		AppID:            r.AppID,
		KID:              r.KID,
		Algorithm:        r.Algorithm,
		Backend:          r.Backend,
		BackendRef:       r.BackendRef,
		State:            string(r.State),
		PublicKeyPEM:     r.PublicKeyPEM,
		SealedPrivateKey: r.SealedPrivateKey,
		CreatedAt:        utc(r.CreatedAt),
		DeactivatedAt:    utc(r.DeactivatedAt),
		RetireAt:         utc(r.RetireAt),
	}
}

func (r signingKeyRow) record() keys.Record {
	return keys.Record{
		AppID:            r.AppID,
		KID:              r.KID,
		Algorithm:        r.Algorithm,
		Backend:          r.Backend,
		BackendRef:       r.BackendRef,
		State:            keys.State(r.State),
		PublicKeyPEM:     r.PublicKeyPEM,
		SealedPrivateKey: r.SealedPrivateKey,
		CreatedAt:        utc(r.CreatedAt),
		DeactivatedAt:    utc(r.DeactivatedAt),
		RetireAt:         utc(r.RetireAt),
	}
}

// CreateSigningKey stores a new key record. Exists when the app already
// has the kid; NotFound when the app does not exist.
func (s *Store) CreateSigningKey(ctx context.Context, r keys.Record) error {
	row := toSigningKeyRow(r)
	_, err := s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, "store.CreateSigningKey")
}

// ListSigningKeys returns every key of the app, newest first (ties by kid,
// descending). An unknown app gives an empty slice and a nil error.
func (s *Store) ListSigningKeys(ctx context.Context, appID string) ([]keys.Record, error) {
	var rows []signingKeyRow
	err := s.idb.NewSelect().Model(&rows).
		Where("app_id = ?", appID).
		OrderExpr("created_at DESC, kid DESC").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ListSigningKeys")
	}
	recs := make([]keys.Record, len(rows))
	for i, r := range rows {
		recs[i] = r.record()
	}
	return recs, nil
}
