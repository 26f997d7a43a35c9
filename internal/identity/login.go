package identity

// The password sign-in, top to bottom: Login checks the password and either
// signs the user in or answers a Challenge (secondFactor makes it, storing
// a LoginToken); CompleteLogin answers the challenge. Every way of signing
// in ends in signIn.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
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

// The challenge's limits.
const (
	// LoginTokenTTL is how long a challenge waits for its second factor.
	LoginTokenTTL = 5 * time.Minute
	// MaxLoginTokenAttempts is how many codes one challenge checks.
	MaxLoginTokenAttempts = 5

	purposeLoginSMS = "login_sms" // the code a challenge texts
)

// LoginToken is a login that passed its password (or ID token) and waits for
// a second factor. Only the token's hash is stored.
type LoginToken struct {
	ID        string
	AppID     string
	UserID    string
	Hash      string
	Method    TwoFactorMethod
	CodeHash  string // SMS: the texted code's HMAC
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Login checks a password. An unknown handle, a user without a password and
// a wrong password all read INVALID_CREDENTIALS and cost one password hash
// and the same statements, so neither wording nor timing tells which.
//
// Failed logins are counted per handle and client (the caller's IP), and
// the app's MaxLoginAttempts of them within LoginLockWindow lock that
// client out of that handle: ACCOUNT_LOCKED until the window ends. The
// owner signing in from elsewhere is not locked out. A slower limit counts
// failures to the handle from every client (LimitLoginHandle): RATE_LIMITED.
// Both are counted for any handle, existing or not (per account when it
// exists, else per handle), so a locked or limited handle answers the
// same whether or not it exists, with the same statements and no password
// hash. A right password gives its counts back (and clears the client's
// failures): only failures count.
// docs/security.md says why.
func (s *Service) Login(ctx context.Context, c Caller, handle string, pw Secret) (res LoginResult, err error) {
	const op = "identity.Login"
	defer func() { s.countLogin(MethodPassword, res.Challenge != nil, err) }()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return LoginResult{}, err
	}
	invalid := apperr.New(apperr.Unauthenticated, apperr.ReasonInvalidCredentials, "the handle or password is wrong")
	// An unknown handle goes the way of a wrong password with a user that
	// has no id and no password: the same statements (finding no row), one
	// hash and the same audit event, so neither wording, hashing nor round
	// trips tell a prober whether the handle exists (TestLoginCost counts
	// them).
	pw = storedPassword(a, c.Prehashed, pw)
	u, hash, err := s.findWithHash(ctx, a, handle)
	known := err == nil
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return LoginResult{}, err
	}
	// Failures count per account (its email and user name are one), or
	// per handle when there is none; the statements are the same.
	key := "h:" + NormalizeEmail(handle)
	if !known {
		u = User{}
	} else {
		key = "u:" + u.ID
	}
	// The client's attempts, its failures for this account (the lockout)
	// and the account's failures from everyone: one round trip, all
	// counted or none.
	lock := byKey(loginLockRule(a), key+"|"+c.IP)
	global := byKey(s.rule(a, LimitLoginHandle), key)
	if refused, err := s.takeWhich(ctx, a.ID, 1, byKey(s.rule(a, LimitLoginIP), c.IP), lock, global); err != nil {
		if refused == 1 {
			return LoginResult{}, lockedOut(err)
		}
		return LoginResult{}, err
	}
	// Only a wrong password keeps its counts. A right one also clears this
	// client's earlier failures (giving back more than was counted stops
	// at zero), as a lockout counter does; the global count keeps them.
	failed, verified := false, false
	defer func() {
		if failed {
			return
		}
		n := 1
		if verified {
			n = max(lock.rule.Limit, 1)
		}
		s.giveCounts(ctx, lock.in(a.ID, n), global.in(a.ID, 1))
	}()
	now := s.clock()
	ok, rehash := false, false
	if hash == "" {
		s.passwords.VerifyDummy(ctx, pw.Reveal())
	} else if ok, rehash, err = s.passwords.Verify(ctx, pw.Reveal(), hash); err != nil {
		return LoginResult{}, apperr.Wrap(err, apperr.Internal, op)
	}
	failed, verified = !ok, ok
	if !ok {
		s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login", SubjectID: u.ID, IP: c.IP, Reason: apperr.ReasonInvalidCredentials})
		return LoginResult{}, invalid
	}
	if u.Status != UserActive {
		return LoginResult{}, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "this account is suspended")
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

// lockedOut turns the per-client lockout's refusal into ACCOUNT_LOCKED,
// keeping its retry delay. The wording names no account: an unknown
// handle is locked out the same way.
func lockedOut(err error) error {
	var e *apperr.Error
	if !apperr.Is(err, apperr.RateLimited) || !errors.As(err, &e) {
		return err
	}
	return apperr.New(apperr.RateLimited, apperr.ReasonAccountLocked, "too many failed logins from this client; try again later").WithRetryAfter(e.RetryAfter())
}

// findByHandle looks a user up by email, or by user name where the app
// allows user names. Anything else is NotFound.
func (s *Service) findByHandle(ctx context.Context, a App, handle string) (User, error) {
	u, _, err := s.findWithHash(ctx, a, handle)
	return u, err
}

// findWithHash is findByHandle with the user's password hash ("" for
// none) in the same read.
func (s *Service) findWithHash(ctx context.Context, a App, handle string) (User, string, error) {
	h := strings.TrimSpace(handle)
	if strings.Contains(h, "@") {
		return s.store.FindUserWithHash(ctx, a.ID, NormalizeEmail(h), "")
	}
	if a.Settings.UserNamesEnabled {
		return s.store.FindUserWithHash(ctx, a.ID, "", h)
	}
	return User{}, "", apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no such user")
}

// secondFactor returns a challenge when u must pass a second factor to
// sign in to a, or nil when the password (or ID token) is enough. Every
// sign-in path calls it before signIn.
//
// A user is challenged with the factor they enrolled while the app asks
// for any second factor: switching the app from totp to sms does not
// silently drop its users' authenticators; switching it to none does. For
// SMS the code is texted now, against the per-number, per-IP and per-app
// caps; a failed text leaves no challenge behind.
func (s *Service) secondFactor(ctx context.Context, c Caller, a App, u User) (*Challenge, error) {
	const op = "identity.secondFactor"
	if a.Settings.TwoFactor == TwoFactorNone || u.TwoFactor == TwoFactorNone {
		return nil, nil
	}
	raw, err := otp.NewToken(32)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	lt := LoginToken{
		ID: newID(), AppID: a.ID, UserID: u.ID, Hash: otp.HashToken(raw), Method: u.TwoFactor,
		CreatedAt: now, ExpiresAt: now.Add(LoginTokenTTL),
	}
	ch := &Challenge{LoginToken: Secret(raw), Method: u.TwoFactor, ExpiresAt: lt.ExpiresAt}
	switch u.TwoFactor {
	case TwoFactorTOTP:
		if err := s.store.CreateLoginToken(ctx, lt); err != nil {
			return nil, err
		}
		return ch, nil
	case TwoFactorSMS:
		if !u.PhoneVerified || u.Phone == "" {
			return nil, apperr.New(apperr.Precondition, apperr.ReasonPhoneNotVerified, "the account's phone is not verified; ask the developer to reset two-step verification")
		}
		if _, err := s.smsRoute(ctx, a, true); err != nil {
			return nil, err
		}
		if err := s.smsCaps(ctx, c, a, u.Phone); err != nil {
			return nil, err
		}
		code, err := otp.NewCode()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		lt.CodeHash = s.codeHash(a, purposeLoginSMS, lt.ID, code)
		// The code is queued with the challenge (see SetPhone).
		text, err := s.text(ctx, a, u.Locale, u.Phone, code, LoginTokenTTL)
		if err != nil {
			return nil, err
		}
		err = s.store.InTx(ctx, func(tx Store) error {
			if err := tx.CreateLoginToken(ctx, lt); err != nil {
				return err
			}
			return enqueue(ctx, tx, text)
		})
		if err != nil {
			return nil, err
		}
		s.queued()
		ch.PhoneHint = phoneHint(u.Phone)
		return ch, nil
	}
	return nil, apperr.Wrap(errUnknownMethod(u.TwoFactor), apperr.Internal, op)
}

func errUnknownMethod(m TwoFactorMethod) error {
	return fmt.Errorf("unknown second factor %q", m)
}

// CompleteLogin answers a challenge from Login with a TOTP code, a texted
// code or a recovery code, and signs the user in. A challenge checks at
// most MaxLoginTokenAttempts codes, however many arrive at once, and lives
// LoginTokenTTL; a TOTP code or recovery code works once.
func (s *Service) CompleteLogin(ctx context.Context, c Caller, loginToken, code Secret) (_ SessionTokens, err error) {
	const op = "identity.CompleteLogin"
	defer func() { s.countLogin(MethodSecondFactor, false, err) }()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeIP), c.IP)); err != nil {
		return SessionTokens{}, err
	}
	tokenInvalid := apperr.New(apperr.Unauthenticated, apperr.ReasonLoginTokenInvalid, "the login token is not valid; sign in again")
	lt, err := s.store.FindLoginToken(ctx, a.ID, otp.HashToken(loginToken.Reveal()))
	if apperr.Is(err, apperr.NotFound) {
		return SessionTokens{}, tokenInvalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	now := s.clock()
	if !now.Before(lt.ExpiresAt) {
		return SessionTokens{}, apperr.New(apperr.Unauthenticated, apperr.ReasonLoginTokenExpired, "the login token has expired; sign in again")
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeHandle), "login:"+lt.UserID)); err != nil {
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
		return SessionTokens{}, apperr.New(apperr.Precondition, apperr.ReasonTooManyAttempts, "too many wrong codes; sign in again")
	}
	u, err := s.store.GetUser(ctx, a.ID, lt.UserID)
	if apperr.Is(err, apperr.NotFound) {
		return SessionTokens{}, tokenInvalid.With(op, err)
	}
	if err != nil {
		return SessionTokens{}, err
	}
	if u.Status != UserActive {
		return SessionTokens{}, apperr.New(apperr.Permission, apperr.ReasonAccountSuspended, "this account is suspended")
	}
	spend, err := s.checkSecondFactor(ctx, c, a, u, lt, code)
	if err != nil {
		if apperr.ReasonOf(err) == apperr.ReasonInvalidCode {
			s.auditFailure(ctx, AuditEvent{AppID: a.ID, Action: "user.login.second_factor", SubjectID: u.ID, IP: c.IP,
				Reason: apperr.ReasonInvalidCode, Details: map[string]any{"method": string(lt.Method)}})
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

// recoveryCodeRE is the shape of otp.NewRecoveryCodes; anything else typed
// at CompleteLogin is a six-digit code.
var recoveryCodeRE = regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`)

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

// signIn opens a session for a user who has proved who they are: it clears
// failed logins, records the login and stores the session in one
// transaction, running extra (if any) first in it. Every way of signing in
// (password, second factor, social, signup) ends here or in createUser.
func (s *Service) signIn(ctx context.Context, c Caller, a App, u User, action string, extra func(Store) error) (SessionTokens, error) {
	now := s.clock()
	u.LastLoginAt, u.FailedLogins, u.LockedUntil = now, 0, time.Time{}
	p, err := s.prepareSession(ctx, a, u, opening(c, action), "")
	if err != nil {
		return SessionTokens{}, err
	}
	// The sign-in's own writes are one store call, one statement on
	// Postgres; only a flow with extra steps needs a transaction around it.
	ev := s.stamped(AuditEvent{AppID: a.ID, Action: action, ActorID: u.ID, SubjectID: u.ID, IP: c.IP, OccurredAt: now})
	open := func(st Store) error { return st.OpenSession(ctx, now, p.row, p.refresh, ev) }
	if extra == nil {
		err = open(s.store)
	} else {
		err = s.store.InTx(ctx, func(tx Store) error {
			if err := extra(tx); err != nil {
				return err
			}
			return open(tx)
		})
	}
	if err != nil {
		return SessionTokens{}, err
	}
	return p.session, nil
}
