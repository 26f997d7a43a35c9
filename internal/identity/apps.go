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

// Application returns an app's public face for its users.
func (s *Service) Application(ctx context.Context, c Caller) (App, error) {
	return s.activeApp(ctx, c.AppID)
}

// PublicURL is where the server is reached.
func (s *Service) PublicURL() string { return s.cfg.PublicURL }
