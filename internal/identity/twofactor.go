package identity

import (
	"context"
	"regexp"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
)

// Second-factor constants.
const (
	// LoginTokenTTL is how long a challenge waits for its second factor.
	LoginTokenTTL = 5 * time.Minute
	// MaxLoginTokenAttempts is how many codes one challenge checks.
	MaxLoginTokenAttempts = 5
	// RecoveryCodeCount is how many recovery codes an enrollment gets.
	RecoveryCodeCount = 10

	purposeRecovery = "recovery"
	purposeLoginSMS = "login_sms"
)

// recoveryCodeRE is the shape of otp.NewRecoveryCodes; anything else typed
// at CompleteLogin is a six-digit code.
var recoveryCodeRE = regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`)

// CompleteLogin answers a challenge from Login with a TOTP code, a texted
// code or a recovery code, and signs the user in. A challenge checks at
// most MaxLoginTokenAttempts codes, however many arrive at once, and lives
// LoginTokenTTL; a TOTP code or recovery code works once.
func (s *Service) CompleteLogin(ctx context.Context, c Caller, loginToken, code Secret) (SessionTokens, error) {
	const op = "identity.CompleteLogin"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	if err := s.limit(ctx, a.ID, byKey(LimitCodeIP, c.IP)); err != nil {
		return SessionTokens{}, err
	}
	tokenInvalid := apperr.New(apperr.Unauthenticated, ReasonLoginTokenInvalid, "the login token is not valid; sign in again")
	lt, err := s.store.FindLoginToken(ctx, a.ID, otp.HashToken(loginToken.Reveal()))
	if apperr.Is(err, apperr.NotFound) {
		return SessionTokens{}, tokenInvalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	now := s.clock()
	if !now.Before(lt.ExpiresAt) {
		return SessionTokens{}, apperr.New(apperr.Unauthenticated, ReasonLoginTokenExpired, "the login token has expired; sign in again")
	}
	if err := s.limit(ctx, a.ID, byKey(LimitCodeHandle, "login:"+lt.UserID)); err != nil {
		return SessionTokens{}, err
	}
	ok, err := s.store.SpendLoginAttempt(ctx, a.ID, lt.ID, MaxLoginTokenAttempts)
	if apperr.Is(err, apperr.NotFound) { // used, or the factor was reset, since we read it
		return SessionTokens{}, tokenInvalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	if !ok {
		return SessionTokens{}, apperr.New(apperr.Precondition, ReasonTooManyAttempts, "too many wrong codes; sign in again")
	}
	u, err := s.store.GetUser(ctx, a.ID, lt.UserID)
	if apperr.Is(err, apperr.NotFound) {
		return SessionTokens{}, tokenInvalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	if u.Status != UserActive {
		return SessionTokens{}, apperr.New(apperr.Permission, ReasonAccountSuspended, "this account is suspended")
	}
	spend, err := s.checkSecondFactor(ctx, c, a, u, lt, code)
	if err != nil {
		if apperr.ReasonOf(err) == ReasonInvalidCode {
			s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login.second_factor", SubjectID: u.ID, IP: c.IP,
				Reason: ReasonInvalidCode, Details: map[string]any{"method": string(lt.Method)}})
		}
		return SessionTokens{}, err
	}
	return s.signIn(ctx, c, a, u, "user.login", func(tx Store) error {
		won, err := tx.ConsumeLoginToken(ctx, a.ID, lt.ID)
		if err != nil {
			return err
		}
		if !won {
			return tokenInvalid
		}
		return spend(tx)
	})
}

// checkSecondFactor checks code against the challenge's factor, or a
// recovery code, and returns what spends it: run in the sign-in's
// transaction, it fails with INVALID_CODE when a concurrent request spent
// the same code first.
func (s *Service) checkSecondFactor(ctx context.Context, c Caller, a App, u User, lt LoginToken, code Secret) (func(Store) error, error) {
	if recoveryCodeRE.MatchString(code.Reveal()) {
		hash := s.codeHash(a, purposeRecovery, u.ID, code.Reveal())
		return func(tx Store) error {
			won, err := tx.ConsumeRecoveryCode(ctx, a.ID, u.ID, hash)
			if err != nil {
				return err
			}
			if !won {
				return invalidCode()
			}
			left, err := tx.CountRecoveryCodes(ctx, a.ID, u.ID)
			if err != nil {
				return err
			}
			return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.2fa.recovery_code.use", ActorID: u.ID, SubjectID: u.ID,
				IP: c.IP, Details: map[string]any{"remaining": left}})
		}, nil
	}
	switch lt.Method {
	case TwoFactorTOTP:
		step, err := s.checkTOTP(ctx, a, u, code)
		if err != nil {
			return nil, err
		}
		return func(tx Store) error { return s.useTotpStep(ctx, tx, a, u, step) }, nil
	case TwoFactorSMS:
		if lt.CodeHash == "" || !s.codeMatches(a, purposeLoginSMS, lt.ID, lt.CodeHash, code) {
			return nil, invalidCode()
		}
		return func(Store) error { return nil }, nil // the login token is the code: consuming it spends both
	}
	return nil, apperr.Wrap(errUnknownMethod(lt.Method), apperr.Internal, "identity.checkSecondFactor")
}

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
		return User{}, apperr.New(apperr.Precondition, ReasonTwoFactorNotEnrolled, "two-step verification is not on")
	}
	c := Caller{AppID: a.ID, IP: p.IP}
	if err := s.limit(ctx, a.ID, byKey(LimitCodeIP, c.IP), byKey(LimitCodeHandle, "disable:"+u.ID)); err != nil {
		return User{}, err
	}
	spend := func(Store) error { return nil }
	switch {
	case password != "":
		if err := s.checkCurrentPassword(ctx, a, u, storedPassword(a, p.Prehashed, password)); err != nil {
			if apperr.ReasonOf(err) == ReasonInvalidCredentials {
				s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.2fa.disable", SubjectID: u.ID, IP: c.IP, Reason: ReasonInvalidCredentials})
			}
			return User{}, err
		}
	case code != "":
		lt := LoginToken{Method: u.TwoFactor}
		if u.TwoFactor == TwoFactorSMS && !recoveryCodeRE.MatchString(code.Reveal()) {
			return User{}, apperr.Fields(ReasonInvalidCode, []apperr.Violation{{Field: "code",
				Description: "SMS users turn two-step verification off with their password"}})
		}
		if spend, err = s.checkSecondFactor(ctx, c, a, u, lt, code); err != nil {
			return User{}, err
		}
	default:
		return User{}, apperr.Fields(ReasonInvalidArgument, []apperr.Violation{{Field: "password", Description: "give the password, or a current code in code"}})
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
	m, err := s.member(ctx, d, appID, true)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.GetUser(ctx, m.ID, userID)
	if apperr.Is(err, apperr.NotFound) {
		return User{}, apperr.New(apperr.NotFound, ReasonNotFound, "no user with that id in this application")
	}
	if err != nil {
		return User{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		return s.clearTwoFactor(ctx, tx, m.App, u, AuditEvent{Action: "user.2fa.reset", ActorID: d.ID, IP: d.IP})
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
