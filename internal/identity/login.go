package identity

import (
	"context"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// LoginResult is a session, or (once second factors exist) a challenge.
type LoginResult struct {
	Session *SessionTokens
}

// Login checks a password. An unknown handle, a user without a password and
// a wrong password all read INVALID_CREDENTIALS and cost one password hash,
// so neither wording nor timing tells which.
func (s *Service) Login(ctx context.Context, c Caller, handle string, pw Secret) (LoginResult, error) {
	const op = "identity.Login"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return LoginResult{}, err
	}
	invalid := apperr.New(apperr.Unauthenticated, ReasonInvalidCredentials, "the handle or password is wrong")
	u, err := s.findByHandle(ctx, a, handle)
	if apperr.Is(err, apperr.NotFound) {
		s.passwords.VerifyDummy(ctx, pw.Reveal())
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login", IP: c.IP, Reason: ReasonInvalidCredentials})
		return LoginResult{}, invalid
	}
	if err != nil {
		return LoginResult{}, err
	}
	now := s.clock()
	if now.Before(u.LockedUntil) {
		s.passwords.VerifyDummy(ctx, pw.Reveal())
		e := apperr.New(apperr.RateLimited, ReasonAccountLocked, "too many failed logins; try again later")
		e.RetryAfter = u.LockedUntil.Sub(now).Round(time.Second)
		return LoginResult{}, e
	}
	hash, err := s.store.PasswordHash(ctx, a.ID, u.ID)
	if err != nil {
		return LoginResult{}, err
	}
	ok, rehash := false, false
	if hash == "" {
		s.passwords.VerifyDummy(ctx, pw.Reveal())
	} else if ok, rehash, err = s.passwords.Verify(ctx, pw.Reveal(), hash); err != nil {
		return LoginResult{}, apperr.Wrap(err, apperr.Internal, op)
	}
	if !ok {
		if _, _, err := s.store.RecordLoginFailure(ctx, a.ID, u.ID, now, a.Settings.MaxLoginAttempts, Backoff); err != nil {
			return LoginResult{}, err
		}
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login", SubjectID: u.ID, IP: c.IP, Reason: ReasonInvalidCredentials})
		return LoginResult{}, invalid
	}
	if u.Status != UserActive {
		return LoginResult{}, apperr.New(apperr.Permission, ReasonAccountSuspended, "this account is suspended")
	}
	var newHash string
	if rehash {
		if newHash, err = s.passwords.Hash(ctx, pw.Reveal()); err != nil {
			return LoginResult{}, apperr.Wrap(err, apperr.Internal, op)
		}
	}
	u.LastLoginAt, u.FailedLogins, u.LockedUntil = now, 0, time.Time{}
	p, err := s.prepareSession(ctx, a, u, Session{}, "")
	if err != nil {
		return LoginResult{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if newHash != "" {
			if err := tx.SetPasswordHash(ctx, a.ID, u.ID, newHash, now); err != nil {
				return err
			}
		}
		if err := tx.RecordLoginSuccess(ctx, a.ID, u.ID, now); err != nil {
			return err
		}
		if err := p.store(ctx, tx, true); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.login", ActorID: u.ID, SubjectID: u.ID, IP: c.IP})
	})
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Session: &p.session}, nil
}

// findByHandle looks a user up by email, or by user name where the app
// allows user names. Anything else is NotFound.
func (s *Service) findByHandle(ctx context.Context, a App, handle string) (User, error) {
	h := strings.TrimSpace(handle)
	if strings.Contains(h, "@") {
		return s.store.FindUserByEmail(ctx, a.ID, NormalizeEmail(h))
	}
	if a.Settings.UserNamesEnabled {
		return s.store.FindUserByUserName(ctx, a.ID, h)
	}
	return User{}, apperr.New(apperr.NotFound, ReasonNotFound, "no such user")
}
