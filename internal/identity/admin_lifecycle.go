package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
)

// CreateInvitations invites many emails for a developer. Every input is
// checked before anything is sent, so one bad entry sends none; emails
// that already have an account get a notice and no invitation.
func (s *Service) CreateInvitations(ctx context.Context, d Developer, appID string, ins []InviteInput) ([]Invitation, error) {
	m, err := s.member(ctx, d, appID, true)
	if err != nil {
		return nil, err
	}
	if !m.Settings.InvitesEnabled {
		return nil, apperr.New(apperr.Precondition, apperr.ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	var vs []apperr.Violation
	for i, in := range ins {
		if _, err := checkMetadata(m.Settings.InviteMetadataFields, in.Metadata, true); err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) {
				return nil, err
			}
			for _, v := range e.Violations() {
				vs = append(vs, apperr.Violation{Field: fmt.Sprintf("invitations[%d].%s", i, v.Field), Description: v.Description})
			}
		}
		if _, err := PickLocale(m.App, in.Locale); err != nil {
			vs = append(vs, apperr.Violation{Field: "locale", Description: "is not one of this application's locales"})
		}
	}
	if err := apperr.Fields(apperr.ReasonMetadataInvalid, vs); err != nil {
		return nil, err
	}
	var out []Invitation
	for _, in := range ins {
		iv, err := s.invite(ctx, Caller{AppID: appID, IP: d.IP}, m.App, "", in)
		if err != nil {
			return out, err
		}
		if iv.ID != "" {
			out = append(out, iv)
		}
	}
	return out, nil
}

// ListInvitations lists an app's invitations, newest first, optionally
// only those in state (InvitePending, …).
func (s *Service) ListInvitations(ctx context.Context, d Developer, appID, state, after string, limit int) ([]Invitation, error) {
	if _, err := s.member(ctx, d, appID, false); err != nil {
		return nil, err
	}
	if state == "" {
		return s.store.ListInvitations(ctx, appID, after, limit)
	}
	// Filter by the derived state, reading pages until limit are found.
	var out []Invitation
	now := s.clock()
	for {
		page, err := s.store.ListInvitations(ctx, appID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, iv := range page {
			if iv.State(now) == state {
				out = append(out, iv)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// ResendInvitation mails a pending invitation again with a new code and a
// fresh expiry; the old code stops working.
func (s *Service) ResendInvitation(ctx context.Context, d Developer, appID, id string) (Invitation, error) {
	const op = "identity.ResendInvitation"
	m, err := s.member(ctx, d, appID, true)
	if err != nil {
		return Invitation{}, err
	}
	iv, err := s.store.GetInvitation(ctx, appID, id)
	if apperr.Is(err, apperr.NotFound) {
		return Invitation{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no invitation with that id")
	}
	if err != nil {
		return Invitation{}, err
	}
	now := s.clock()
	if st := iv.State(now); st != InvitePending && st != InviteExpired {
		return Invitation{}, apperr.New(apperr.Precondition, inviteStateReason(st), "only a pending or expired invitation can be resent")
	}
	code, err := otp.NewCode()
	if err != nil {
		return Invitation{}, apperr.Wrap(err, apperr.Internal, op)
	}
	iv.Hash, iv.CreatedAt, iv.ExpiresAt, iv.Attempts = s.codeHash(m.App, purposeInvite, iv.Handle, code), now, now.Add(m.Settings.InviteLifetime), 0
	err = s.store.InTx(ctx, func(tx Store) error {
		ok, err := tx.RenewInvitation(ctx, appID, iv.ID, iv.Hash, iv.ExpiresAt)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Precondition, apperr.ReasonInviteUsed, "the invitation was used or revoked meanwhile")
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "invite.resend", ActorID: d.ID, SubjectID: iv.ID, IP: d.IP})
	})
	if err != nil {
		return Invitation{}, err
	}
	return iv, s.mailInvite(ctx, m.App, iv, code)
}

func inviteStateReason(state string) apperr.Reason {
	switch state {
	case InviteAccepted:
		return apperr.ReasonInviteUsed
	case InviteRevoked:
		return apperr.ReasonInviteRevoked
	}
	return apperr.ReasonInviteExpired
}

// RevokeInvitation revokes a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, d Developer, appID, id string) error {
	if _, err := s.member(ctx, d, appID, true); err != nil {
		return err
	}
	iv, err := s.store.GetInvitation(ctx, appID, id)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no invitation with that id")
	}
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		ok, err := tx.RevokeInvitation(ctx, appID, iv.ID, s.clock())
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Precondition, inviteStateReason(iv.State(s.clock())), "only a pending invitation can be revoked")
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "invite.revoke", ActorID: d.ID, SubjectID: iv.ID, IP: d.IP})
	})
}

// prefixFields puts prefix before the field names of an Invalid error.
func prefixFields(err error, prefix string) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind() != apperr.Invalid {
		return err
	}
	vs := e.Violations()
	for i := range vs {
		vs[i].Field = prefix + vs[i].Field
	}
	c := e.WithViolations(vs...)
	if c.Reason() == "" {
		c = c.WithReason(apperr.ReasonInvalidArgument)
	}
	return c
}
