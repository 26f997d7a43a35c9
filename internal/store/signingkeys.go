package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
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
	if _, err := s.idb.NewInsert().Model(&row).Exec(ctx); err != nil {
		return wrap(err, "store.CreateSigningKey")
	}
	return s.announce(ctx, ChangeKeys, r.AppID)
}

// ListSigningKeys returns every key of the app, newest first (ties by kid,
// descending). An unknown app gives an empty slice and a nil error.
func (s *Store) ListSigningKeys(ctx context.Context, appID string) ([]keys.Record, error) {
	ctx, cancel := s.hot(ctx) // prepared.go
	defer cancel()
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

// DeactivateSigningKey moves the key kid of appID from active to
// verifying, stopped at `at` and leaving the JWKS at retireAt, and reports
// whether this call did: false when the key was not active (another
// rotation got there first). Concurrent callers never both get true.
func (s *Store) DeactivateSigningKey(ctx context.Context, appID, kid string, at, retireAt time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*signingKeyRow)(nil)).
		Set("state = ?", string(keys.StateVerifying)).
		Set("deactivated_at = ?", utc(at)).
		Set("retire_at = ?", utc(retireAt)).
		Where("app_id = ? AND kid = ? AND state = ?", appID, kid, string(keys.StateActive)).
		Exec(ctx)
	ok, err := changed(res, err, "store.DeactivateSigningKey")
	if ok && err == nil {
		err = s.announce(ctx, ChangeKeys, appID)
	}
	return ok, err
}

// RetireSigningKeys marks retired every verifying key, of any app, whose
// retire_at is at or before now, and drops its sealed private key: a
// retired key never signs or verifies again. It returns the keys it
// retired (with their new state). Running it on several replicas at once
// retires each key once.
func (s *Store) RetireSigningKeys(ctx context.Context, now time.Time) ([]keys.Record, error) {
	const op = "store.RetireSigningKeys"
	var due []signingKeyRow
	err := s.idb.NewSelect().Model(&due).
		Where("state = ? AND retire_at <= ?", string(keys.StateVerifying), utc(now)).
		OrderExpr("app_id, kid").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, op)
	}
	var out []keys.Record
	for _, r := range due {
		res, err := s.idb.NewUpdate().Model((*signingKeyRow)(nil)).
			Set("state = ?", string(keys.StateRetired)).
			Set("sealed_private_key = NULL").
			Where("app_id = ? AND kid = ? AND state = ?", r.AppID, r.KID, string(keys.StateVerifying)).
			Exec(ctx)
		ok, err := changed(res, err, op)
		if err != nil {
			return out, err
		}
		if ok {
			r.State, r.SealedPrivateKey = string(keys.StateRetired), nil
			out = append(out, r.record())
			if err := s.announce(ctx, ChangeKeys, r.AppID); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// ListActiveSigningKeys returns the active key of every app whose id sorts
// after `after`, by app id, at most limit of them: the scheduled rotation
// walks them.
func (s *Store) ListActiveSigningKeys(ctx context.Context, after string, limit int) ([]keys.Record, error) {
	var rows []signingKeyRow
	err := s.idb.NewSelect().Model(&rows).
		Where("state = ? AND app_id > ?", string(keys.StateActive), after).
		OrderExpr("app_id, kid").
		Limit(limit).
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, "store.ListActiveSigningKeys")
	}
	recs := make([]keys.Record, len(rows))
	for i, r := range rows {
		recs[i] = r.record()
	}
	return recs, nil
}

// sealedPrivateKeys is the signing_keys.sealed_private_key column for
// secrets.Rekey: Ref is "app_id/kid".
func (s *Store) sealedPrivateKeys() secrets.Column {
	const ref = "app_id || '/' || kid"
	return secrets.Column{
		Name: "signing_keys.sealed_private_key",
		Page: func(ctx context.Context, after string, limit int) ([]secrets.Sealed, error) {
			var rows []signingKeyRow
			err := s.idb.NewSelect().Model(&rows).
				Column("app_id", "kid", "sealed_private_key").
				Where("sealed_private_key IS NOT NULL AND "+ref+" > ?", after).
				OrderExpr(ref).
				Limit(limit).
				Scan(ctx)
			if err != nil {
				return nil, wrap(err, "store.sealedPrivateKeys")
			}
			out := make([]secrets.Sealed, len(rows))
			for i, r := range rows {
				out[i] = secrets.Sealed{Ref: r.AppID + "/" + r.KID, Ciphertext: r.SealedPrivateKey, Associated: keys.SealAssociatedData(r.AppID, r.KID)}
			}
			return out, nil
		},
		Replace: func(ctx context.Context, old secrets.Sealed, ciphertext []byte) (bool, error) {
			i := strings.LastIndexByte(old.Ref, '/') // a kid is base64url: no '/'
			appID, kid := old.Ref[:max(i, 0)], old.Ref[i+1:]
			res, err := s.idb.NewUpdate().Model((*signingKeyRow)(nil)).
				Set("sealed_private_key = ?", ciphertext).
				Where("app_id = ? AND kid = ? AND sealed_private_key = ?", appID, kid, old.Ciphertext).
				Exec(ctx)
			ok, err := changed(res, err, "store.sealedPrivateKeys")
			if ok && err == nil {
				err = s.announce(ctx, ChangeKeys, appID)
			}
			return ok, err
		},
	}
}
