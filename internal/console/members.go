package console

// Teams: who is a member of an app with which role. Owners add and remove
// members; anyone may leave; an app always keeps an owner.

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Team is the persistence of memberships beyond Members.
type Team interface {
	// ListMembers returns an app's members (with console emails), then its
	// pending member invitations.
	ListMembers(ctx context.Context, appID string) ([]identity.Teammate, error)
	DeleteMember(ctx context.Context, appID, developerID string) error
	CountOwners(ctx context.Context, appID string) (int, error)
	GetMemberInvite(ctx context.Context, appID, invitationID string) (identity.MemberInvite, error)
	DeleteMemberInvite(ctx context.Context, appID, invitationID string) error
	// FindUserByEmail finds a user of appID; for the console app, a developer.
	FindUserByEmail(ctx context.Context, appID, email string) (identity.User, error)
	RevokeInvitation(ctx context.Context, appID, id string, now time.Time) (bool, error)
}

// DeveloperInviter mails a console invitation that makes its taker a
// member of appID with role (identity.Service.InviteDeveloper).
type DeveloperInviter interface {
	InviteDeveloper(ctx context.Context, d identity.Developer, appID, email string, role identity.Role) (identity.Invitation, error)
}

// ListMembers lists an app's members and pending invitations. Viewers may.
func (s *Service) ListMembers(ctx context.Context, d identity.Developer, appID string) ([]identity.Teammate, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleViewer); err != nil {
		return nil, err
	}
	return s.store.ListMembers(ctx, appID)
}

// AddMember gives the developer with email the role in appID: an existing
// developer becomes a member (or a member changes role); an email with no
// developer gets a console invitation, and the answer is a pending member.
// Owners only. Demoting the last owner is refused (LAST_OWNER).
func (s *Service) AddMember(ctx context.Context, d identity.Developer, appID, email string, role identity.Role) (identity.Teammate, bool, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleOwner); err != nil {
		return identity.Teammate{}, false, err
	}
	if !validRole(role) {
		return identity.Teammate{}, false, apperr.Field("role", "must be owner, admin or viewer")
	}
	email = identity.NormalizeEmail(email)
	dev, err := s.store.FindUserByEmail(ctx, identity.ConsoleAppID, email)
	switch {
	case apperr.Is(err, apperr.NotFound):
		if s.inviter == nil {
			return identity.Teammate{}, false, apperr.New(apperr.Precondition, apperr.ReasonNotFound, "no developer has this email")
		}
		iv, err := s.inviter.InviteDeveloper(ctx, d, appID, email, role)
		if err != nil {
			return identity.Teammate{}, false, err
		}
		m := identity.Member{AppID: appID, DeveloperID: iv.ID, Role: role, CreatedAt: iv.CreatedAt}
		return identity.Teammate{Member: m, Email: email, Pending: true}, true, nil
	case err != nil:
		return identity.Teammate{}, false, err
	}
	var out identity.Teammate
	err = s.store.InTx(ctx, func(tx Store) error {
		// Holding the app serializes its membership changes, so two owners
		// demoting each other cannot both pass the last-owner check, and
		// the caller's role is read again under the hold.
		if err := recheck(ctx, tx, d, appID, identity.RoleOwner); err != nil {
			return err
		}
		now := s.clock()
		cur, err := tx.GetMember(ctx, appID, dev.ID)
		switch {
		case err == nil:
			if cur.Role == role {
				out = identity.Teammate{Member: cur, Email: dev.Email}
				return nil
			}
			if cur.Role == identity.RoleOwner {
				if err := lastOwner(ctx, tx, appID); err != nil {
					return err
				}
			}
		case !apperr.Is(err, apperr.NotFound):
			return err
		default:
			cur = identity.Member{AppID: appID, DeveloperID: dev.ID, CreatedAt: now}
		}
		prev := cur.Role
		cur.Role = role
		if err := tx.PutMember(ctx, cur); err != nil {
			return err
		}
		out = identity.Teammate{Member: cur, Email: dev.Email}
		details := map[string]any{"role": string(role)}
		if prev != "" {
			details["previous_role"] = string(prev)
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "member.add", ActorID: d.ActorID(), SubjectID: dev.ID, IP: d.IP, Details: details})
	})
	return out, false, err
}

// RemoveMember removes a member (developerID), or a pending invitation
// (developerID is its invitation id, which is revoked too). Owners may
// remove anyone, any member themselves; never the app's last owner.
func (s *Service) RemoveMember(ctx context.Context, d identity.Developer, appID, developerID string) error {
	need := identity.RoleOwner
	if d.APIKeyID == "" && d.ID == developerID {
		need = identity.RoleViewer
	}
	if _, err := s.member(ctx, d, appID, need); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := recheck(ctx, tx, d, appID, need); err != nil {
			return err
		}
		cur, err := tx.GetMember(ctx, appID, developerID)
		switch {
		case apperr.Is(err, apperr.NotFound):
			return s.removeInvite(ctx, tx, d, appID, developerID)
		case err != nil:
			return err
		}
		if cur.Role == identity.RoleOwner {
			if err := lastOwner(ctx, tx, appID); err != nil {
				return err
			}
		}
		if err := tx.DeleteMember(ctx, appID, developerID); err != nil {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "member.remove", ActorID: d.ActorID(), SubjectID: developerID, IP: d.IP,
			Details: map[string]any{"role": string(cur.Role)}})
	})
}

// removeInvite drops a pending membership and revokes its invitation.
func (s *Service) removeInvite(ctx context.Context, tx Store, d identity.Developer, appID, invitationID string) error {
	notFound := apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no member with that id")
	mi, err := tx.GetMemberInvite(ctx, appID, invitationID)
	if apperr.Is(err, apperr.NotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	if err := tx.DeleteMemberInvite(ctx, appID, invitationID); err != nil {
		return err
	}
	if _, err := tx.RevokeInvitation(ctx, identity.ConsoleAppID, invitationID, s.clock()); err != nil {
		return err
	}
	return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "member.remove", ActorID: d.ActorID(), SubjectID: invitationID, IP: d.IP,
		Details: map[string]any{"role": string(mi.Role), "pending": true}})
}

// recheck holds appID for the rest of tx and checks the caller's role
// again under the hold: a role taken away by a concurrent change counts.
func recheck(ctx context.Context, tx Store, d identity.Developer, appID string, need identity.Role) error {
	if _, err := tx.GetAppForUpdate(ctx, appID); err != nil {
		return err
	}
	_, err := identity.Access(ctx, tx, d, appID, need)
	return err
}

// lastOwner refuses a change that would leave appID without an owner,
// called before an owner is removed or demoted.
func lastOwner(ctx context.Context, tx Store, appID string) error {
	n, err := tx.CountOwners(ctx, appID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return apperr.New(apperr.Precondition, apperr.ReasonLastOwner, "an application keeps at least one owner: make another member owner first")
	}
	return nil
}

func validRole(r identity.Role) bool {
	return r == identity.RoleOwner || r == identity.RoleAdmin || r == identity.RoleViewer
}
