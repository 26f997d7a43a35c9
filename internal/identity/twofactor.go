package identity

import (
	"context"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// DisableTwoFactor turns the signed-in user's second factor off and drops
// their authenticator secret, recovery codes and pending challenges. It
// needs the password, or else a current code: a TOTP code or a recovery
// code (an SMS user without a password has no code to give and asks the
// developer to reset the factor).
func (s *Service) DisableTwoFactor(ctx context.Context, p Principal, password, code Secret) (User, error) {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	if u.TwoFactor == TwoFactorNone {
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorNotEnrolled, "two-step verification is not on")
	}
	c := Caller{AppID: a.ID, IP: p.IP}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeIP), c.IP), byKey(s.rule(a, LimitCodeHandle), "disable:"+u.ID)); err != nil {
		return User{}, err
	}
	spend := func(Store) error { return nil }
	switch {
	case password != "":
		if err := s.checkCurrentPassword(ctx, a, u, storedPassword(a, p.Prehashed, password)); err != nil {
			if apperr.ReasonOf(err) == apperr.ReasonInvalidCredentials {
				s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.2fa.disable", SubjectID: u.ID, IP: c.IP, Reason: apperr.ReasonInvalidCredentials})
			}
			return User{}, err
		}
	case code != "":
		lt := LoginToken{Method: u.TwoFactor}
		if u.TwoFactor == TwoFactorSMS && !recoveryCodeRE.MatchString(code.Reveal()) {
			return User{}, apperr.Fields(apperr.ReasonInvalidCode, []apperr.Violation{{Field: "code",
				Description: "SMS users turn two-step verification off with their password"}})
		}
		if spend, err = s.checkSecondFactor(ctx, c, a, u, lt, code); err != nil {
			return User{}, err
		}
	default:
		return User{}, apperr.Fields(apperr.ReasonInvalidArgument, []apperr.Violation{{Field: "password", Description: "give the password, or a current code in code"}})
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := spend(tx); err != nil {
			return err
		}
		return s.clearTwoFactor(ctx, tx, a, u, AuditEvent{Action: "user.2fa.disable", ActorID: u.ID, IP: p.IP})
	})
	if err != nil {
		return User{}, err
	}
	return s.store.GetUser(ctx, a.ID, u.ID)
}

// ResetUserTwoFactor is the developer's way out for a user who lost their
// second factor: it turns it off, with an audit event naming the developer.
// The user's verified phone stays.
func (s *Service) ResetUserTwoFactor(ctx context.Context, d Developer, appID, userID string) (User, error) {
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.GetUser(ctx, m.ID, userID)
	if apperr.Is(err, apperr.NotFound) {
		return User{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no user with that id in this application")
	}
	if err != nil {
		return User{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		return s.clearTwoFactor(ctx, tx, m.App, u, AuditEvent{Action: "user.2fa.reset", ActorID: d.ActorID(), IP: d.IP})
	})
	if err != nil {
		return User{}, err
	}
	return s.store.GetUser(ctx, m.ID, u.ID)
}

// clearTwoFactor removes every trace of u's second factor through tx and
// records e (whose app, subject and details it fills).
func (s *Service) clearTwoFactor(ctx context.Context, tx Store, a App, u User, e AuditEvent) error {
	if _, err := tx.SwitchTwoFactor(ctx, a.ID, u.ID, "", TwoFactorNone, s.clock()); err != nil {
		return err
	}
	if err := tx.DeleteTwoFactor(ctx, a.ID, u.ID); err != nil {
		return err
	}
	e.AppID, e.SubjectID, e.Details = a.ID, u.ID, map[string]any{"method": string(u.TwoFactor)}
	return s.audit(ctx, tx, e)
}
