package identity

import (
	"context"
	"time"
)

// TwoFactorStore is the persistence of second factors and phones. Every
// method is scoped by app; errors are as Store's.
type TwoFactorStore interface {
	// PutPendingTotp stores t as the user's pending enrollment, replacing a
	// pending one. Exists when the user has a confirmed secret.
	PutPendingTotp(ctx context.Context, t TotpSecret) error
	// GetTotp returns the user's secret, pending or confirmed.
	GetTotp(ctx context.Context, appID, userID string) (TotpSecret, error)
	// FindPendingTotpByQR returns the pending enrollment whose QR token
	// hashes to qrHash.
	FindPendingTotpByQR(ctx context.Context, appID, qrHash string) (TotpSecret, error)
	// ConfirmTotp marks the pending secret sealed as secretSealed confirmed
	// at now with step as its last step, and reports whether this caller
	// did (false: it was confirmed or replaced meanwhile).
	ConfirmTotp(ctx context.Context, appID, userID string, secretSealed []byte, step int64, now time.Time) (bool, error)
	// UseTotpStep records step as used if it is later than the last used
	// one, and reports whether this caller did: a code works once.
	UseTotpStep(ctx context.Context, appID, userID string, step int64) (bool, error)
	// DeleteTwoFactor removes the user's TOTP secret, recovery codes and
	// login tokens.
	DeleteTwoFactor(ctx context.Context, appID, userID string) error

	// PutRecoveryCodes replaces the user's recovery codes with hashes.
	PutRecoveryCodes(ctx context.Context, appID, userID string, hashes []string, now time.Time) error
	// ConsumeRecoveryCode deletes the user's code with hash and reports
	// whether this caller did (at most one caller ever gets true).
	ConsumeRecoveryCode(ctx context.Context, appID, userID, hash string) (bool, error)
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, appID, userID string) (int, error)

	// CreateLoginToken stores t, first dropping the user's expired tokens.
	CreateLoginToken(ctx context.Context, t LoginToken) error
	FindLoginToken(ctx context.Context, appID, hash string) (LoginToken, error)
	// SpendLoginAttempt counts one attempt at the token if fewer than max
	// were made, atomically, and reports whether it did. NotFound when the
	// token is gone.
	SpendLoginAttempt(ctx context.Context, appID, id string, max int) (bool, error)
	// ConsumeLoginToken deletes the token and reports whether this caller did.
	ConsumeLoginToken(ctx context.Context, appID, id string) (bool, error)

	// SetUserPhone sets the user's phone and whether it is verified. Exists
	// when another user of the app has verified the number.
	SetUserPhone(ctx context.Context, appID, userID, phone string, verified bool, now time.Time) error
	// FindUserByVerifiedPhone returns the user of the app who verified phone.
	FindUserByVerifiedPhone(ctx context.Context, appID, phone string) (User, error)
	// SwitchTwoFactor sets the user's second factor to to if it is from
	// ("" matches any) and reports whether it did.
	SwitchTwoFactor(ctx context.Context, appID, userID string, from, to TwoFactorMethod, now time.Time) (bool, error)
}
