package identity

import (
	"context"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
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
// signup off, so developers are created by an operator (`developer
// create`) or invited to a team; at each start the server makes signup
// follow COSYNC_DEVELOPER_SIGNUP (console.Service.ConfigureConsole).
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

// AuthenticateDeveloper verifies an Admin caller's bearer credential: an
// API key (a secret starting APIKeyPrefix) or a console access token. With
// Config.DeveloperTwoFactorRequired, a developer without a second factor
// is refused (FailedPrecondition DEVELOPER_TWO_FACTOR_REQUIRED) until they
// enroll one through AuthService, which their token still reaches.
func (s *Service) AuthenticateDeveloper(ctx context.Context, raw Secret, ip string) (Developer, error) {
	if strings.HasPrefix(raw.Reveal(), APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, raw, ip)
	}
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
	if s.cfg.DeveloperTwoFactorRequired {
		if u := p.User; u.TwoFactor == TwoFactorNone || u.TwoFactor == "" {
			return Developer{}, apperr.New(apperr.Precondition, apperr.ReasonDeveloperTwoFactorRequired,
				"this server requires developers to use a second factor: enroll one (AuthService, app console) first")
		}
	}
	return d, nil
}

// DeveloperTwoFactorRequired reports whether every developer must have a
// second factor (COSYNC_DEVELOPER_REQUIRE_2FA).
func (s *Service) DeveloperTwoFactorRequired() bool { return s.cfg.DeveloperTwoFactorRequired }

// CallerInfo is what GetCaller tells a credential about itself.
type CallerInfo struct {
	Developer
	Email                      string // the developer's console email; empty for an API key
	DeveloperSignupEnabled     bool   // the console app's signup switch (COSYNC_DEVELOPER_SIGNUP)
	DeveloperTwoFactorRequired bool
}

// Caller describes d: their email, and the server's developer settings.
func (s *Service) Caller(ctx context.Context, d Developer) (CallerInfo, error) {
	out := CallerInfo{Developer: d, DeveloperTwoFactorRequired: s.cfg.DeveloperTwoFactorRequired}
	if d.APIKeyID == "" {
		u, err := s.store.GetUser(ctx, ConsoleAppID, d.ID)
		if err != nil {
			return CallerInfo{}, err
		}
		out.Email = u.Email
	}
	a, err := s.store.GetApp(ctx, ConsoleAppID)
	if err != nil {
		return CallerInfo{}, err
	}
	out.DeveloperSignupEnabled = a.Settings.SignupEnabled
	return out, nil
}

// Teammate is a member of an app as its team sees it: with the developer's
// console email, or a pending invitation (Pending; DeveloperID is then the
// console invitation's id).
type Teammate struct {
	Member
	Email   string
	Pending bool
}

// MemberInvite is a membership waiting for its console invitation: when
// the invited person registers with the code, they become a developer and
// a member of AppID with Role.
type MemberInvite struct {
	AppID        string
	Email        string // normalized
	InvitationID string // the console invitation mailed to Email
	Role         Role
	InvitedBy    string // the developer who invited
	CreatedAt    time.Time
}

// InviteDeveloper mails email an invitation to the console and records
// the membership of appID with role that starts when it is accepted
// (Register), in one transaction. Console invitations come only from here:
// the console app's users cannot Invite (its invitations stay off), so a
// developer cannot bring people onto the server without an app to share.
// The caller has checked that d owns appID and that no developer has email.
func (s *Service) InviteDeveloper(ctx context.Context, d Developer, appID, email string, role Role) (Invitation, error) {
	const op = "identity.InviteDeveloper"
	a, err := s.store.GetApp(ctx, ConsoleAppID)
	if err != nil {
		return Invitation{}, err
	}
	if err := s.takeInvites(ctx, d, appID, 1); err != nil {
		return Invitation{}, err
	}
	email = NormalizeEmail(email)
	code, err := otp.NewCode()
	if err != nil {
		return Invitation{}, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	lifetime := a.Settings.InviteLifetime
	if lifetime <= 0 {
		lifetime = DefaultSettings().InviteLifetime
	}
	iv := Invitation{
		ID: newID(), AppID: a.ID, Handle: email, Hash: s.codeHash(a, purposeInvite, email, code),
		Metadata: map[string]any{}, Locale: a.Settings.Locales[0], CreatedAt: now, ExpiresAt: now.Add(lifetime),
	}
	mail, err := s.inviteMail(ctx, a, iv, code)
	if err != nil {
		return Invitation{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateInvitation(ctx, iv); err != nil {
			return err
		}
		mi := MemberInvite{AppID: appID, Email: email, InvitationID: iv.ID, Role: role, InvitedBy: d.ActorID(), CreatedAt: now}
		if err := tx.PutMemberInvite(ctx, mi); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, mail); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "member.invite", ActorID: d.ActorID(), SubjectID: iv.ID, IP: d.IP,
			Details: map[string]any{"email": email, "role": string(role)}})
	})
	if err != nil {
		return Invitation{}, err
	}
	s.queued()
	return iv, nil
}

// startMemberships turns the member invitations of a new developer's
// email into memberships, in Register's transaction (tx). Every pending
// member invitation to the email counts: registering with the newest
// console code proves the person reads that mailbox.
func (s *Service) startMemberships(ctx context.Context, tx Store, a App, u User) error {
	if a.ID != ConsoleAppID {
		return nil
	}
	return tx.AcceptMemberInvites(ctx, u.Email, u.ID, s.clock())
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
