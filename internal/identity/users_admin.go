package identity

// What a developer does to an application's users through the Admin
// service: list and search them, read one with their sessions, create,
// suspend or reactivate, retype metadata, delete, sign out, and mail a
// password reset. Viewers read; admins change (Access). A user of another
// app reads as unknown: every store call is scoped by the app Access
// returned. Every change is audited with the developer (or API key) as the
// actor and the user as the subject.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// ProviderPassword is the UserFilter.Provider of users with a password.
const ProviderPassword = "password"

// UserFilter selects an app's users. The zero value selects everyone.
type UserFilter struct {
	// Query matches an email or user name by prefix, ignoring case; an id
	// exactly; or a whole metadata value (a string or number at any
	// depth), ignoring case.
	Query     string
	Status    UserStatus      // "": any
	Anonymous *bool           // nil: any
	Provider  string          // "": any; ProviderPassword: has a password; "apple", "google": has that identity
	TwoFactor TwoFactorMethod // "": any; TwoFactorNone: no second factor
	// Half-open ranges [After, Before); a zero bound is open. A last-login
	// bound leaves out users who never signed in.
	CreatedAfter, CreatedBefore     time.Time
	LastLoginAfter, LastLoginBefore time.Time
}

// UserCursor is where a page of ListUsers ends: the last user's creation
// time and id. The zero cursor is the start.
type UserCursor struct {
	CreatedAt time.Time
	ID        string
}

// UserPage is one page of ListUsers.
type UserPage struct {
	Users []User
	// NextPageToken continues the listing with the same filter; "" on the last page.
	NextPageToken string
	// Total counts every user matching the filter, on every page.
	Total int
}

// ListUsers returns a page of at most limit (1 or more) of the app's
// users matching f, newest first, after pageToken ("" for the first page).
// The token is opaque to callers and bound to the app and the filter: a
// token that does not decode, or that another query made, is an
// InvalidArgument naming page_token.
func (s *Service) ListUsers(ctx context.Context, d Developer, appID string, f UserFilter, pageToken string, limit int) (UserPage, error) {
	m, err := s.member(ctx, d, appID, RoleViewer)
	if err != nil {
		return UserPage{}, err
	}
	f.Query = strings.TrimSpace(f.Query)
	if err := checkUserFilter(f); err != nil {
		return UserPage{}, err
	}
	digest := filterDigest(m.ID, f)
	var after UserCursor
	if pageToken != "" {
		if after, err = decodePageToken(pageToken, digest); err != nil {
			return UserPage{}, err
		}
	}
	users, err := s.store.ListUsers(ctx, m.ID, f, after, limit+1)
	if err != nil {
		return UserPage{}, err
	}
	total, err := s.store.CountUsers(ctx, m.ID, f)
	if err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: users, Total: total}
	if len(users) > limit {
		page.Users = users[:limit]
		last := users[limit-1]
		page.NextPageToken = encodePageToken(UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}, digest)
	}
	return page, nil
}

func checkUserFilter(f UserFilter) error {
	switch {
	case f.Status != "" && f.Status != UserActive && f.Status != UserSuspended:
		return apperr.Field("status", "must be ACTIVE or SUSPENDED")
	case !slices.Contains([]string{"", ProviderPassword, "apple", "google"}, f.Provider):
		return apperr.Field("provider", `must be "password", "apple" or "google"`)
	case !slices.Contains([]TwoFactorMethod{"", TwoFactorNone, TwoFactorTOTP, TwoFactorSMS}, f.TwoFactor):
		return apperr.Field("two_factor", "must be NONE, TOTP or SMS")
	}
	return nil
}

// pageToken is what a page token carries: the cursor, and a digest of the
// app and filter it was made for, so a token replayed against another
// query is refused instead of silently paging something else. Tokens are
// not secret: they hold no more than the listing showed.
type pageToken struct {
	CreatedAt int64  `json:"c"` // Unix microseconds
	ID        string `json:"i"`
	Digest    string `json:"f"`
}

func filterDigest(appID string, f UserFilter) string {
	b, _ := json.Marshal(struct {
		App string
		F   UserFilter
	}{appID, f})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func encodePageToken(c UserCursor, digest string) string {
	b, _ := json.Marshal(pageToken{CreatedAt: c.CreatedAt.UnixMicro(), ID: c.ID, Digest: digest})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(tok, digest string) (UserCursor, error) {
	bad := apperr.Field("page_token", "is not a page token of this listing; start again without one")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return UserCursor{}, bad
	}
	var p pageToken
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" || p.Digest != digest || p.CreatedAt <= 0 {
		return UserCursor{}, bad
	}
	return UserCursor{CreatedAt: time.UnixMicro(p.CreatedAt).UTC(), ID: p.ID}, nil
}

// AppUser is a user as a developer sees them: with their linked identities
// and live sessions.
type AppUser struct {
	User
	Identities []LinkedIdentity
	// Sessions are the live ones (not revoked, not expired), most recently used first.
	Sessions []Session
}

// GetAppUser returns one of the app's users with identities and live sessions.
func (s *Service) GetAppUser(ctx context.Context, d Developer, appID, userID string) (AppUser, error) {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleViewer)
	if err != nil {
		return AppUser{}, err
	}
	ids, err := s.store.ListIdentities(ctx, m.ID, u.ID)
	if err != nil {
		return AppUser{}, err
	}
	sessions, err := s.store.ListActiveSessions(ctx, m.ID, u.ID, s.clock())
	if err != nil {
		return AppUser{}, err
	}
	return AppUser{User: u, Identities: ids, Sessions: sessions}, nil
}

// appUser returns the app (when the caller's role allows need) and its user
// userID; an unknown user, or one of another app, is NOT_FOUND.
func (s *Service) appUser(ctx context.Context, d Developer, appID, userID string, need Role) (MemberApp, User, error) {
	m, err := s.member(ctx, d, appID, need)
	if err != nil {
		return MemberApp{}, User{}, err
	}
	u, err := s.store.GetUser(ctx, m.ID, userID)
	if apperr.Is(err, apperr.NotFound) {
		return MemberApp{}, User{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no user with that id in this application").With("identity.appUser", err)
	}
	return m, u, err
}

// NewAppUser is a user a developer creates.
type NewAppUser struct {
	Email string
	// Password is checked against the app's policy; "" makes a user
	// without a password, who can sign in once they set one.
	Password Secret
	Metadata map[string]any // checked against the app's signup metadata fields
	Locale   string         // "": the app's first
	// SendSetPassword mails the user a password-reset code (the reset
	// flow's mail) to choose a password with.
	SendSetPassword bool
}

// CreateAppUser creates a confirmed, active user. An email in use in the
// app is ALREADY_EXISTS.
func (s *Service) CreateAppUser(ctx context.Context, d Developer, appID string, in NewAppUser) (User, error) {
	const op = "identity.CreateAppUser"
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return User{}, err
	}
	a := m.App
	email := NormalizeEmail(in.Email)
	if !strings.Contains(email, "@") || len(email) > 254 {
		return User{}, apperr.Field("handle", "must be an email address")
	}
	var hash string
	if in.Password != "" {
		if err := checkNewPassword("password", a, false, in.Password); err != nil {
			return User{}, err
		}
		if hash, err = s.passwords.Hash(ctx, storedPassword(a, false, in.Password).Reveal()); err != nil {
			return User{}, apperr.Wrap(err, apperr.Internal, op)
		}
	}
	md, err := checkMetadata(a.Settings.SignupMetadataFields, in.Metadata, true)
	if err != nil {
		return User{}, err
	}
	locale, err := PickLocale(a, in.Locale)
	if err != nil {
		return User{}, err
	}
	now := s.clock()
	u := User{ID: newID(), AppID: a.ID, Email: email, Metadata: md, Locale: locale, Status: UserActive,
		TwoFactor: TwoFactorNone, HasPassword: hash != "", CreatedAt: now, UpdatedAt: now}
	var mail func(Store) error
	if in.SendSetPassword {
		if mail, err = s.resetMail(ctx, a, u, d); err != nil {
			return User{}, err
		}
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		if mail != nil {
			if err := mail(tx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.create", ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP,
			Details: map[string]any{"has_password": u.HasPassword, "send_set_password": in.SendSetPassword}})
	})
	if apperr.Is(err, apperr.Exists) {
		return User{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "a user with this email already exists in this application").With(op, err)
	}
	if err != nil {
		return User{}, err
	}
	if mail != nil {
		s.queued()
	}
	return u, nil
}

// resetMail prepares the reset flow's code and mail for u and returns the
// step that stores both (and audits the mail) inside a transaction.
func (s *Service) resetMail(ctx context.Context, a App, u User, d Developer) (func(Store) error, error) {
	rc, code, err := s.newCode(a, PurposeReset, u.Email, ResetCodeTTL, nil)
	if err != nil {
		return nil, err
	}
	vars := templates.Vars{AppName: a.Name, Handle: u.Email, Code: code, ExpiresIn: humanDuration(ResetCodeTTL)}
	dl, err := s.mail(ctx, a, u.Locale, templates.KindPasswordReset, u.Email, vars)
	if err != nil {
		return nil, err
	}
	return func(tx Store) error {
		if err := tx.PutCode(ctx, rc); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, dl); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.password.reset_sent", ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP})
	}, nil
}

// AppUserChange is what UpdateAppUser changes: the fields whose Set… flag is on.
type AppUserChange struct {
	SetStatus bool
	Status    UserStatus // UserActive or UserSuspended
	// SetMetadata replaces the user's metadata with Metadata, checked
	// against the app's signup and invite fields (none is required here).
	SetMetadata bool
	Metadata    map[string]any
}

// UpdateAppUser suspends or reactivates a user and retypes their metadata.
// Suspending revokes every session in the same transaction: the user's
// access tokens stop working here at once, their refresh tokens answer
// SESSION_REVOKED and sign-ins ACCOUNT_SUSPENDED.
func (s *Service) UpdateAppUser(ctx context.Context, d Developer, appID, userID string, ch AppUserChange) (User, error) {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleAdmin)
	if err != nil {
		return User{}, err
	}
	if ch.SetStatus && ch.Status != UserActive && ch.Status != UserSuspended {
		return User{}, apperr.Field("status", "must be ACTIVE or SUSPENDED")
	}
	var events []AuditEvent
	event := func(action string, details map[string]any) {
		events = append(events, AuditEvent{AppID: m.ID, Action: action, ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP, Details: details})
	}
	suspend := ch.SetStatus && ch.Status == UserSuspended && u.Status != UserSuspended
	if ch.SetStatus && ch.Status != u.Status {
		event(map[UserStatus]string{UserSuspended: "user.suspend", UserActive: "user.reactivate"}[ch.Status], nil)
		u.Status = ch.Status
	}
	if ch.SetMetadata {
		fields := append(slices.Clone(m.Settings.SignupMetadataFields), m.Settings.InviteMetadataFields...)
		md, err := checkMetadata(fields, ch.Metadata, false)
		if err != nil {
			return User{}, err
		}
		u.Metadata = md
		event("user.metadata.update", map[string]any{"by": "developer"})
	}
	if len(events) == 0 {
		return u, nil // nothing changes
	}
	u.UpdatedAt = s.clock()
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if suspend {
			if _, err := tx.RevokeUserSessions(ctx, m.ID, u.ID, "", "suspended", u.UpdatedAt); err != nil {
				return err
			}
		}
		for _, e := range events {
			if err := s.audit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// DeleteAppUser deletes a user with their sessions, identities and second
// factor; audit events keep the id.
func (s *Service) DeleteAppUser(ctx context.Context, d Developer, appID, userID string) error {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleAdmin)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteUser(ctx, m.ID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: m.ID, Action: "user.delete", ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP})
	})
}

// RevokeUserSessions signs the user out everywhere and returns how many
// live sessions it ended.
func (s *Service) RevokeUserSessions(ctx context.Context, d Developer, appID, userID string) (int, error) {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleAdmin)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.store.InTx(ctx, func(tx Store) error {
		if n, err = tx.RevokeUserSessions(ctx, m.ID, u.ID, "", "revoked_by_developer", s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: m.ID, Action: "user.sessions.revoke", ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP,
			Details: map[string]any{"sessions": n}})
	})
	return n, err
}

// RevokeUserSession ends one of the user's sessions; the others live on.
// A session of another user is NOT_FOUND; revoking an ended one is not an error.
func (s *Service) RevokeUserSession(ctx context.Context, d Developer, appID, userID, sessionID string) error {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleAdmin)
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(ctx, m.ID, sessionID)
	if apperr.Is(err, apperr.NotFound) || (err == nil && sess.UserID != u.ID) {
		return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "this user has no session with that id")
	}
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		if err := tx.RevokeSession(ctx, m.ID, sess.ID, "revoked_by_developer", s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: m.ID, Action: "session.revoke", ActorID: d.ActorID(), SubjectID: u.ID, IP: d.IP,
			Details: map[string]any{"session_id": sess.ID}})
	})
}

// SendPasswordReset mails the user the reset flow's code. A user without
// an email (anonymous) has nowhere to get it: FAILED_PRECONDITION.
func (s *Service) SendPasswordReset(ctx context.Context, d Developer, appID, userID string) error {
	m, u, err := s.appUser(ctx, d, appID, userID, RoleAdmin)
	if err != nil {
		return err
	}
	if u.Email == "" {
		return apperr.New(apperr.Precondition, apperr.ReasonFailedPrecondition, "this user has no email address to send a reset code to")
	}
	mail, err := s.resetMail(ctx, m.App, u, d)
	if err != nil {
		return err
	}
	if err := s.store.InTx(ctx, mail); err != nil {
		return err
	}
	s.queued()
	return nil
}
