package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/identity"
)

type codeRow struct {
	bun.BaseModel `bun:"table:codes,alias:c"`

	ID        string    `bun:"id,pk"`
	AppID     string    `bun:"app_id"`
	Purpose   string    `bun:"purpose"`
	Handle    string    `bun:"handle"`
	Hash      string    `bun:"hash"`
	Attempts  int       `bun:"attempts"`
	Payload   []byte    `bun:"payload,nullzero"`
	CreatedAt time.Time `bun:"created_at,nullzero"`
	ExpiresAt time.Time `bun:"expires_at,nullzero"`
}

func toCodeRow(c identity.Code) codeRow {
	return codeRow{
		ID:        c.ID,
		AppID:     c.AppID,
		Purpose:   c.Purpose,
		Handle:    c.Handle,
		Hash:      c.Hash,
		Attempts:  c.Attempts,
		Payload:   c.Payload,
		CreatedAt: utc(c.CreatedAt),
		ExpiresAt: utc(c.ExpiresAt),
	}
}

func (r codeRow) code() identity.Code {
	return identity.Code{
		ID:        r.ID,
		AppID:     r.AppID,
		Purpose:   r.Purpose,
		Handle:    r.Handle,
		Hash:      r.Hash,
		Attempts:  r.Attempts,
		Payload:   r.Payload,
		CreatedAt: utc(r.CreatedAt),
		ExpiresAt: utc(r.ExpiresAt),
	}
}

// PutCode stores c, replacing in the same statement any code with the same
// app, purpose and handle (a resent code supersedes the old one, whose id
// stops working). NotFound when the app does not exist.
func (s *Store) PutCode(ctx context.Context, c identity.Code) error {
	row := toCodeRow(c)
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (app_id, purpose, handle) DO UPDATE").
		Set("id = EXCLUDED.id").
		Set("hash = EXCLUDED.hash").
		Set("attempts = EXCLUDED.attempts").
		Set("payload = EXCLUDED.payload").
		Set("created_at = EXCLUDED.created_at").
		Set("expires_at = EXCLUDED.expires_at").
		Exec(ctx)
	return wrap(err, "store.PutCode")
}

// FindCode returns the code for app, purpose and handle, expired or not:
// the caller tells an expired code from a wrong one. NotFound when there is
// none.
func (s *Store) FindCode(ctx context.Context, appID, purpose, handle string) (identity.Code, error) {
	var row codeRow
	err := s.idb.NewSelect().Model(&row).
		Where("app_id = ? AND purpose = ? AND handle = ?", appID, purpose, handle).
		Scan(ctx)
	if err != nil {
		return identity.Code{}, wrap(err, "store.FindCode")
	}
	return row.code(), nil
}

// SpendCodeAttempt counts one attempt at the code if fewer than max have
// been made, in one statement, and reports whether it did: concurrent
// callers never get more than max trues in total. NotFound when the code
// is gone (consumed or replaced).
func (s *Store) SpendCodeAttempt(ctx context.Context, appID, codeID string, max int) (bool, error) {
	const op = "store.SpendCodeAttempt"
	res, err := s.idb.NewUpdate().Model((*codeRow)(nil)).
		Set("attempts = attempts + 1").
		Where("app_id = ? AND id = ? AND attempts < ?", appID, codeID, max).
		Exec(ctx)
	ok, err := changed(res, err, op)
	if ok || err != nil {
		return ok, err
	}
	return false, s.mustExist(ctx, op, (*codeRow)(nil), appID, codeID)
}

// ConsumeCode deletes the code and reports whether this call did: at most
// one caller ever gets true. A code that is already gone gives false.
func (s *Store) ConsumeCode(ctx context.Context, appID, codeID string) (bool, error) {
	res, err := s.idb.NewDelete().Model((*codeRow)(nil)).
		Where("app_id = ? AND id = ?", appID, codeID).
		Exec(ctx)
	return changed(res, err, "store.ConsumeCode")
}

// mustExist returns nil when model's table has the row (appID, id), and
// NotFound when it does not.
func (s *Store) mustExist(ctx context.Context, op string, model any, appID, id string) error {
	ok, err := s.idb.NewSelect().Model(model).
		Where("app_id = ? AND id = ?", appID, id).
		Exists(ctx)
	if err != nil {
		return wrap(err, op)
	}
	if !ok {
		return notFound(op)
	}
	return nil
}

// ListCodes returns up to limit of an app's live codes for purpose (the
// decoys SignUp stores for existing accounts, which have no hash, are left
// out), newest first by id, starting after the id `after` (empty: from
// the newest). limit 0 returns all.
func (s *Store) ListCodes(ctx context.Context, appID, purpose, after string, limit int) ([]identity.Code, error) {
	var rows []codeRow
	q := s.idb.NewSelect().Model(&rows).
		Where("app_id = ? AND purpose = ? AND hash <> ''", appID, purpose).
		OrderExpr("id DESC")
	if after != "" {
		q = q.Where("id < ?", after)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, "store.ListCodes")
	}
	out := make([]identity.Code, len(rows))
	for i, r := range rows {
		out[i] = r.code()
	}
	return out, nil
}

// GetCode returns the code id of app appID; NotFound when there is none.
func (s *Store) GetCode(ctx context.Context, appID, id string) (identity.Code, error) {
	var row codeRow
	err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND id = ?", appID, id).Scan(ctx)
	if err != nil {
		return identity.Code{}, wrap(err, "store.GetCode")
	}
	return row.code(), nil
}

// RenewCode gives the code id of app appID c's hash and dates, with no
// attempts spent, keeping its id, purpose, handle and payload, and reports
// whether this call did: false when the code was used or replaced
// meanwhile, so a renewal never revives a spent code.
func (s *Store) RenewCode(ctx context.Context, appID, id string, c identity.Code) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*codeRow)(nil)).
		Set("hash = ?", c.Hash).
		Set("attempts = 0").
		Set("created_at = ?", utc(c.CreatedAt)).
		Set("expires_at = ?", utc(c.ExpiresAt)).
		Where("app_id = ? AND id = ?", appID, id).
		Exec(ctx)
	return changed(res, err, "store.RenewCode")
}
