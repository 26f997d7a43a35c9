package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/password"
	"github.com/cosync/cosync-auth/internal/templates"
)

// SignUpInput is a new user's request.
type SignUpInput struct {
	Handle      string
	Password    Secret
	Metadata    map[string]any
	Locale      string
	RedirectURL string
	// Anonymous, when set, is the signed-in anonymous user who becomes this
	// email account, keeping their id.
	Anonymous *Principal
}

// SignUpResult says which flow the signup follows; Session is set for FlowNone.
type SignUpResult struct {
	Flow    SignupFlow
	Session *SessionTokens
}

// pendingSignup is a signup code's payload: what the user sent, checked and hashed.
type pendingSignup struct {
	PasswordHash    string         `json:"password_hash"`
	Metadata        map[string]any `json:"metadata"`
	Locale          string         `json:"locale"`
	RedirectURL     string         `json:"redirect_url,omitempty"`
	AnonymousUserID string         `json:"anonymous_user_id,omitempty"`
}

// checkPassword enforces the app's policy on a password being set.
func checkPassword(field string, policy PasswordPolicy, pw Secret) error {
	unmet := password.Policy{
		MinLength: policy.MinLength, RequireUpper: policy.RequireUpper, RequireLower: policy.RequireLower,
		RequireDigit: policy.RequireDigit, RequireSpecial: policy.RequireSpecial,
	}.Check(pw.Reveal())
	if len(unmet) == 0 {
		return nil
	}
	desc := "must contain " + strings.Join(unmet, ", ")
	return apperr.Fields(apperr.ReasonPasswordPolicy, []apperr.Violation{{Field: field, Description: desc}})
}

// PickLocale returns the requested locale if the app has it, or the app's first;
// another is LOCALE_UNSUPPORTED.
func PickLocale(a App, requested string) (string, error) {
	if requested == "" {
		return a.Settings.Locales[0], nil
	}
	if !slices.Contains(a.Settings.Locales, requested) {
		err := apperr.Fields(apperr.ReasonLocaleUnsupported, []apperr.Violation{{Field: "locale",
			Description: fmt.Sprintf("%q is not one of this application's locales (%s)", requested, strings.Join(a.Settings.Locales, ", "))}})
		return "", err
	}
	return requested, nil
}

// SignUp starts a signup. For the code flow it mails a code and answers the
// same whether or not the email has an account (the owner of an existing
// account gets a notice instead), so SignUp cannot be used to probe emails.
func (s *Service) SignUp(ctx context.Context, c Caller, in SignUpInput) (res SignUpResult, err error) {
	const op = "identity.SignUp"
	defer func() {
		if err == nil {
			s.meter.Signup(SignupStarted)
			if res.Session != nil {
				s.meter.Signup(SignupCompleted)
			}
		}
	}()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SignUpResult{}, err
	}
	st := a.Settings
	if !st.SignupEnabled {
		return SignUpResult{}, apperr.New(apperr.Precondition, apperr.ReasonSignupDisabled, "signup is disabled for this application")
	}
	if in.RedirectURL != "" && !slices.Contains(st.RedirectURLs, in.RedirectURL) {
		return SignUpResult{}, apperr.Fields(apperr.ReasonRedirectNotAllowed, []apperr.Violation{{Field: "redirect_url",
			Description: "is not one of this application's redirect URLs"}})
	}
	var anon User
	if in.Anonymous != nil {
		if anon, err = s.GetUser(ctx, *in.Anonymous); err != nil {
			return SignUpResult{}, err
		}
		if !anon.Anonymous {
			return SignUpResult{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "this session already belongs to an account")
		}
	}
	email := NormalizeEmail(in.Handle)
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitSignupIP), c.IP), byKey(s.rule(a, LimitSignupHandle), email)); err != nil {
		return SignUpResult{}, err
	}
	if err := checkNewPassword("password", a, c.Prehashed, in.Password); err != nil {
		return SignUpResult{}, err
	}
	md, err := checkMetadata(st.SignupMetadataFields, in.Metadata, true)
	if err != nil {
		return SignUpResult{}, err
	}
	locale, err := PickLocale(a, in.Locale)
	if err != nil {
		return SignUpResult{}, err
	}
	hash, err := s.passwords.Hash(ctx, storedPassword(a, c.Prehashed, in.Password).Reveal())
	if err != nil {
		return SignUpResult{}, apperr.Wrap(err, apperr.Internal, op)
	}
	if st.SignupFlow == FlowNone && anon.ID != "" {
		sess, err := s.upgradeAnonymous(ctx, c, a, anon, email, hash, md, locale, nil)
		if err != nil {
			return SignUpResult{}, err
		}
		return SignUpResult{Flow: FlowNone, Session: &sess}, nil
	}
	if st.SignupFlow == FlowNone {
		_, sess, err := s.createUserWith(ctx, c, a, User{Email: email, Metadata: md, Locale: locale}, hash, "user.signup", nil, s.welcome(ctx, a))
		if apperr.Is(err, apperr.Exists) {
			return SignUpResult{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "an account with this email already exists; sign in instead").With(op, err)
		}
		if err != nil {
			return SignUpResult{}, err
		}
		s.queued()
		return SignUpResult{Flow: FlowNone, Session: &sess}, nil
	}

	existing, err := s.store.FindUserByEmail(ctx, a.ID, email)
	switch {
	case err == nil:
		// Same answer as a new address, and the same work (TestSignUpCost):
		// the owner's notice is queued in a transaction shaped like a new
		// signup's, with a decoy code whose hash no code matches (a guess
		// answers INVALID_CODE, as for a real one) and a failed audit event.
		vars := templates.Vars{AppName: a.Name, Handle: existing.Email}
		notice, err := s.mail(ctx, a, existing.Locale, templates.KindAccountExists, existing.Email, vars)
		if err != nil {
			return SignUpResult{}, err
		}
		decoy, _, err := s.newCode(a, PurposeSignup, email, s.cfg.SignupCodeTTL, nil)
		if err != nil {
			return SignUpResult{}, err
		}
		decoy.Hash = ""
		err = s.store.InTx(ctx, func(tx Store) error {
			if err := tx.PutCode(ctx, decoy); err != nil {
				return err
			}
			if err := enqueue(ctx, tx, notice); err != nil {
				return err
			}
			return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.signup.start", SubjectID: email, IP: c.IP, Outcome: OutcomeFailure})
		})
		if err != nil {
			return SignUpResult{}, err
		}
		s.queued()
		return SignUpResult{Flow: st.SignupFlow}, nil
	case !apperr.Is(err, apperr.NotFound):
		return SignUpResult{}, err
	}

	payload, err := json.Marshal(pendingSignup{PasswordHash: hash, Metadata: md, Locale: locale, RedirectURL: in.RedirectURL, AnonymousUserID: anon.ID})
	if err != nil {
		return SignUpResult{}, apperr.Wrap(err, apperr.Internal, op)
	}
	pc, code, err := s.newCode(a, PurposeSignup, email, s.cfg.SignupCodeTTL, payload)
	if err != nil {
		return SignUpResult{}, err
	}
	vars := templates.Vars{AppName: a.Name, Handle: email, Code: code, ExpiresIn: humanDuration(s.cfg.SignupCodeTTL)}
	kind := templates.KindSignupCode
	if st.SignupFlow == FlowLink {
		kind, vars.Link = templates.KindSignupLink, s.SignupLink(a.ID, email, code)
	}
	d, err := s.mail(ctx, a, locale, kind, email, vars)
	if err != nil {
		return SignUpResult{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutCode(ctx, pc); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.signup.start", SubjectID: email, IP: c.IP})
	})
	if err != nil {
		return SignUpResult{}, err
	}
	s.queued()
	return SignUpResult{Flow: st.SignupFlow}, nil
}

// CompleteSignUp checks a mailed signup code and creates the user. At most
// MaxCodeAttempts guesses are ever checked, however many arrive at once.
func (s *Service) CompleteSignUp(ctx context.Context, c Caller, handle string, code Secret) (SessionTokens, error) {
	sess, _, err := s.completeSignUp(ctx, c, handle, code)
	return sess, err
}

// ConfirmSignupLink completes a signup from the link landing page's POST.
// It returns where to send the browser — the redirect URL the signup asked
// for, if the app still lists it — or else the app's "done" page.
func (s *Service) ConfirmSignupLink(ctx context.Context, c Caller, handle string, code Secret) (redirect string, done templates.Rendered, err error) {
	sess, p, err := s.completeSignUp(ctx, c, handle, code)
	if err != nil {
		return "", templates.Rendered{}, err
	}
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return "", templates.Rendered{}, err
	}
	if p.RedirectURL != "" && slices.Contains(a.Settings.RedirectURLs, p.RedirectURL) {
		return p.RedirectURL, templates.Rendered{}, nil
	}
	done, err = s.render(ctx, a, p.Locale, templates.KindLinkLanding, templates.Vars{AppName: a.Name, Handle: sess.User.Email})
	return "", done, err
}

// AppName returns an app's display name for pages outside the API.
func (s *Service) AppName(ctx context.Context, appID string) (string, error) {
	a, err := s.activeApp(ctx, appID)
	return a.Name, err
}

func (s *Service) completeSignUp(ctx context.Context, c Caller, handle string, code Secret) (_ SessionTokens, _ pendingSignup, err error) {
	const op = "identity.CompleteSignUp"
	defer func() {
		if err == nil {
			s.meter.Signup(SignupCompleted)
		}
	}()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, pendingSignup{}, err
	}
	email := NormalizeEmail(handle)
	pc, err := s.checkCode(ctx, c, a, PurposeSignup, email, code)
	if err != nil {
		return SessionTokens{}, pendingSignup{}, err
	}
	var p pendingSignup
	if err := json.Unmarshal(pc.Payload, &p); err != nil {
		return SessionTokens{}, pendingSignup{}, apperr.Wrap(err, apperr.Internal, op)
	}
	consume := func(tx Store) error { return spendCode(ctx, tx, pc) }
	if p.AnonymousUserID != "" {
		anon, err := s.store.GetUser(ctx, a.ID, p.AnonymousUserID)
		if err != nil {
			return SessionTokens{}, pendingSignup{}, err
		}
		if !anon.Anonymous {
			return SessionTokens{}, pendingSignup{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "this session already belongs to an account")
		}
		welcome := s.welcome(ctx, a)
		sess, err := s.upgradeAnonymous(ctx, c, a, anon, email, p.PasswordHash, p.Metadata, p.Locale, func(tx Store) error {
			if err := consume(tx); err != nil {
				return err
			}
			return welcome(tx, User{ID: anon.ID, Email: email, Locale: p.Locale})
		})
		if err == nil {
			s.queued()
		}
		return sess, p, err
	}
	u := User{Email: email, Metadata: p.Metadata, Locale: p.Locale}
	_, sess, err := s.createUserWith(ctx, c, a, u, p.PasswordHash, "user.signup.complete", consume, s.welcome(ctx, a))
	if apperr.Is(err, apperr.Exists) {
		return SessionTokens{}, pendingSignup{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "an account with this email already exists; sign in instead").With(op, err)
	}
	if err == nil {
		s.queued()
	}
	return sess, p, err
}

// welcome returns a step that queues the app's welcome mail to a new
// account inside the transaction that creates it. The account matters more
// than the mail: a template that fails to render is logged and skipped.
func (s *Service) welcome(ctx context.Context, a App) func(Store, User) error {
	return func(tx Store, u User) error {
		if u.Email == "" {
			return nil
		}
		d, err := s.mail(ctx, a, u.Locale, templates.KindWelcome, u.Email, templates.Vars{AppName: a.Name, Handle: u.Email})
		if err != nil {
			s.log.WarnContext(ctx, "welcome mail not queued", "app_id", a.ID, "user_id", u.ID, "err", err)
			return nil
		}
		return enqueue(ctx, tx, d)
	}
}

// checkCode finds the live code for purpose and handle, spends one attempt
// and compares. Wrong, expired and exhausted codes each have their reason.
func (s *Service) checkCode(ctx context.Context, c Caller, a App, purpose, handle string, code Secret) (Code, error) {
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeIP), c.IP), byKey(s.rule(a, LimitCodeHandle), purpose+":"+handle)); err != nil {
		return Code{}, err
	}
	invalid := invalidCode()
	pc, err := s.store.FindCode(ctx, a.ID, purpose, handle)
	if apperr.Is(err, apperr.NotFound) {
		return Code{}, invalid
	}
	if err != nil {
		return Code{}, err
	}
	if !s.clock().Before(pc.ExpiresAt) {
		return Code{}, apperr.New(apperr.Precondition, apperr.ReasonCodeExpired, "the code has expired; ask for a new one")
	}
	ok, err := s.store.SpendCodeAttempt(ctx, a.ID, pc.ID, s.cfg.MaxCodeAttempts)
	if apperr.Is(err, apperr.NotFound) { // used or replaced since we read it
		return Code{}, invalid
	}
	if err != nil {
		return Code{}, err
	}
	if !ok {
		return Code{}, apperr.New(apperr.Precondition, apperr.ReasonTooManyAttempts, "too many wrong codes; ask for a new one")
	}
	if !s.codeMatches(a, purpose, handle, pc.Hash, code) {
		return Code{}, invalid
	}
	return pc, nil
}

// createUser inserts a user and opens their first session in one transaction.
func (s *Service) createUser(ctx context.Context, c Caller, a App, u User, hash, action string) (User, SessionTokens, error) {
	return s.createUserWith(ctx, c, a, u, hash, action, nil)
}

// createUserWith is createUser with an extra step run first in the same
// transaction (consuming the code that allowed the signup), and any steps
// run once the user row exists (linking a social identity to it).
func (s *Service) createUserWith(ctx context.Context, c Caller, a App, u User, hash, action string, first func(Store) error, then ...func(Store, User) error) (User, SessionTokens, error) {
	now := s.clock()
	if u.ID == "" {
		u.ID = newID()
	}
	u.AppID, u.Status, u.TwoFactor = a.ID, UserActive, TwoFactorNone
	u.HasPassword = hash != ""
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = now, now, now
	if u.Metadata == nil {
		u.Metadata = map[string]any{}
	}
	p, err := s.prepareSession(ctx, a, u, opening(c, action), "")
	if err != nil {
		return User{}, SessionTokens{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		for _, step := range then {
			if err := step(tx, u); err != nil {
				return err
			}
		}
		if err := p.store(ctx, tx, true); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: action, ActorID: u.ID, SubjectID: u.ID, IP: c.IP})
	})
	if err != nil {
		return User{}, SessionTokens{}, err
	}
	return u, p.session, nil
}

// mailNow queues one of the app's templates to to in a transaction of its
// own, for mail that answers a request but changes nothing else (the
// "account exists" notice).
func (s *Service) mailNow(ctx context.Context, a App, locale string, kind templates.Kind, to string, vars templates.Vars) error {
	d, err := s.mail(ctx, a, locale, kind, to, vars)
	if err != nil {
		return err
	}
	if err := s.store.InTx(ctx, func(tx Store) error { return enqueue(ctx, tx, d) }); err != nil {
		return err
	}
	s.queued()
	return nil
}

// humanDuration renders a code lifetime for mail, rounding up so the mail
// never understates it: "24 hours", "1 hour", "90 minutes", "1 minute".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	if d >= time.Hour && d%time.Hour == 0 {
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64((d+time.Minute-1)/time.Minute), "minute")
}
