package identity

import (
	"context"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// Developer is a signed-in developer: a user of the console application.
type Developer struct {
	ID string // user id in the console app
	IP string
}

// ConsoleSettings are the built-in console application's first settings:
// developers are created by an operator (`developer create`) until an owner
// of the console app turns signup on.
func ConsoleSettings() AppSettings {
	st := DefaultSettings()
	st.SignupEnabled = false
	st.EmailClaim = true
	st.Audience = []string{ConsoleAppID}
	return st
}

// EnsureConsoleApp creates the console application and its key on first start.
func (s *Service) EnsureConsoleApp(ctx context.Context) error {
	_, err := s.store.GetApp(ctx, ConsoleAppID)
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		return err
	}
	err = s.createApp(ctx, App{ID: ConsoleAppID, Name: "CoSync Console", Settings: ConsoleSettings()}, "", "")
	if apperr.Is(err, apperr.Exists) { // another replica won the race
		return nil
	}
	return err
}

// CreateDeveloper bootstraps an operator: a console user with a password,
// owner of the console application. It refuses an email already in use.
func (s *Service) CreateDeveloper(ctx context.Context, email string, pw Secret) (User, error) {
	const op = "identity.CreateDeveloper"
	a, err := s.store.GetApp(ctx, ConsoleAppID)
	if err != nil {
		return User{}, err
	}
	email = NormalizeEmail(email)
	if !strings.Contains(email, "@") || len(email) > 254 {
		return User{}, apperr.Field("email", "must be an email address")
	}
	if err := checkPassword("password", a.Settings.PasswordPolicy, pw); err != nil {
		return User{}, err
	}
	hash, err := s.passwords.Hash(ctx, pw.Reveal())
	if err != nil {
		return User{}, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	u := User{ID: newID(), AppID: a.ID, Email: email, Metadata: map[string]any{}, Locale: a.Settings.Locales[0],
		Status: UserActive, TwoFactor: TwoFactorNone, HasPassword: true, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		if err := tx.PutMember(ctx, Member{AppID: a.ID, DeveloperID: u.ID, Role: RoleOwner, CreatedAt: now}); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "developer.create", SubjectID: u.ID})
	})
	if apperr.Is(err, apperr.Exists) {
		return User{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "a developer with this email already exists").With(op, err)
	}
	return u, err
}

// AuthenticateDeveloper verifies a console access token.
func (s *Service) AuthenticateDeveloper(ctx context.Context, raw Secret, ip string) (Developer, error) {
	p, err := s.Authenticate(ctx, ConsoleAppID, raw, ip)
	if err != nil {
		return Developer{}, err
	}
	return Developer{ID: p.UserID, IP: ip}, nil
}

// member returns the developer's role in an app. An app the developer is not
// a member of reads as not found, so ids of other developers' apps leak nothing.
func (s *Service) member(ctx context.Context, d Developer, appID string, write bool) (MemberApp, error) {
	notFound := apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id")
	m, err := s.store.GetMember(ctx, appID, d.ID)
	if apperr.Is(err, apperr.NotFound) {
		return MemberApp{}, notFound
	}
	if err != nil {
		return MemberApp{}, err
	}
	if write && !m.Role.CanWrite() {
		return MemberApp{}, apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "your role in this application may only read")
	}
	a, err := s.store.GetApp(ctx, appID)
	if apperr.Is(err, apperr.NotFound) {
		return MemberApp{}, notFound
	}
	return MemberApp{App: a, Role: m.Role}, err
}

// CreateApp creates an application, its first signing key, and the
// developer as owner. Its settings are DefaultSettings with what the
// developer chose laid over them by choose (the transport's translation of
// the request; nil keeps the defaults).
func (s *Service) CreateApp(ctx context.Context, d Developer, name string, choose func(defaults AppSettings) AppSettings, twilioToken Secret) (MemberApp, error) {
	id := newID()
	settings := DefaultSettings()
	if choose != nil {
		settings = choose(settings)
	}
	if err := s.sealTwilio(ctx, id, &settings, twilioToken); err != nil {
		return MemberApp{}, err
	}
	a := App{ID: id, Name: strings.TrimSpace(name), Settings: settings}
	if a.Name == "" {
		return MemberApp{}, apperr.Field("name", "must not be blank")
	}
	if err := s.createApp(ctx, a, d.ID, d.IP); err != nil {
		return MemberApp{}, err
	}
	return s.member(ctx, d, a.ID, false)
}

// createApp stores a new app with its first key (and owner, if any) in one
// transaction. The key is made first: a Vault key left by a failed insert is
// harmless, a stored app without a key is not.
func (s *Service) createApp(ctx context.Context, a App, ownerID, ip string) error {
	const op = "identity.CreateApp"
	if err := a.Settings.Validate(); err != nil {
		return err
	}
	now := s.clock()
	a.CreatedAt, a.UpdatedAt = now, now
	rec, err := s.keys.Generate(ctx, a.ID)
	if err != nil {
		return mintErr(op, err)
	}
	rec.CreatedAt = now // the service's clock, which rotation compares it with
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateApp(ctx, a); err != nil {
			return err
		}
		if err := tx.CreateSigningKey(ctx, rec); err != nil {
			return err
		}
		if ownerID != "" {
			if err := tx.PutMember(ctx, Member{AppID: a.ID, DeveloperID: ownerID, Role: RoleOwner, CreatedAt: now}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "app.create", ActorID: ownerID, SubjectID: a.ID, IP: ip})
	})
	s.keys.Invalidate(a.ID)
	return err
}

// ListApps lists the developer's apps by id, after the id `after`.
func (s *Service) ListApps(ctx context.Context, d Developer, after string, limit int) ([]MemberApp, error) {
	return s.store.ListMemberApps(ctx, d.ID, after, limit)
}

// GetApp returns one of the developer's apps.
func (s *Service) GetApp(ctx context.Context, d Developer, appID string) (MemberApp, error) {
	return s.member(ctx, d, appID, false)
}

// AppChange is the new state of an app after an update.
type AppChange struct {
	Name     string
	Settings AppSettings
	// TwilioAuthToken, when set, replaces the stored (sealed) token.
	TwilioAuthToken Secret
}

// UpdateApp applies change to the app as it is now and stores the result.
// It reads the app and writes it back in one transaction that holds the
// app (GetAppForUpdate), so change patches the fresh row: two concurrent
// updates of different fields both stay. change computes the new state from
// the current one (the transport applies its field mask there) and may run
// more than once in future; it must not have side effects.
func (s *Service) UpdateApp(ctx context.Context, d Developer, appID string, change func(App) (AppChange, error)) (MemberApp, error) {
	m, err := s.member(ctx, d, appID, true)
	if err != nil {
		return MemberApp{}, err
	}
	var next App
	err = s.store.InTx(ctx, func(tx Store) error {
		cur, err := tx.GetAppForUpdate(ctx, appID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id").With("identity.UpdateApp", err)
		}
		if err != nil {
			return err
		}
		ch, err := change(cur)
		if err != nil {
			return err
		}
		next = cur
		next.Name, next.Settings = strings.TrimSpace(ch.Name), ch.Settings
		if next.Name == "" {
			return apperr.Field("name", "must not be blank")
		}
		if err := s.sealTwilio(ctx, appID, &next.Settings, ch.TwilioAuthToken); err != nil {
			return err
		}
		if err := next.Settings.Validate(); err != nil {
			return err
		}
		next.UpdatedAt = s.clock()
		if err := tx.UpdateApp(ctx, next); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "app.update", ActorID: d.ID, SubjectID: appID, IP: d.IP})
	})
	if err != nil {
		return MemberApp{}, err
	}
	return MemberApp{App: next, Role: m.Role}, nil
}

// sealTwilio checks an app's Twilio settings and seals a new auth token
// (tok, when set) for storage, bound to the app: a sealed token copied
// onto another app does not open. Developers see only its hint.
func (s *Service) sealTwilio(ctx context.Context, appID string, st *AppSettings, tok Secret) error {
	if err := checkTwilio(st.Twilio, tok); err != nil {
		return err
	}
	if tok == "" {
		return nil
	}
	sealed, err := s.secrets.Seal(ctx, []byte(tok.Reveal()), twilioAD(appID))
	if err != nil {
		return sealErr("identity.sealTwilio", err)
	}
	st.Twilio.AuthTokenSealed, st.Twilio.AuthTokenHint = sealed, twilioHint(tok)
	return nil
}

// twilioHintPrefix starts the hint developers see in place of the Twilio
// auth token.
const twilioHintPrefix = "****"

// twilioHint is what developers see of a Twilio auth token: its last four
// characters behind the prefix.
func twilioHint(tok Secret) string {
	t := tok.Reveal()
	return twilioHintPrefix + t[max(0, len(t)-4):]
}

// NewTwilioToken returns the Twilio auth token a developer typed, or ""
// when s is empty or is the hint they were shown (sent back unchanged by a
// form), which never replaces the stored token.
func NewTwilioToken(s string) Secret {
	if s == "" || strings.HasPrefix(s, twilioHintPrefix) {
		return ""
	}
	return Secret(s)
}

// DeleteApp deletes an app and everything in it. Owners only; never the console.
func (s *Service) DeleteApp(ctx context.Context, d Developer, appID string) error {
	m, err := s.member(ctx, d, appID, true)
	if err != nil {
		return err
	}
	if m.Role != RoleOwner {
		return apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "only an owner may delete an application")
	}
	if appID == ConsoleAppID {
		return apperr.New(apperr.Precondition, apperr.ReasonBuiltinApp, "the console application cannot be deleted")
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteApp(ctx, appID); err != nil {
			return err
		}
		// The app's own audit rows go with it; the deletion is recorded in the console's.
		return s.audit(ctx, tx, AuditEvent{AppID: ConsoleAppID, Action: "app.delete", ActorID: d.ID, SubjectID: appID, IP: d.IP})
	})
	s.keys.Invalidate(appID)
	return err
}

// Outbox lists the dev outbox of an app, newest first.
func (s *Service) Outbox(ctx context.Context, d Developer, appID string, limit int) ([]OutboxMessage, error) {
	if _, err := s.member(ctx, d, appID, false); err != nil {
		return nil, err
	}
	if s.outbox == nil {
		return nil, apperr.New(apperr.Precondition, apperr.ReasonOutboxDisabled, "mail goes out over SMTP; there is no dev outbox")
	}
	return s.outbox.List(ctx, appID, limit)
}

// Application returns an app's public face for its users.
func (s *Service) Application(ctx context.Context, c Caller) (App, error) {
	return s.activeApp(ctx, c.AppID)
}

// PublicURL is where the server is reached.
func (s *Service) PublicURL() string { return s.cfg.PublicURL }
