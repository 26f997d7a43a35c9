package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

type memberInviteRow struct {
	bun.BaseModel `bun:"table:member_invites,alias:mi"`

	AppID        string    `bun:"app_id,pk"`
	Email        string    `bun:"email,pk"`
	InvitationID string    `bun:"invitation_id"`
	Role         string    `bun:"role"`
	InvitedBy    string    `bun:"invited_by"`
	CreatedAt    time.Time `bun:"created_at"`
}

func (r memberInviteRow) invite() identity.MemberInvite {
	return identity.MemberInvite{AppID: r.AppID, Email: r.Email, InvitationID: r.InvitationID, Role: identity.Role(r.Role),
		InvitedBy: r.InvitedBy, CreatedAt: utc(r.CreatedAt)}
}

// teamRow is a member with the email of their console user.
type teamRow struct {
	memberRow `bun:",extend"`
	Email     string `bun:"email"`
}

// ListMembers returns appID's members with their console emails, by when
// they joined, then its pending member invitations, by when they were sent.
func (s *Store) ListMembers(ctx context.Context, appID string) ([]identity.Teammate, error) {
	const op = "store.ListMembers"
	var rows []teamRow
	err := s.idb.NewSelect().Model(&rows).
		ColumnExpr("m.*").
		ColumnExpr("COALESCE(u.email, '') AS email").
		Join("LEFT JOIN users AS u ON u.id = m.developer_id AND u.app_id = ?", identity.ConsoleAppID).
		Where("m.app_id = ?", appID).
		OrderExpr("m.created_at ASC, m.developer_id ASC").
		Scan(ctx)
	if err != nil {
		return nil, wrap(err, op)
	}
	var invites []memberInviteRow
	if err := s.idb.NewSelect().Model(&invites).Where("app_id = ?", appID).OrderExpr("created_at ASC, email ASC").Scan(ctx); err != nil {
		return nil, wrap(err, op)
	}
	out := make([]identity.Teammate, 0, len(rows)+len(invites))
	for _, r := range rows {
		out = append(out, identity.Teammate{Member: r.member(), Email: r.Email})
	}
	for _, r := range invites {
		out = append(out, identity.Teammate{
			Member:  identity.Member{AppID: r.AppID, DeveloperID: r.InvitationID, Role: identity.Role(r.Role), CreatedAt: utc(r.CreatedAt)},
			Email:   r.Email,
			Pending: true,
		})
	}
	return out, nil
}

// DeleteMember removes developerID from appID. NotFound when not a member.
func (s *Store) DeleteMember(ctx context.Context, appID, developerID string) error {
	res, err := s.idb.NewDelete().Model((*memberRow)(nil)).
		Where("app_id = ? AND developer_id = ?", appID, developerID).
		Exec(ctx)
	return oneRow(res, err, "store.DeleteMember")
}

// CountOwners counts appID's owners.
func (s *Store) CountOwners(ctx context.Context, appID string) (int, error) {
	n, err := s.idb.NewSelect().Model((*memberRow)(nil)).
		Where("app_id = ? AND role = ?", appID, string(identity.RoleOwner)).
		Count(ctx)
	return n, wrap(err, "store.CountOwners")
}

// PutMemberInvite records m, replacing the pending membership of the same
// app and email (a new invitation, a new role).
func (s *Store) PutMemberInvite(ctx context.Context, m identity.MemberInvite) error {
	row := memberInviteRow{AppID: m.AppID, Email: m.Email, InvitationID: m.InvitationID, Role: string(m.Role),
		InvitedBy: m.InvitedBy, CreatedAt: utc(m.CreatedAt)}
	_, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (app_id, email) DO UPDATE").
		Set("invitation_id = EXCLUDED.invitation_id, role = EXCLUDED.role, invited_by = EXCLUDED.invited_by, created_at = EXCLUDED.created_at").
		Exec(ctx)
	return wrap(err, "store.PutMemberInvite")
}

// GetMemberInvite returns appID's pending membership by its invitation id.
func (s *Store) GetMemberInvite(ctx context.Context, appID, invitationID string) (identity.MemberInvite, error) {
	var row memberInviteRow
	if err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND invitation_id = ?", appID, invitationID).Scan(ctx); err != nil {
		return identity.MemberInvite{}, wrap(err, "store.GetMemberInvite")
	}
	return row.invite(), nil
}

// DeleteMemberInvite drops appID's pending membership by its invitation
// id. NotFound when there is none.
func (s *Store) DeleteMemberInvite(ctx context.Context, appID, invitationID string) error {
	res, err := s.idb.NewDelete().Model((*memberInviteRow)(nil)).
		Where("app_id = ? AND invitation_id = ?", appID, invitationID).
		Exec(ctx)
	return oneRow(res, err, "store.DeleteMemberInvite")
}

// AcceptMemberInvites turns every pending membership for email into a
// membership of developerID (keeping a stronger existing role out of
// reach: an existing membership keeps its role) and drops them. Run it in
// the transaction that creates the developer.
func (s *Store) AcceptMemberInvites(ctx context.Context, email, developerID string, now time.Time) error {
	const op = "store.AcceptMemberInvites"
	var rows []memberInviteRow
	if err := s.idb.NewSelect().Model(&rows).Where("email = ?", email).OrderExpr("app_id ASC").Scan(ctx); err != nil {
		return wrap(err, op)
	}
	for _, r := range rows {
		m := memberRow{AppID: r.AppID, DeveloperID: developerID, Role: r.Role, CreatedAt: utc(now)}
		if _, err := s.idb.NewInsert().Model(&m).On("CONFLICT (app_id, developer_id) DO NOTHING").Exec(ctx); err != nil {
			return wrap(err, op)
		}
	}
	_, err := s.idb.NewDelete().Model((*memberInviteRow)(nil)).Where("email = ?", email).Exec(ctx)
	return wrap(err, op)
}

// ListAllApps lists up to limit apps of any developer by id after the id
// after (empty: from the start), each with developerID's role in it, or
// viewer where they are not a member: an operator's view of the server.
func (s *Store) ListAllApps(ctx context.Context, developerID, after string, limit int) ([]identity.MemberApp, error) {
	const op = "store.ListAllApps"
	var rows []memberAppRow
	q := s.idb.NewSelect().Model(&rows).
		ColumnExpr("app.*").
		ColumnExpr("COALESCE(m.role, ?) AS role", string(identity.RoleViewer)).
		Join("LEFT JOIN app_members AS m ON m.app_id = app.id AND m.developer_id = ?", developerID).
		OrderExpr("app.id ASC")
	if after != "" {
		q = q.Where("app.id > ?", after)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, wrap(err, op)
	}
	return memberApps(rows, op)
}

func memberApps(rows []memberAppRow, op string) ([]identity.MemberApp, error) {
	apps := make([]identity.MemberApp, len(rows))
	for i, r := range rows {
		a, err := r.app()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		apps[i] = identity.MemberApp{App: a, Role: identity.Role(r.Role)}
	}
	return apps, nil
}
