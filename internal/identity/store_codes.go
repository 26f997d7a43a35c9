package identity

import (
	"context"
)

// Codes is the persistence of one-time codes (stored hashed).
type Codes interface {
	// PutCode stores c, replacing any code with the same app, purpose and handle.
	PutCode(ctx context.Context, c Code) error
	// FindCode returns the code for app, purpose and handle, expired or
	// not (the caller tells them apart); NotFound if there is none.
	FindCode(ctx context.Context, appID, purpose, handle string) (Code, error)
	// SpendCodeAttempt atomically counts one attempt at the code if fewer
	// than max have been made, and reports whether this attempt may be
	// checked. Concurrent callers never get more than max trues in total.
	// NotFound when the code was used or replaced meanwhile.
	SpendCodeAttempt(ctx context.Context, appID, codeID string, max int) (bool, error)
	// ConsumeCode deletes the code and reports whether this caller did (at
	// most one caller ever gets true).
	ConsumeCode(ctx context.Context, appID, codeID string) (bool, error)
	// ListCodes returns up to limit of an app's codes for purpose, newest
	// first by id, after the id `after` (empty: from the newest); codes
	// without a hash (decoys) are left out.
	ListCodes(ctx context.Context, appID, purpose, after string, limit int) ([]Code, error)
	// GetCode returns the code id of the app; NotFound if there is none.
	GetCode(ctx context.Context, appID, id string) (Code, error)
	// RenewCode gives the code id c's hash and dates with no attempts
	// spent, keeping its id, and reports whether this caller did (false:
	// the code was used or replaced meanwhile).
	RenewCode(ctx context.Context, appID, id string, c Code) (bool, error)
}
