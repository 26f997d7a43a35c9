package identity

import (
	"context"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// LoginResult is a session, or a challenge when a second factor is needed.
// Exactly one is set.
type LoginResult struct {
	Session   *SessionTokens
	Challenge *Challenge
}

// Challenge asks for a second factor; CompleteLogin answers it.
type Challenge struct {
	LoginToken Secret
	Method     TwoFactorMethod
	ExpiresAt  time.Time
	PhoneHint  string // SMS: the last digits of the phone the code went to
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
	if err := s.limit(ctx, a.ID, byKey(LimitLoginIP, c.IP), byKey(LimitLoginHandle, NormalizeEmail(handle))); err != nil {
		return LoginResult{}, err
	}
	invalid := apperr.New(apperr.Unauthenticated, ReasonInvalidCredentials, "the handle or password is wrong")
	pw = storedPassword(a, c.Prehashed, pw)
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
	ch, err := s.secondFactor(ctx, c, a, u)
	if err != nil {
		return LoginResult{}, err
	}
	if ch != nil {
		// The password is proven even though the session waits for the
		// second factor: upgrade its hash now, or it never would be.
		if newHash != "" {
			if err := s.store.SetPasswordHash(ctx, a.ID, u.ID, newHash, now); err != nil {
				s.log.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
			}
		}
		return LoginResult{Challenge: ch}, nil
	}
	var upgrade func(Store) error
	if newHash != "" {
		upgrade = func(tx Store) error { return tx.SetPasswordHash(ctx, a.ID, u.ID, newHash, now) }
	}
	sess, err := s.signIn(ctx, c, a, u, "user.login", upgrade)
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Session: &sess}, nil
}

// signIn opens a session for a user who has proved who they are: it clears
// failed logins, records the login and stores the session in one
// transaction, running extra (if any) first in it. Every way of signing in
// (password, second factor, social, signup) ends here or in createUser.
func (s *Service) signIn(ctx context.Context, c Caller, a App, u User, action string, extra func(Store) error) (SessionTokens, error) {
	now := s.clock()
	u.LastLoginAt, u.FailedLogins, u.LockedUntil = now, 0, time.Time{}
	p, err := s.prepareSession(ctx, a, u, Session{}, "")
	if err != nil {
		return SessionTokens{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if err := tx.RecordLoginSuccess(ctx, a.ID, u.ID, now); err != nil {
			return err
		}
		if err := p.store(ctx, tx, true); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: action, ActorID: u.ID, SubjectID: u.ID, IP: c.IP})
	})
	if err != nil {
		return SessionTokens{}, err
	}
	return p.session, nil
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
