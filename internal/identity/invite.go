package identity

// Invitations, top to bottom: the Invitation and its states, a user's
// Invite, a developer's (List, Resend, Revoke; CreateInvitations, in bulk
// or from CSV, is in invite_bulk.go), and Register with the code.

import (
	"context"
	"net/url"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/templates"
)

// Invitation is an invitation to join an app. Only its code's hash is stored.
type Invitation struct {
	ID         string
	AppID      string
	Handle     string // normalized email
	Hash       string
	InviterID  string // the user who invited; empty when a developer did
	Metadata   map[string]any
	Locale     string
	Attempts   int
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time
	AcceptedBy string
	RevokedAt  time.Time
}

// Invitation states, derived from the dates.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteExpired  = "expired"
	InviteRevoked  = "revoked"
)

// State returns the invitation's state at now.
func (iv Invitation) State(now time.Time) string {
	switch {
	case !iv.AcceptedAt.IsZero():
		return InviteAccepted
	case !iv.RevokedAt.IsZero():
		return InviteRevoked
	case !now.Before(iv.ExpiresAt):
		return InviteExpired
	}
	return InvitePending
}

// purposeInvite binds invitation codes' hashes to invitations.
const purposeInvite = "invite"

// InviteInput is one invitation to send.
type InviteInput struct {
	Handle   string
	Metadata map[string]any
	Locale   string
}

// Invite mails an invitation code from a signed-in user. An email that
// already has an account gets a notice instead, and the answer is the same.
// Anonymous users cannot invite: they are anyone who asked, and would make
// the server mail any address for free. An invitation counts against the
// app's daily limit (LimitInvitesApp) like a developer's.
func (s *Service) Invite(ctx context.Context, p Principal, in InviteInput) error {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	if u.Anonymous {
		return apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "anonymous users cannot invite; sign up first")
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitInviteIP), p.IP), byKey(s.rule(a, LimitInviteUser), u.ID)); err != nil {
		return err
	}
	if err := s.take(ctx, a.ID, 1, byKey(s.rule(a, LimitInvitesApp), "app")); err != nil {
		return err
	}
	_, err = s.invite(ctx, Caller{AppID: a.ID, IP: p.IP}, a, u.ID, in)
	return err
}

// takeInvites counts n invitations a developer sends for an app against
// the app's and the developer's daily limits, all or none, in one round
// trip.
func (s *Service) takeInvites(ctx context.Context, d Developer, appID string, n int) error {
	_, err := s.takeCounts(ctx, s.inviteCounts(d, appID, n)...)
	return err
}

// inviteCounts are n invitations of d for app appID under the app's and the
// developer's daily limits.
func (s *Service) inviteCounts(d Developer, appID string, n int) []LimitCount {
	return []LimitCount{
		byKey(s.rule(App{}, LimitInvitesApp), "app").in(appID, n),
		byKey(s.rule(App{}, LimitInvitesDeveloper), d.ID).in("", n),
	}
}

// invite checks and stores one invitation and mails it; the invitation is
// returned (zero when the email already had an account).
func (s *Service) invite(ctx context.Context, c Caller, a App, inviterID string, in InviteInput) (Invitation, error) {
	const op = "identity.Invite"
	if !a.Settings.InvitesEnabled {
		return Invitation{}, apperr.New(apperr.Precondition, apperr.ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	email := NormalizeEmail(in.Handle)
	md, err := checkMetadata(a.Settings.InviteMetadataFields, in.Metadata, true)
	if err != nil {
		return Invitation{}, err
	}
	locale, err := PickLocale(a, in.Locale)
	if err != nil {
		return Invitation{}, err
	}
	existing, err := s.store.FindUserByEmail(ctx, a.ID, email)
	switch {
	case err == nil:
		vars := templates.Vars{AppName: a.Name, Handle: existing.Email}
		return Invitation{}, s.mailNow(ctx, a, existing.Locale, templates.KindAccountExists, existing.Email, vars)
	case !apperr.Is(err, apperr.NotFound):
		return Invitation{}, err
	}
	code, err := otp.NewCode()
	if err != nil {
		return Invitation{}, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	iv := Invitation{
		ID: newID(), AppID: a.ID, Handle: email, Hash: s.codeHash(a, purposeInvite, email, code),
		InviterID: inviterID, Metadata: md, Locale: locale, CreatedAt: now, ExpiresAt: now.Add(a.Settings.InviteLifetime),
	}
	d, err := s.inviteMail(ctx, a, iv, code)
	if err != nil {
		return Invitation{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateInvitation(ctx, iv); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "invite.create", ActorID: inviterID, SubjectID: iv.ID, IP: c.IP})
	})
	if err != nil {
		return Invitation{}, err
	}
	s.queued()
	return iv, nil
}

// inviteMail renders the invitation mail, to be queued with the change.
func (s *Service) inviteMail(ctx context.Context, a App, iv Invitation, code string) (Delivery, error) {
	q := url.Values{"handle": {iv.Handle}, "invite_code": {code}}
	vars := templates.Vars{AppName: a.Name, Handle: iv.Handle, Code: code, ExpiresIn: humanDuration(iv.ExpiresAt.Sub(iv.CreatedAt)),
		Link: Issuer(s.cfg.PublicURL, a.ID) + "/invite?" + q.Encode()}
	return s.mail(ctx, a, iv.Locale, templates.KindInvite, iv.Handle, vars)
}

// RegisterInput is an invited person's registration.
type RegisterInput struct {
	Handle     string
	Password   Secret
	InviteCode Secret
	Metadata   map[string]any
	Locale     string
}

// Register creates an account from an invitation: the code must be the
// newest one mailed to the handle, pending and unexpired; the invitation's
// metadata is merged into the user's signup metadata. Works with signup off
// (invite-only apps).
func (s *Service) Register(ctx context.Context, c Caller, in RegisterInput) (_ SessionTokens, err error) {
	const op = "identity.Register"
	defer func() {
		if err == nil {
			s.meter.Signup(SignupCompleted)
		}
	}()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	// The console's invitations come from AddMember (InviteDeveloper), not
	// from its users, so its switch stays off and its codes still register.
	if !a.Settings.InvitesEnabled && a.ID != ConsoleAppID {
		return SessionTokens{}, apperr.New(apperr.Precondition, apperr.ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	email := NormalizeEmail(in.Handle)
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeIP), c.IP), byKey(s.rule(a, LimitCodeHandle), "invite:"+email)); err != nil {
		return SessionTokens{}, err
	}
	if err := checkNewPassword("password", a, c.Prehashed, in.Password); err != nil {
		return SessionTokens{}, err
	}
	md, err := checkMetadata(a.Settings.SignupMetadataFields, in.Metadata, true)
	if err != nil {
		return SessionTokens{}, err
	}
	iv, err := s.checkInvite(ctx, a, email, in.InviteCode)
	if err != nil {
		return SessionTokens{}, err
	}
	locale := iv.Locale
	if in.Locale != "" {
		if locale, err = PickLocale(a, in.Locale); err != nil {
			return SessionTokens{}, err
		}
	}
	merged := cloneMap(md) // invite fields are the inviter's to set:
	for _, f := range a.Settings.InviteMetadataFields {
		if v, ok := lookupPath(iv.Metadata, f.Path); ok {
			setPath(merged, f.Path, v)
		}
	}
	hash, err := s.passwords.Hash(ctx, storedPassword(a, c.Prehashed, in.Password).Reveal())
	if err != nil {
		return SessionTokens{}, apperr.Wrap(err, apperr.Internal, op)
	}
	u := User{ID: newID(), Email: email, Metadata: merged, Locale: locale}
	_, sess, err := s.createUserWith(ctx, c, a, u, hash, "user.register", func(tx Store) error {
		won, err := tx.AcceptInvitation(ctx, a.ID, iv.ID, u.ID, s.clock())
		if err != nil {
			return err
		}
		if !won {
			return apperr.New(apperr.Precondition, apperr.ReasonInviteUsed, "this invitation was already used")
		}
		return s.startMemberships(ctx, tx, a, u)
	}, s.welcome(ctx, a))
	if apperr.Is(err, apperr.Exists) {
		return SessionTokens{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "an account with this email already exists; sign in instead").With(op, err)
	}
	if err == nil {
		s.queued()
	}
	return sess, err
}

// checkInvite finds the handle's newest invitation, spends one attempt and
// compares codes. Used, revoked and expired invitations each have a reason.
func (s *Service) checkInvite(ctx context.Context, a App, email string, code Secret) (Invitation, error) {
	invalid := apperr.Fields(apperr.ReasonInviteInvalid, []apperr.Violation{{Field: "invite_code", Description: "is not valid"}})
	iv, err := s.store.FindInvitation(ctx, a.ID, email)
	if apperr.Is(err, apperr.NotFound) {
		return Invitation{}, invalid
	}
	if err != nil {
		return Invitation{}, err
	}
	switch iv.State(s.clock()) {
	case InviteAccepted:
		return Invitation{}, apperr.New(apperr.Precondition, apperr.ReasonInviteUsed, "this invitation was already used")
	case InviteRevoked:
		return Invitation{}, apperr.New(apperr.Precondition, apperr.ReasonInviteRevoked, "this invitation was revoked")
	case InviteExpired:
		return Invitation{}, apperr.New(apperr.Precondition, apperr.ReasonInviteExpired, "this invitation has expired; ask for a new one")
	}
	ok, err := s.store.SpendInvitationAttempt(ctx, a.ID, iv.ID, s.cfg.MaxCodeAttempts)
	if err != nil {
		return Invitation{}, err
	}
	if !ok {
		return Invitation{}, apperr.New(apperr.Precondition, apperr.ReasonTooManyAttempts, "too many wrong codes; ask for a new invitation")
	}
	if !s.codeMatches(a, purposeInvite, email, iv.Hash, code) {
		return Invitation{}, invalid
	}
	return iv, nil
}

// ListInvitations lists an app's invitations, newest first, optionally
// only those in state (InvitePending, …).
func (s *Service) ListInvitations(ctx context.Context, d Developer, appID, state, after string, limit int) ([]Invitation, error) {
	if _, err := s.member(ctx, d, appID, RoleViewer); err != nil {
		return nil, err
	}
	if state == "" {
		return s.store.ListInvitations(ctx, appID, after, limit)
	}
	// Filter by the derived state, reading pages until limit are found.
	var out []Invitation
	now := s.clock()
	for {
		page, err := s.store.ListInvitations(ctx, appID, after, 200)
		if err != nil {
			return nil, err
		}
		for _, iv := range page {
			if iv.State(now) == state {
				out = append(out, iv)
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// ResendInvitation mails a pending invitation again with a new code and a
// fresh expiry; the old code stops working.
func (s *Service) ResendInvitation(ctx context.Context, d Developer, appID, id string) (Invitation, error) {
	const op = "identity.ResendInvitation"
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return Invitation{}, err
	}
	iv, err := s.store.GetInvitation(ctx, appID, id)
	if apperr.Is(err, apperr.NotFound) {
		return Invitation{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no invitation with that id")
	}
	if err != nil {
		return Invitation{}, err
	}
	now := s.clock()
	if st := iv.State(now); st != InvitePending && st != InviteExpired {
		return Invitation{}, apperr.New(apperr.Precondition, inviteStateReason(st), "only a pending or expired invitation can be resent")
	}
	if err := s.takeInvites(ctx, d, appID, 1); err != nil {
		return Invitation{}, err
	}
	code, err := otp.NewCode()
	if err != nil {
		return Invitation{}, apperr.Wrap(err, apperr.Internal, op)
	}
	iv.Hash, iv.CreatedAt, iv.ExpiresAt, iv.Attempts = s.codeHash(m.App, purposeInvite, iv.Handle, code), now, now.Add(m.Settings.InviteLifetime), 0
	mail, err := s.inviteMail(ctx, m.App, iv, code)
	if err != nil {
		return Invitation{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		ok, err := tx.RenewInvitation(ctx, appID, iv.ID, iv.Hash, iv.ExpiresAt)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Precondition, apperr.ReasonInviteUsed, "the invitation was used or revoked meanwhile")
		}
		if err := enqueue(ctx, tx, mail); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "invite.resend", ActorID: d.ActorID(), SubjectID: iv.ID, IP: d.IP})
	})
	if err != nil {
		return Invitation{}, err
	}
	s.queued()
	return iv, nil
}

func inviteStateReason(state string) apperr.Reason {
	switch state {
	case InviteAccepted:
		return apperr.ReasonInviteUsed
	case InviteRevoked:
		return apperr.ReasonInviteRevoked
	}
	return apperr.ReasonInviteExpired
}

// RevokeInvitation revokes a pending invitation.
func (s *Service) RevokeInvitation(ctx context.Context, d Developer, appID, id string) error {
	if _, err := s.member(ctx, d, appID, RoleAdmin); err != nil {
		return err
	}
	iv, err := s.store.GetInvitation(ctx, appID, id)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no invitation with that id")
	}
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		ok, err := tx.RevokeInvitation(ctx, appID, iv.ID, s.clock())
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Precondition, inviteStateReason(iv.State(s.clock())), "only a pending invitation can be revoked")
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "invite.revoke", ActorID: d.ActorID(), SubjectID: iv.ID, IP: d.IP})
	})
}
