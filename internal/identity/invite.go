package identity

import (
	"context"
	"net/url"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/otp"
)

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
func (s *Service) Invite(ctx context.Context, p Principal, in InviteInput) error {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return err
	}
	if err := s.limit(ctx, a.ID, byKey(LimitInviteIP, p.IP), byKey(LimitInviteUser, u.ID)); err != nil {
		return err
	}
	_, err = s.invite(ctx, Caller{AppID: a.ID, IP: p.IP}, a, u.ID, in)
	return err
}

// invite checks and stores one invitation and mails it; the invitation is
// returned (zero when the email already had an account).
func (s *Service) invite(ctx context.Context, c Caller, a App, inviterID string, in InviteInput) (Invitation, error) {
	const op = "identity.Invite"
	if !a.Settings.InvitesEnabled {
		return Invitation{}, apperr.New(apperr.Precondition, ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	email := NormalizeEmail(in.Handle)
	md, err := checkMetadata(a.Settings.InviteMetadataFields, in.Metadata, true)
	if err != nil {
		return Invitation{}, err
	}
	locale, err := pickLocale(a, in.Locale)
	if err != nil {
		return Invitation{}, err
	}
	existing, err := s.store.FindUserByEmail(ctx, a.ID, email)
	switch {
	case err == nil:
		vars := notify.Vars{AppName: a.Name, Handle: existing.Email}
		return Invitation{}, s.send(ctx, a, existing.Locale, notify.KindAccountExists, existing.Email, vars)
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
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateInvitation(ctx, iv); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "invite.create", ActorID: inviterID, SubjectID: iv.ID, IP: c.IP})
	})
	if err != nil {
		return Invitation{}, err
	}
	if err := s.mailInvite(ctx, a, iv, code); err != nil {
		if _, rerr := s.store.RevokeInvitation(ctx, a.ID, iv.ID, now); rerr != nil {
			s.log.WarnContext(ctx, "could not revoke unsent invitation", "err", rerr)
		}
		return Invitation{}, err
	}
	return iv, nil
}

func (s *Service) mailInvite(ctx context.Context, a App, iv Invitation, code string) error {
	q := url.Values{"handle": {iv.Handle}, "invite_code": {code}}
	vars := notify.Vars{AppName: a.Name, Handle: iv.Handle, Code: code, ExpiresIn: humanDuration(iv.ExpiresAt.Sub(iv.CreatedAt)),
		Link: Issuer(s.cfg.PublicURL, a.ID) + "/invite?" + q.Encode()}
	return s.send(ctx, a, iv.Locale, notify.KindInvite, iv.Handle, vars)
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
func (s *Service) Register(ctx context.Context, c Caller, in RegisterInput) (SessionTokens, error) {
	const op = "identity.Register"
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	if !a.Settings.InvitesEnabled {
		return SessionTokens{}, apperr.New(apperr.Precondition, ReasonInvitesDisabled, "invitations are disabled for this application")
	}
	email := NormalizeEmail(in.Handle)
	if err := s.limit(ctx, a.ID, byKey(LimitCodeIP, c.IP), byKey(LimitCodeHandle, "invite:"+email)); err != nil {
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
		if locale, err = pickLocale(a, in.Locale); err != nil {
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
			return apperr.New(apperr.Precondition, ReasonInviteUsed, "this invitation was already used")
		}
		return nil
	})
	if apperr.Is(err, apperr.Exists) {
		return SessionTokens{}, apperr.New(apperr.Exists, ReasonAlreadyExists, "an account with this email already exists; sign in instead").With(op, err)
	}
	if err == nil {
		s.welcome(ctx, a, sess.User)
	}
	return sess, err
}

// checkInvite finds the handle's newest invitation, spends one attempt and
// compares codes. Used, revoked and expired invitations each have a reason.
func (s *Service) checkInvite(ctx context.Context, a App, email string, code Secret) (Invitation, error) {
	invalid := apperr.Fields(ReasonInviteInvalid, []apperr.Violation{{Field: "invite_code", Description: "is not valid"}})
	iv, err := s.store.FindInvitation(ctx, a.ID, email)
	if apperr.Is(err, apperr.NotFound) {
		return Invitation{}, invalid
	}
	if err != nil {
		return Invitation{}, err
	}
	switch iv.State(s.clock()) {
	case InviteAccepted:
		return Invitation{}, apperr.New(apperr.Precondition, ReasonInviteUsed, "this invitation was already used")
	case InviteRevoked:
		return Invitation{}, apperr.New(apperr.Precondition, ReasonInviteRevoked, "this invitation was revoked")
	case InviteExpired:
		return Invitation{}, apperr.New(apperr.Precondition, ReasonInviteExpired, "this invitation has expired; ask for a new one")
	}
	ok, err := s.store.SpendInvitationAttempt(ctx, a.ID, iv.ID, s.cfg.MaxCodeAttempts)
	if err != nil {
		return Invitation{}, err
	}
	if !ok {
		return Invitation{}, apperr.New(apperr.Precondition, ReasonTooManyAttempts, "too many wrong codes; ask for a new invitation")
	}
	if !s.codeMatches(a, purposeInvite, email, iv.Hash, code) {
		return Invitation{}, invalid
	}
	return iv, nil
}
