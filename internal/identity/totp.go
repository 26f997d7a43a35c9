package identity

import (
	"bytes"
	"context"
	"encoding/base32"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/templates"
)

// TotpSecret is a user's authenticator secret. The secret itself is only
// ever stored sealed, bound to the app and user (see totpAD).
type TotpSecret struct {
	AppID        string
	UserID       string
	SecretSealed []byte
	QRTokenHash  string // the mailed QR image's token (SHA-256); empty once confirmed
	LastStep     int64  // the last accepted TOTP time step
	CreatedAt    time.Time
	ConfirmedAt  time.Time // zero while the enrollment is pending
}

// Pending reports whether the enrollment still waits for its first code.
func (t TotpSecret) Pending() bool { return t.ConfirmedAt.IsZero() }

// Recovery codes.
const (
	// RecoveryCodeCount is how many recovery codes an enrollment gets.
	RecoveryCodeCount = 10

	purposeRecovery = "recovery"
)

// The authenticator parameters every app uses: what Google Authenticator
// and its peers assume (RFC 6238 defaults).
const (
	totpPeriod = 30 // seconds
	totpSkew   = 1  // steps either side of now
	// QRLinkTTL is how long the QR image link in the enrollment mail works.
	QRLinkTTL = time.Hour
	qrSize    = 256 // pixels
)

var totpOpts = hotp.ValidateOpts{Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1}

// TotpEnrollment is a pending authenticator: what the user scans or types.
type TotpEnrollment struct {
	Secret Secret // base32, for typing by hand
	URI    Secret // otpauth:// URI
	QRPNG  []byte // the URI as a QR code
}

// totpAD binds a sealed TOTP secret to its app and user: a ciphertext
// copied onto another user's row does not open.
func totpAD(appID, userID string) []byte {
	return []byte("cosync-auth totp secret v1\x00" + appID + "\x00" + userID)
}

// BeginTotpEnrollment makes a new authenticator secret for the signed-in
// user, pending until ConfirmTotpEnrollment proves a code from it; a
// second Begin replaces a pending one. Only when the app asks for it
// (TOTPQRMail) and the user has an email address, the app's QR mail
// (templates.KindTOTPQR) goes to it too, with a link to the QR image that
// works for QRLinkTTL and until the enrollment is confirmed; by default
// the secret is in the answer only, so the mailbox alone never passes the
// second factor.
func (s *Service) BeginTotpEnrollment(ctx context.Context, p Principal) (TotpEnrollment, error) {
	const op = "identity.BeginTotpEnrollment"
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return TotpEnrollment{}, err
	}
	if a.Settings.TwoFactor != TwoFactorTOTP {
		return TotpEnrollment{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorDisabled, "this application does not offer authenticator apps")
	}
	if u.TwoFactor != TwoFactorNone {
		return TotpEnrollment{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "two-step verification is already on; turn it off first")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: totpIssuer(a), AccountName: totpAccount(u), Period: totpPeriod, SecretSize: 20,
		Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1,
	})
	if err != nil {
		return TotpEnrollment{}, apperr.Wrap(err, apperr.Internal, op)
	}
	qr, err := qrPNG(key)
	if err != nil {
		return TotpEnrollment{}, apperr.Wrap(err, apperr.Internal, op)
	}
	sealed, err := s.secrets.Seal(ctx, []byte(key.Secret()), totpAD(a.ID, u.ID))
	if err != nil {
		return TotpEnrollment{}, sealErr(op, err)
	}
	now := s.clock()
	pending := TotpSecret{AppID: a.ID, UserID: u.ID, SecretSealed: sealed, CreatedAt: now}
	var qrToken string
	if u.Email != "" && a.Settings.TOTPQRMail {
		if qrToken, err = otp.NewToken(32); err != nil {
			return TotpEnrollment{}, apperr.Wrap(err, apperr.Internal, op)
		}
		pending.QRTokenHash = otp.HashToken(qrToken)
	}
	var qrMail []Delivery
	if qrToken != "" {
		vars := templates.Vars{AppName: a.Name, Handle: u.Email, Code: key.Secret(), Link: QRURL(s.cfg.PublicURL, a.ID, qrToken), ExpiresIn: humanDuration(QRLinkTTL)}
		// The answer carries everything the mail does; a mail that cannot
		// be rendered is logged rather than refusing the enrollment.
		d, err := s.mail(ctx, a, u.Locale, templates.KindTOTPQR, u.Email, vars)
		if err != nil {
			s.log.WarnContext(ctx, "the authenticator QR mail was not queued", "app_id", a.ID, "user_id", u.ID, "err", err)
		} else {
			qrMail = append(qrMail, d)
		}
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PutPendingTotp(ctx, pending); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, qrMail...); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.2fa.totp.begin", ActorID: u.ID, SubjectID: u.ID, IP: p.IP})
	})
	if apperr.Is(err, apperr.Exists) {
		return TotpEnrollment{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "two-step verification is already on; turn it off first").With(op, err)
	}
	if err != nil {
		return TotpEnrollment{}, err
	}
	if len(qrMail) > 0 {
		s.queued()
	}
	return TotpEnrollment{Secret: Secret(key.Secret()), URI: Secret(key.URL()), QRPNG: qr}, nil
}

// ConfirmTotpEnrollment activates the pending authenticator with a current
// code from it and returns RecoveryCodeCount recovery codes: shown now,
// stored only as hashes, each good for one sign-in.
func (s *Service) ConfirmTotpEnrollment(ctx context.Context, p Principal, code Secret) ([]Secret, User, error) {
	const op = "identity.ConfirmTotpEnrollment"
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return nil, User{}, err
	}
	if u.TwoFactor != TwoFactorNone {
		return nil, User{}, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "two-step verification is already on")
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitCodeIP), p.IP), byKey(s.rule(a, LimitCodeHandle), "totp:"+u.ID)); err != nil {
		return nil, User{}, err
	}
	notPending := apperr.New(apperr.Precondition, apperr.ReasonTwoFactorNotEnrolled, "no authenticator is waiting to be confirmed; begin the enrollment first")
	t, err := s.store.GetTotp(ctx, a.ID, u.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, User{}, notPending.With(op, err)
	}
	if err != nil {
		return nil, User{}, err
	}
	if !t.Pending() {
		return nil, User{}, notPending
	}
	secret, err := s.openTotp(ctx, t)
	if err != nil {
		return nil, User{}, err
	}
	step, ok := matchTOTP(secret, code.Reveal(), s.clock(), 0)
	if !ok {
		return nil, User{}, invalidCode()
	}
	codes, err := otp.NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, User{}, apperr.Wrap(err, apperr.Internal, op)
	}
	hashes := make([]string, len(codes))
	out := make([]Secret, len(codes))
	for i, c := range codes {
		hashes[i], out[i] = s.codeHash(a, purposeRecovery, u.ID, c), Secret(c)
	}
	now := s.clock()
	err = s.store.InTx(ctx, func(tx Store) error {
		confirmed, err := tx.ConfirmTotp(ctx, a.ID, u.ID, t.SecretSealed, step, now)
		if err != nil {
			return err
		}
		if !confirmed { // replaced by a new Begin, or confirmed by a racing call
			return notPending
		}
		switched, err := tx.SwitchTwoFactor(ctx, a.ID, u.ID, TwoFactorNone, TwoFactorTOTP, now)
		if err != nil {
			return err
		}
		if !switched {
			return apperr.New(apperr.Precondition, apperr.ReasonTwoFactorAlreadyEnrolled, "two-step verification is already on")
		}
		if err := tx.PutRecoveryCodes(ctx, a.ID, u.ID, hashes, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: a.ID, Action: "user.2fa.enable", ActorID: u.ID, SubjectID: u.ID, IP: p.IP,
			Details: map[string]any{"method": string(TwoFactorTOTP)}})
	})
	if err != nil {
		return nil, User{}, err
	}
	u, err = s.store.GetUser(ctx, a.ID, u.ID)
	return out, u, err
}

// TotpQR returns the QR image of a pending enrollment from the link in its
// mail. Unknown, confirmed and expired links all read NotFound.
func (s *Service) TotpQR(ctx context.Context, appID string, token Secret) ([]byte, error) {
	const op = "identity.TotpQR"
	notFound := apperr.New(apperr.NotFound, apperr.ReasonNotFound, "this QR code link is not valid any more")
	a, err := s.activeApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, notFound
	}
	t, err := s.store.FindPendingTotpByQR(ctx, a.ID, otp.HashToken(token.Reveal()))
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound.With(op, err)
	}
	if err != nil {
		return nil, err
	}
	if !s.clock().Before(t.CreatedAt.Add(QRLinkTTL)) {
		return nil, notFound
	}
	u, err := s.store.GetUser(ctx, a.ID, t.UserID)
	if err != nil {
		return nil, err
	}
	secret, err := s.openTotp(ctx, t)
	if err != nil {
		return nil, err
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(raw) == 0 {
		return nil, apperr.Wrap(fmt.Errorf("stored secret is not base32: %v", err), apperr.Internal, op)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: totpIssuer(a), AccountName: totpAccount(u), Period: totpPeriod, Secret: raw,
		Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	png, err := qrPNG(key)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	return png, nil
}

// QRURL is the link to a pending enrollment's QR image.
func QRURL(publicURL, appID, token string) string {
	return Issuer(publicURL, appID) + "/totp-qr?token=" + url.QueryEscape(token)
}

// checkTOTP checks a code against the user's confirmed authenticator and
// returns its time step; a step already used reads as a wrong code.
func (s *Service) checkTOTP(ctx context.Context, a App, u User, code Secret) (int64, error) {
	t, err := s.store.GetTotp(ctx, a.ID, u.ID)
	if apperr.Is(err, apperr.NotFound) {
		return 0, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorNotEnrolled, "no authenticator is set up").With("identity.checkTOTP", err)
	}
	if err != nil {
		return 0, err
	}
	if t.Pending() {
		return 0, apperr.New(apperr.Precondition, apperr.ReasonTwoFactorNotEnrolled, "no authenticator is set up")
	}
	secret, err := s.openTotp(ctx, t)
	if err != nil {
		return 0, err
	}
	step, ok := matchTOTP(secret, code.Reveal(), s.clock(), t.LastStep)
	if !ok {
		return 0, invalidCode()
	}
	return step, nil
}

// useTotpStep spends a TOTP code's step through tx: of two requests with
// the same code, one wins and the other reads INVALID_CODE.
func (s *Service) useTotpStep(ctx context.Context, tx Store, a App, u User, step int64) error {
	won, err := tx.UseTotpStep(ctx, a.ID, u.ID, step)
	if err != nil {
		return err
	}
	if !won {
		return invalidCode()
	}
	return nil
}

// matchTOTP returns the time step, later than after, at which code is the
// secret's code, looking one step either side of now.
func matchTOTP(secret, code string, now time.Time, after int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step <= after {
			continue
		}
		if ok, err := hotp.ValidateCustom(code, uint64(step), secret, totpOpts); err == nil && ok {
			return step, true
		}
	}
	return 0, false
}

func (s *Service) openTotp(ctx context.Context, t TotpSecret) (string, error) {
	plain, err := s.secrets.Open(ctx, t.SecretSealed, totpAD(t.AppID, t.UserID))
	if err != nil {
		return "", sealErr("identity.openTotp", err)
	}
	return string(plain), nil
}

// sealErr maps a SecretBox failure: a remote box (Vault) may be down.
func sealErr(op string, err error) error {
	if apperr.KindOf(err) == apperr.Unavailable {
		return apperr.New(apperr.Unavailable, apperr.ReasonSignerUnavailable, "the secret store is unavailable; try again").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}

// totpIssuer is the name authenticator apps show: the app's label, or its
// name. A colon would split the otpauth label, so none is kept.
func totpIssuer(a App) string {
	issuer := a.Settings.AuthenticatorLabel
	if issuer == "" {
		issuer = a.Name
	}
	return strings.ReplaceAll(issuer, ":", "")
}

// totpAccount is the account authenticator apps show under the issuer: the
// user's handle.
func totpAccount(u User) string {
	for _, h := range []string{u.Email, u.UserName, u.ID} {
		if h != "" {
			return strings.ReplaceAll(h, ":", "")
		}
	}
	return ""
}

func qrPNG(key *potp.Key) ([]byte, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("qr image: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("qr png: %w", err)
	}
	return b.Bytes(), nil
}
