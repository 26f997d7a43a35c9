package identity

import (
	"context"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// Developer is whoever calls the Admin service: a signed-in developer (a
// user of the console application) or an API key, which acts in one app
// with one role.
type Developer struct {
	ID       string // user id in the console app; empty for an API key
	IP       string
	Operator bool // runs this server: an owner of the console app

	APIKeyID string // set for an API key, with the app and role it acts in
	KeyAppID string
	KeyRole  Role
}

// ActorID is who the audit log names: the developer, or the API key.
func (d Developer) ActorID() string {
	if d.APIKeyID != "" {
		return d.APIKeyID
	}
	return d.ID
}

// MemberStore is what access reads: memberships and apps.
type MemberStore interface {
	GetMember(ctx context.Context, appID, developerID string) (Member, error)
	GetApp(ctx context.Context, id string) (App, error)
}

// Access returns the app with the caller's role in it, or an error when the
// role does not allow what needs `need`. An app the caller may not see
// reads as not found, so ids of other developers' apps leak nothing. An API
// key sees only its own app, with its role. An operator sees every app: as
// a member with their role, else as a viewer; only an operator sees the
// console app.
func Access(ctx context.Context, st MemberStore, d Developer, appID string, need Role) (MemberApp, error) {
	notFound := apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id")
	var role Role
	switch {
	case d.APIKeyID != "":
		if appID != d.KeyAppID {
			return MemberApp{}, notFound
		}
		role = d.KeyRole
	case d.ID == "":
		return MemberApp{}, notFound
	default:
		m, err := st.GetMember(ctx, appID, d.ID)
		switch {
		case err == nil:
			role = m.Role
		case !apperr.Is(err, apperr.NotFound):
			return MemberApp{}, err
		case d.Operator:
			role = RoleViewer
		default:
			return MemberApp{}, notFound
		}
	}
	if appID == ConsoleAppID && !d.Operator {
		return MemberApp{}, notFound
	}
	if !role.Allows(need) {
		return MemberApp{}, apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "your role in this application ("+string(role)+") does not allow this; it needs "+string(need))
	}
	a, err := st.GetApp(ctx, appID)
	if apperr.Is(err, apperr.NotFound) {
		return MemberApp{}, notFound
	}
	return MemberApp{App: a, Role: role}, err
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

// CreateDeveloper makes a developer: a console user with a password. An
// operator is also an owner of the console application: they see every app,
// the console's users (the developers) and its outbox. It refuses an email
// already in use.
func (s *Service) CreateDeveloper(ctx context.Context, email string, pw Secret, operator bool) (User, error) {
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
		if operator {
			if err := tx.PutMember(ctx, Member{AppID: a.ID, DeveloperID: u.ID, Role: RoleOwner, CreatedAt: now}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "developer.create", SubjectID: u.ID, Details: map[string]any{"operator": operator}})
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
	d := Developer{ID: p.UserID, IP: ip}
	switch m, err := s.store.GetMember(ctx, ConsoleAppID, d.ID); {
	case err == nil:
		d.Operator = m.Role == RoleOwner
	case !apperr.Is(err, apperr.NotFound):
		return Developer{}, err
	}
	return d, nil
}

// member returns the app with the caller's role, if it allows need (Access).
func (s *Service) member(ctx context.Context, d Developer, appID string, need Role) (MemberApp, error) {
	return Access(ctx, s.store, d, appID, need)
}

// Application returns an app's public face for its users.
func (s *Service) Application(ctx context.Context, c Caller) (App, error) {
	return s.activeApp(ctx, c.AppID)
}

// PublicURL is where the server is reached.
func (s *Service) PublicURL() string { return s.cfg.PublicURL }
