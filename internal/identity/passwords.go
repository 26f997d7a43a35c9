package identity

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// ResetCodeTTL is how long a password-reset code lives.
const ResetCodeTTL = time.Hour

// ForgotPassword mails a reset code when the handle names a user of the
// app, and answers the same either way, so it cannot probe for accounts.
// Users without a password (anonymous, social-only) get no code: a reset
// would add a way to sign in they never chose.
func (s *Service) ForgotPassword(ctx context.Context, c Caller, handle string) error {
	const op = "identity.ForgotPassword"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return err
	}
	key := NormalizeEmail(handle)
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitResetIP), c.IP), byKey(s.rule(a, LimitResetHandle), key)); err != nil {
		return err
	}
	// The user and their password hash in one read, found or not, so an
	// unknown handle runs the same statements as a known handle that gets no
	// mail. Every path then does the same store work
	// (TestForgotPasswordCost): the path that mails writes the code, the
	// queued mail and the audit event in one transaction and never waits on
	// SMTP; the silent paths render and commit the same rows as decoys that
	// do nothing (see mailResetCode).
	u, hash, err := s.findWithHash(ctx, a, handle)
	known := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	if !known || hash == "" || u.Email == "" || u.Status != UserActive {
		return s.mailResetCode(ctx, c, a, User{AppID: a.ID, Email: key}, op, true)
	}
	return s.mailResetCode(ctx, c, a, u, op, false)
}

// mailResetCode stores a fresh reset code for u and queues its mail, in one
// transaction. A decoy does the same work with rows that do nothing: a code
// whose hash no code matches (a guess at it is INVALID_CODE, as at a real
// one), a delivery in state suppressed without bodies (never sent; the
// developer sees the attempt in ListDeliveries) and a failed audit event.
// Rolling back instead would leave COMMIT against ROLLBACK to time.
func (s *Service) mailResetCode(ctx context.Context, c Caller, a App, u User, op string, decoy bool) error {
	rc, code, err := s.newCode(a, PurposeReset, u.Email, ResetCodeTTL, nil)
	if err != nil {
		return err
	}
	vars := templates.Vars{AppName: a.Name, Handle: u.Email, Code: code, ExpiresIn: humanDuration(ResetCodeTTL)}
	d, err := s.mail(ctx, a, u.Locale, templates.KindPasswordReset, u.Email, vars)
	if err != nil {
		return err
	}
	ev := AuditEvent{AppID: a.ID, Action: "user.password.reset_requested", SubjectID: u.ID, IP: c.IP}
	if decoy {
		rc.Hash = ""
		d.State, d.Text, d.HTML = DeliverySuppressed, "", ""
		ev.Outcome = OutcomeFailure
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutCode(ctx, rc); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, ev)
	})
	if err != nil {
		return err
	}
	if !decoy {
		s.queued()
	}
	return nil
}

// ResetPassword sets a new password with a mailed code and signs the user
// out everywhere. It leaves the second factor as it is: a mailbox alone must
// not be enough to take over an account that has one.
func (s *Service) ResetPassword(ctx context.Context, c Caller, handle string, code, newPassword Secret) error {
	const op = "identity.ResetPassword"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return err
	}
	if err := checkNewPassword("new_password", a, c.Prehashed, newPassword); err != nil {
		return err
	}
	email := NormalizeEmail(handle)
	if u, err := s.findByHandle(ctx, a, handle); err == nil {
		email = u.Email // a user name works as the handle too
	}
	rc, err := s.checkCode(ctx, c, a, PurposeReset, email, code)
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByEmail(ctx, a.ID, email)
	if apperr.Is(err, apperr.NotFound) {
		return invalidCode()
	}
	if err != nil {
		return err
	}
	hash, err := s.passwords.Hash(ctx, storedPassword(a, c.Prehashed, newPassword).Reveal())
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	return s.store.InTx(ctx, func(tx Store) error {
		if err := spendCode(ctx, tx, rc); err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, a.ID, u.ID, hash, now); err != nil {
			return err
		}
		// The mailbox proved ownership: lift a lockout too.
		if err := tx.RecordLoginSuccess(ctx, a.ID, u.ID, u.LastLoginAt); err != nil {
			return err
		}
		if _, err := tx.RevokeUserSessions(ctx, a.ID, u.ID, "", "password_reset", now); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.password.reset", ActorID: u.ID, SubjectID: u.ID, IP: c.IP})
	})
}

// ChangePassword checks the current password, sets the new one, signs out
// every other session and returns a fresh one for this device.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next Secret) (SessionTokens, error) {
	const op = "identity.ChangePassword"
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return SessionTokens{}, err
	}
	if err := s.checkCurrentPassword(ctx, a, u, storedPassword(a, p.Prehashed, current)); err != nil {
		return SessionTokens{}, err
	}
	if err := checkNewPassword("new_password", a, p.Prehashed, next); err != nil {
		return SessionTokens{}, err
	}
	hash, err := s.passwords.Hash(ctx, storedPassword(a, p.Prehashed, next).Reveal())
	if err != nil {
		return SessionTokens{}, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	return s.signIn(ctx, Caller{AppID: a.ID, IP: p.IP, Prehashed: p.Prehashed}, a, u, "user.password.change", func(tx Store) error {
		if err := tx.SetPasswordHash(ctx, a.ID, u.ID, hash, now); err != nil {
			return err
		}
		_, err := tx.RevokeUserSessions(ctx, a.ID, u.ID, "", "password_change", now)
		return err
	})
}

// checkCurrentPassword re-checks a signed-in user's password; a wrong one
// counts as a failed login, so it cannot be used to guess.
func (s *Service) checkCurrentPassword(ctx context.Context, a App, u User, pw Secret) error {
	wrong := apperr.Fields(apperr.ReasonInvalidCredentials, []apperr.Violation{{Field: "password", Description: "is not the current password"}})
	if pw == "" {
		return wrong
	}
	now := s.clock()
	if now.Before(u.LockedUntil) {
		return apperr.New(apperr.RateLimited, apperr.ReasonAccountLocked, "too many failed attempts; try again later").WithRetryAfter(u.LockedUntil.Sub(now).Round(time.Second))
	}
	hash, err := s.store.PasswordHash(ctx, a.ID, u.ID)
	if err != nil {
		return err
	}
	if hash == "" {
		s.passwords.VerifyDummy(ctx, pw.Reveal())
		return wrong
	}
	ok, _, err := s.passwords.Verify(ctx, pw.Reveal(), hash)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "identity.checkCurrentPassword")
	}
	if !ok {
		if _, _, err := s.store.RecordLoginFailure(ctx, a.ID, u.ID, now, a.Settings.MaxLoginAttempts, Backoff); err != nil {
			return err
		}
		return wrong
	}
	return nil
}

// principalUser loads the signed-in user and their app.
func (s *Service) principalUser(ctx context.Context, p Principal) (App, User, error) {
	a, err := s.activeApp(ctx, p.AppID)
	if err != nil {
		return App{}, User{}, err
	}
	u, err := s.GetUser(ctx, p)
	if err != nil {
		return App{}, User{}, err
	}
	if u.Status != UserActive {
		return App{}, User{}, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "this account is suspended")
	}
	return a, u, nil
}
