package identity

// Entry points for importing what another system had in flight — a
// pending signup, an open invitation, an authenticator — so that the code
// or secret a person already holds keeps working here. Each stores its
// secret exactly as the flow that would have made it does (codes hashed
// under the pepper and bound to the app and handle, TOTP secrets sealed
// to the user's row), and each is idempotent: what exists is left alone.

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// ImportedSignup is a signup started elsewhere whose code was mailed and
// not yet used.
type ImportedSignup struct {
	Handle string // the email
	// PasswordHash is the password as Login checks it: argon2id, or a
	// legacy hash Login verifies once and upgrades (CosyncJWT's bcrypt of
	// the MD5).
	PasswordHash string
	Code         Secret // the code the person holds
	Metadata     map[string]any
	Locale       string // one of the app's, else its first
	CreatedAt    time.Time
	ExpiresAt    time.Time // when the code stops working
}

// ImportPendingSignup stores in as a pending signup of appID, so that
// CompleteSignUp accepts its code until in.ExpiresAt. It reports false and
// changes nothing when the email has an account or a pending signup, or
// the code has expired. With dryRun it only reports.
func (s *Service) ImportPendingSignup(ctx context.Context, appID string, in ImportedSignup, dryRun bool) (bool, error) {
	const op = "identity.ImportPendingSignup"
	a, err := s.store.GetApp(ctx, appID)
	if err != nil {
		return false, err
	}
	email := NormalizeEmail(in.Handle)
	code := strings.TrimSpace(in.Code.Reveal())
	if email == "" || code == "" || in.PasswordHash == "" || !s.clock().Before(in.ExpiresAt) {
		return false, nil
	}
	if fresh, err := s.absent(ctx, a.ID, email, func() error {
		_, err := s.store.FindCode(ctx, a.ID, PurposeSignup, email)
		return err
	}); !fresh || err != nil {
		return false, err
	}
	if dryRun {
		return true, nil
	}
	locale, err := PickLocale(a, strings.ToLower(in.Locale))
	if err != nil {
		locale = a.Settings.Locales[0]
	}
	md := in.Metadata
	if md == nil {
		md = map[string]any{}
	}
	payload, err := json.Marshal(pendingSignup{PasswordHash: in.PasswordHash, Metadata: md, Locale: locale})
	if err != nil {
		return false, apperr.Wrap(err, apperr.Internal, op)
	}
	pc := Code{
		ID: newID(), AppID: a.ID, Purpose: PurposeSignup, Handle: email, Hash: s.codeHash(a, PurposeSignup, email, code),
		Payload: payload, CreatedAt: in.CreatedAt, ExpiresAt: in.ExpiresAt,
	}
	if pc.CreatedAt.IsZero() {
		pc.CreatedAt = s.clock()
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutCode(ctx, pc); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.signup.import", SubjectID: email})
	})
	return err == nil, err
}

// ImportedInvitation is an invitation sent elsewhere and not yet used.
type ImportedInvitation struct {
	Handle string // the invited email
	Code   Secret // the code the person holds
	// InviterID is the inviting user of the app; "" when unknown (the
	// invitation then reads as a developer's).
	InviterID string
	Metadata  map[string]any
	Locale    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ImportInvitation stores in as a pending invitation of appID, so that
// Register accepts its code until in.ExpiresAt. It reports false and
// changes nothing when the email has an account or a pending invitation,
// or the code has expired. With dryRun it only reports.
func (s *Service) ImportInvitation(ctx context.Context, appID string, in ImportedInvitation, dryRun bool) (bool, error) {
	a, err := s.store.GetApp(ctx, appID)
	if err != nil {
		return false, err
	}
	email := NormalizeEmail(in.Handle)
	code := strings.TrimSpace(in.Code.Reveal())
	now := s.clock()
	if email == "" || code == "" || !now.Before(in.ExpiresAt) {
		return false, nil
	}
	if fresh, err := s.absent(ctx, a.ID, email, func() error {
		iv, err := s.store.FindInvitation(ctx, a.ID, email)
		if err == nil && iv.State(now) != InvitePending {
			return apperr.New(apperr.NotFound, "", "no pending invitation")
		}
		return err
	}); !fresh || err != nil {
		return false, err
	}
	if dryRun {
		return true, nil
	}
	locale, err := PickLocale(a, strings.ToLower(in.Locale))
	if err != nil {
		locale = a.Settings.Locales[0]
	}
	md := in.Metadata
	if md == nil {
		md = map[string]any{}
	}
	iv := Invitation{
		ID: newID(), AppID: a.ID, Handle: email, Hash: s.codeHash(a, purposeInvite, email, code),
		InviterID: in.InviterID, Metadata: md, Locale: locale, CreatedAt: in.CreatedAt, ExpiresAt: in.ExpiresAt,
	}
	if iv.CreatedAt.IsZero() {
		iv.CreatedAt = now
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateInvitation(ctx, iv); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "invite.import", ActorID: in.InviterID, SubjectID: iv.ID})
	})
	return err == nil, err
}

// absent reports whether email has no account in appID and find (the
// pending thing) answers NotFound.
func (s *Service) absent(ctx context.Context, appID, email string, find func() error) (bool, error) {
	_, err := s.store.FindUserByEmail(ctx, appID, email)
	if err == nil {
		return false, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return false, err
	}
	err = find()
	if err == nil {
		return false, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return false, err
	}
	return true, nil
}

// ImportTotp turns on the authenticator second factor of userID in appID
// with secret, the base32 secret the person's authenticator app already
// holds (spaces, padding and case are forgiven). It is sealed to the row
// as BeginTotpEnrollment seals, and confirmed at once: the person proved
// it elsewhere. It reports false and changes nothing when the user already
// has a second factor; a secret that is not base32 (or shorter than 80
// bits) is Invalid. With dryRun it only checks.
func (s *Service) ImportTotp(ctx context.Context, appID, userID string, secret Secret, dryRun bool) (bool, error) {
	const op = "identity.ImportTotp"
	norm := strings.ToUpper(strings.TrimRight(strings.Join(strings.Fields(secret.Reveal()), ""), "="))
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(norm)
	if err != nil || len(raw) < 10 {
		return false, apperr.Field("googleSecretKey", "is not a base32 authenticator secret of at least 80 bits")
	}
	if dryRun {
		return true, nil
	}
	u, err := s.store.GetUser(ctx, appID, userID)
	if err != nil {
		return false, err
	}
	if u.TwoFactor != TwoFactorNone {
		return false, nil
	}
	sealed, err := s.secrets.Seal(ctx, []byte(norm), totpAD(appID, userID))
	if err != nil {
		return false, sealErr(op, err)
	}
	now := s.clock()
	errTaken := errors.New("the user has a second factor")
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutPendingTotp(ctx, TotpSecret{AppID: appID, UserID: userID, SecretSealed: sealed, CreatedAt: now}); err != nil {
			return err
		}
		if _, err := tx.ConfirmTotp(ctx, appID, userID, sealed, 0, now); err != nil {
			return err
		}
		switched, err := tx.SwitchTwoFactor(ctx, appID, userID, TwoFactorNone, TwoFactorTOTP, now)
		if err != nil {
			return err
		}
		if !switched { // a second factor came meanwhile: leave it, and undo the secret
			return errTaken
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "user.2fa.import", SubjectID: userID,
			Details: map[string]any{"method": string(TwoFactorTOTP)}})
	})
	if errors.Is(err, errTaken) || apperr.Is(err, apperr.Exists) { // Exists: a confirmed secret is there already
		return false, nil
	}
	return err == nil, err
}
