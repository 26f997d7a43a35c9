package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

var _ identity.TwoFactorStore = (*Store)(nil)

type totpRow struct {
	bun.BaseModel `bun:"table:totp_secrets,alias:ts"`

	UserID       string    `bun:"user_id,pk"`
	AppID        string    `bun:"app_id"`
	SecretSealed []byte    `bun:"secret_sealed"`
	QRTokenHash  string    `bun:"qr_token_hash,nullzero"`
	LastStep     int64     `bun:"last_step"`
	CreatedAt    time.Time `bun:"created_at,nullzero"`
	ConfirmedAt  time.Time `bun:"confirmed_at,nullzero"`
}

func (r totpRow) secret() identity.TotpSecret {
	return identity.TotpSecret{
		AppID: r.AppID, UserID: r.UserID, SecretSealed: r.SecretSealed, QRTokenHash: r.QRTokenHash,
		LastStep: r.LastStep, CreatedAt: utc(r.CreatedAt), ConfirmedAt: utc(r.ConfirmedAt),
	}
}

type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	ID        string    `bun:"id,pk"`
	AppID     string    `bun:"app_id"`
	UserID    string    `bun:"user_id"`
	Hash      string    `bun:"hash"`
	CreatedAt time.Time `bun:"created_at,nullzero"`
}

type loginTokenRow struct {
	bun.BaseModel `bun:"table:login_tokens,alias:lt"`

	ID        string    `bun:"id,pk"`
	AppID     string    `bun:"app_id"`
	UserID    string    `bun:"user_id"`
	Hash      string    `bun:"hash"`
	Method    string    `bun:"method"`
	CodeHash  string    `bun:"code_hash"`
	Attempts  int       `bun:"attempts"`
	CreatedAt time.Time `bun:"created_at,nullzero"`
	ExpiresAt time.Time `bun:"expires_at,nullzero"`
}

func (r loginTokenRow) token() identity.LoginToken {
	return identity.LoginToken{
		ID: r.ID, AppID: r.AppID, UserID: r.UserID, Hash: r.Hash, Method: identity.TwoFactorMethod(r.Method),
		CodeHash: r.CodeHash, Attempts: r.Attempts, CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt),
	}
}

// PutPendingTotp stores a pending enrollment in one statement: it replaces
// a pending row of the user and leaves a confirmed one alone (Exists).
// NotFound when the user does not exist.
func (s *Store) PutPendingTotp(ctx context.Context, t identity.TotpSecret) error {
	const op = "store.PutPendingTotp"
	row := totpRow{
		UserID: t.UserID, AppID: t.AppID, SecretSealed: t.SecretSealed, QRTokenHash: t.QRTokenHash,
		CreatedAt: utc(t.CreatedAt),
	}
	res, err := s.idb.NewInsert().Model(&row).
		On("CONFLICT (user_id) DO UPDATE").
		Set("secret_sealed = EXCLUDED.secret_sealed").
		Set("qr_token_hash = EXCLUDED.qr_token_hash").
		Set("last_step = 0").
		Set("created_at = EXCLUDED.created_at").
		Where("ts.confirmed_at IS NULL AND ts.app_id = EXCLUDED.app_id").
		Exec(ctx)
	ok, err := changed(res, err, op)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Wrap(errConfirmed, apperr.Exists, op)
	}
	return nil
}

var errConfirmed = errors.New("the user has a confirmed authenticator")

// GetTotp returns the user's secret, pending or confirmed.
func (s *Store) GetTotp(ctx context.Context, appID, userID string) (identity.TotpSecret, error) {
	var row totpRow
	err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND user_id = ?", appID, userID).Scan(ctx)
	if err != nil {
		return identity.TotpSecret{}, wrap(err, "store.GetTotp")
	}
	return row.secret(), nil
}

// FindPendingTotpByQR returns the pending enrollment whose QR token hashes
// to qrHash.
func (s *Store) FindPendingTotpByQR(ctx context.Context, appID, qrHash string) (identity.TotpSecret, error) {
	var row totpRow
	err := s.idb.NewSelect().Model(&row).
		Where("app_id = ? AND qr_token_hash = ? AND confirmed_at IS NULL", appID, qrHash).
		Scan(ctx)
	if err != nil {
		return identity.TotpSecret{}, wrap(err, "store.FindPendingTotpByQR")
	}
	return row.secret(), nil
}

// ConfirmTotp confirms the pending secret if it is still the one sealed
// as secretSealed, and drops its QR token, in one statement.
func (s *Store) ConfirmTotp(ctx context.Context, appID, userID string, secretSealed []byte, step int64, now time.Time) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*totpRow)(nil)).
		Set("confirmed_at = ?", now.UTC()).
		Set("last_step = ?", step).
		Set("qr_token_hash = NULL").
		Where("app_id = ? AND user_id = ? AND confirmed_at IS NULL AND secret_sealed = ?", appID, userID, secretSealed).
		Exec(ctx)
	return changed(res, err, "store.ConfirmTotp")
}

// UseTotpStep moves last_step forward to step in one statement; of
// concurrent callers with the same step, one wins.
func (s *Store) UseTotpStep(ctx context.Context, appID, userID string, step int64) (bool, error) {
	res, err := s.idb.NewUpdate().Model((*totpRow)(nil)).
		Set("last_step = ?", step).
		Where("app_id = ? AND user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?", appID, userID, step).
		Exec(ctx)
	return changed(res, err, "store.UseTotpStep")
}

// DeleteTwoFactor removes the user's secret, recovery codes and login tokens.
func (s *Store) DeleteTwoFactor(ctx context.Context, appID, userID string) error {
	const op = "store.DeleteTwoFactor"
	for _, model := range []any{(*totpRow)(nil), (*recoveryCodeRow)(nil), (*loginTokenRow)(nil)} {
		if _, err := s.idb.NewDelete().Model(model).Where("app_id = ? AND user_id = ?", appID, userID).Exec(ctx); err != nil {
			return wrap(err, op)
		}
	}
	return nil
}

// PutRecoveryCodes replaces the user's recovery codes. Run it in a
// transaction: it deletes, then inserts.
func (s *Store) PutRecoveryCodes(ctx context.Context, appID, userID string, hashes []string, now time.Time) error {
	const op = "store.PutRecoveryCodes"
	if _, err := s.idb.NewDelete().Model((*recoveryCodeRow)(nil)).Where("app_id = ? AND user_id = ?", appID, userID).Exec(ctx); err != nil {
		return wrap(err, op)
	}
	if len(hashes) == 0 {
		return nil
	}
	rows := make([]recoveryCodeRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCodeRow{ID: uuid.Must(uuid.NewV7()).String(), AppID: appID, UserID: userID, Hash: h, CreatedAt: now.UTC()}
	}
	_, err := s.idb.NewInsert().Model(&rows).Exec(ctx)
	return wrap(err, op)
}

// ConsumeRecoveryCode deletes the matching code; one caller wins.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, appID, userID, hash string) (bool, error) {
	res, err := s.idb.NewDelete().Model((*recoveryCodeRow)(nil)).
		Where("app_id = ? AND user_id = ? AND hash = ?", appID, userID, hash).
		Exec(ctx)
	return changed(res, err, "store.ConsumeRecoveryCode")
}

// CountRecoveryCodes returns how many unused codes the user has.
func (s *Store) CountRecoveryCodes(ctx context.Context, appID, userID string) (int, error) {
	n, err := s.idb.NewSelect().Model((*recoveryCodeRow)(nil)).
		Where("app_id = ? AND user_id = ?", appID, userID).
		Count(ctx)
	return n, wrap(err, "store.CountRecoveryCodes")
}

// CreateLoginToken stores t after deleting the user's expired tokens, so
// they do not pile up.
func (s *Store) CreateLoginToken(ctx context.Context, t identity.LoginToken) error {
	const op = "store.CreateLoginToken"
	_, err := s.idb.NewDelete().Model((*loginTokenRow)(nil)).
		Where("app_id = ? AND user_id = ? AND expires_at <= ?", t.AppID, t.UserID, t.CreatedAt.UTC()).
		Exec(ctx)
	if err != nil {
		return wrap(err, op)
	}
	row := loginTokenRow{
		ID: t.ID, AppID: t.AppID, UserID: t.UserID, Hash: t.Hash, Method: string(t.Method), CodeHash: t.CodeHash,
		Attempts: t.Attempts, CreatedAt: utc(t.CreatedAt), ExpiresAt: utc(t.ExpiresAt),
	}
	_, err = s.idb.NewInsert().Model(&row).Exec(ctx)
	return wrap(err, op)
}

// FindLoginToken returns the token of the app whose hash is hash, expired or not.
func (s *Store) FindLoginToken(ctx context.Context, appID, hash string) (identity.LoginToken, error) {
	var row loginTokenRow
	err := s.idb.NewSelect().Model(&row).Where("app_id = ? AND hash = ?", appID, hash).Scan(ctx)
	if err != nil {
		return identity.LoginToken{}, wrap(err, "store.FindLoginToken")
	}
	return row.token(), nil
}

// SpendLoginAttempt counts an attempt in one statement, as SpendCodeAttempt.
func (s *Store) SpendLoginAttempt(ctx context.Context, appID, id string, max int) (bool, error) {
	const op = "store.SpendLoginAttempt"
	res, err := s.idb.NewUpdate().Model((*loginTokenRow)(nil)).
		Set("attempts = attempts + 1").
		Where("app_id = ? AND id = ? AND attempts < ?", appID, id, max).
		Exec(ctx)
	ok, err := changed(res, err, op)
	if ok || err != nil {
		return ok, err
	}
	return false, s.mustExist(ctx, op, (*loginTokenRow)(nil), appID, id)
}

// ConsumeLoginToken deletes the token; one caller wins.
func (s *Store) ConsumeLoginToken(ctx context.Context, appID, id string) (bool, error) {
	res, err := s.idb.NewDelete().Model((*loginTokenRow)(nil)).Where("app_id = ? AND id = ?", appID, id).Exec(ctx)
	return changed(res, err, "store.ConsumeLoginToken")
}

// SetUserPhone sets the phone columns alone, so it never undoes a
// concurrent change to the rest of the profile. Exists when another user of
// the app verified the number (a unique index decides races).
func (s *Store) SetUserPhone(ctx context.Context, appID, userID, phone string, verified bool, now time.Time) error {
	res, err := s.idb.NewUpdate().Model((*userRow)(nil)).
		Set("phone = ?", phone).
		Set("phone_verified = ?", verified).
		Set("updated_at = ?", now.UTC()).
		Where("app_id = ? AND id = ?", appID, userID).
		Exec(ctx)
	return oneRow(res, err, "store.SetUserPhone")
}

// FindUserByVerifiedPhone returns the user of the app who verified phone.
func (s *Store) FindUserByVerifiedPhone(ctx context.Context, appID, phone string) (identity.User, error) {
	return s.findUser(ctx, "store.FindUserByVerifiedPhone", appID, "phone_verified AND phone = $2", phone)
}

// SwitchTwoFactor compares and sets the user's second factor in one
// statement.
func (s *Store) SwitchTwoFactor(ctx context.Context, appID, userID string, from, to identity.TwoFactorMethod, now time.Time) (bool, error) {
	q := s.idb.NewUpdate().Model((*userRow)(nil)).
		Set("two_factor = ?", string(to)).
		Set("updated_at = ?", now.UTC()).
		Where("app_id = ? AND id = ?", appID, userID)
	if from != "" {
		q = q.Where("two_factor = ?", string(from))
	}
	res, err := q.Exec(ctx)
	return changed(res, err, "store.SwitchTwoFactor")
}
