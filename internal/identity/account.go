package identity

import (
	"context"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// DeleteAccountInput is the proof a user gives to delete their account:
// the password, or for a user without one a fresh ID token of a linked
// Apple or Google identity.
type DeleteAccountInput struct {
	Password Secret
	Provider string // "apple" or "google", with IDToken
	IDToken  Secret
	Nonce    Secret
}

// DeleteAccount re-checks who is asking, then removes the user — profile,
// metadata, credentials, linked identities, second factors — and every
// session, in one transaction. The audit event keeps only the user id.
// Anonymous users, who have nothing to re-check, may delete themselves
// with their session alone.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, in DeleteAccountInput) error {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	switch {
	case in.Password != "":
		if err := s.checkCurrentPassword(ctx, a, u, storedPassword(a, p.Prehashed, in.Password)); err != nil {
			return err
		}
	case in.IDToken != "":
		if err := s.reauthenticateSocial(ctx, a, u, in.Provider, in.IDToken.Reveal(), in.Nonce.Reveal()); err != nil {
			return err
		}
	case u.Anonymous:
	default:
		return apperr.Field("password", "is required to delete the account (or id_token for a social-only account)")
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.RevokeUserSessions(ctx, a.ID, u.ID, "", "account_deleted", s.clock()); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, a.ID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.delete", ActorID: u.ID, SubjectID: u.ID, IP: p.IP})
	})
}
