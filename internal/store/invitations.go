package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

type invitationRow struct {
	bun.BaseModel `bun:"table:invitations,alias:iv"`

	ID         string    `bun:"id,pk"`
	AppID      string    `bun:"app_id"`
	Handle     string    `bun:"handle"`
	Hash       string    `bun:"hash"`
	InviterID  string    `bun:"inviter_id,nullzero"`
	Metadata   string    `bun:"metadata,nullzero"`
	Locale     string    `bun:"locale"`
	Attempts   int       `bun:"attempts"`
	CreatedAt  time.Time `bun:"created_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
	AcceptedAt time.Time `bun:"accepted_at,nullzero"`
	AcceptedBy string    `bun:"accepted_by,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`
}

func toInvitationRow(iv identity.Invitation) (invitationRow, error) {
	row := invitationRow{
		ID: iv.ID, AppID: iv.AppID, Handle: iv.Handle, Hash: iv.Hash, InviterID: iv.InviterID, Locale: iv.Locale,
		Attempts: iv.Attempts, CreatedAt: utc(iv.CreatedAt), ExpiresAt: utc(iv.ExpiresAt),
		AcceptedAt: utc(iv.AcceptedAt), AcceptedBy: iv.AcceptedBy, RevokedAt: utc(iv.RevokedAt),
	}
	if iv.Metadata != nil {
		b, err := json.Marshal(iv.Metadata)
		if err != nil {
			return row, err
		}
		row.Metadata = string(b)
	}
	return row, nil
}

func (r invitationRow) invitation() (identity.Invitation, error) {
	iv := identity.Invitation{
		ID: r.ID, AppID: r.AppID, Handle: r.Handle, Hash: r.Hash, InviterID: r.InviterID, Locale: r.Locale,
		Attempts: r.Attempts, CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt),
		AcceptedAt: utc(r.AcceptedAt), AcceptedBy: r.AcceptedBy, RevokedAt: utc(r.RevokedAt),
	}
	if r.Metadata != "" {
		if err := json.Unmarshal([]byte(r.Metadata), &iv.Metadata); err != nil {
			return iv, err
		}
	}
	return iv, nil
}

// pending selects invitations neither accepted nor revoked.
const pending = "accepted_at IS NULL AND revoked_at IS NULL"

// CreateInvitation stores iv and revokes the handle's other pending
// invitations, so only the newest code works.
func (s *Store) CreateInvitation(ctx context.Context, iv identity.Invitation) error {
	const op = "store.CreateInvitation"
	row, err := toInvitationRow(iv)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	if _, err := s.idb.NewUpdate().Model((*invitationRow)(nil)).
		Set("revoked_at = ?", row.CreatedAt).
		Where("app_id = ? AND handle = ? AND "+pending, iv.AppID, iv.Handle).
		Exec(ctx); err != nil {
		return wrap(err, op)
	}
	_, err = s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, op)
}

// FindInvitation returns the newest invitation for a handle.
func (s *Store) FindInvitation(ctx context.Context, appID, handle string) (identity.Invitation, error) {
	const op = "store.FindInvitation"
	var row invitationRow
	err := s.idb.NewSelect().Model(&row).
		Where("app_id = ? AND handle = ?", appID, handle).
		OrderExpr("created_at DESC, id DESC").Limit(1).
		Scan(ctx)
	if err != nil {
		return identity.Invitation{}, wrap(err, op)
	}
	iv, err := row.invitation()
	return iv, apperr.Wrap(err, apperr.Internal, op)
}

// GetInvitation returns one invitation.
func (s *Store) GetInvitation(ctx context.Context, appID, id string) (identity.Invitation, error) {
	const op = "store.GetInvitation"
	var row invitationRow
	if err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND id = ?", appID, id).Scan(ctx); err != nil {
		return identity.Invitation{}, wrap(err, op)
	}
	iv, err := row.invitation()
	return iv, apperr.Wrap(err, apperr.Internal, op)
}

// SpendInvitationAttempt counts one guess at a pending invitation's code in
// one statement, so concurrent guesses never pass max in total.
func (s *Store) SpendInvitationAttempt(ctx context.Context, appID, id string, max int) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*invitationRow)(nil)).
		Set("attempts = attempts + 1").
		Where("app_id = ? AND id = ? AND attempts < ? AND "+pending, appID, id, max).
		Exec(ctx)
	return changed(res, err, "store.SpendInvitationAttempt")
}

// AcceptInvitation marks a pending invitation accepted; one caller wins.
func (s *Store) AcceptInvitation(ctx context.Context, appID, id, userID string, now time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*invitationRow)(nil)).
		Set("accepted_at = ?, accepted_by = ?", utc(now), userID).
		Where("app_id = ? AND id = ? AND "+pending, appID, id).
		Exec(ctx)
	return changed(res, err, "store.AcceptInvitation")
}

// RevokeInvitation marks a pending invitation revoked.
func (s *Store) RevokeInvitation(ctx context.Context, appID, id string, now time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*invitationRow)(nil)).
		Set("revoked_at = ?", utc(now)).
		Where("app_id = ? AND id = ? AND "+pending, appID, id).
		Exec(ctx)
	return changed(res, err, "store.RevokeInvitation")
}

// RenewInvitation gives a pending invitation a new code and expiry, and
// forgets the guesses at the old one.
func (s *Store) RenewInvitation(ctx context.Context, appID, id, hash string, expires time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*invitationRow)(nil)).
		Set("hash = ?, expires_at = ?, attempts = 0", hash, utc(expires)).
		Where("app_id = ? AND id = ? AND "+pending, appID, id).
		Exec(ctx)
	return changed(res, err, "store.RenewInvitation")
}

// ListInvitations lists invitations newest first. Ids are time-ordered
// (UUIDv7), so the id is the paging key.
func (s *Store) ListInvitations(ctx context.Context, appID, after string, limit int) ([]identity.Invitation, error) {
	const op = "store.ListInvitations"
	var rows []invitationRow
	q := s.idb.NewSelect().Model(&rows).Where("app_id = ?", appID).OrderExpr("id DESC")
	if after != "" {
		q = q.Where("id < ?", after)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, op)
	}
	out := make([]identity.Invitation, len(rows))
	for i, r := range rows {
		iv, err := r.invitation()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		out[i] = iv
	}
	return out, nil
}
