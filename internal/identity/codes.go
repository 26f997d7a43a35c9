package identity

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
)

// Code is a one-time code waiting to be used: a pending signup, a password
// reset, a phone verification. Only its hash is stored.
type Code struct {
	ID        string
	AppID     string
	Purpose   string // PurposeSignup, …
	Handle    string // who it was sent to (normalized email, phone)
	Hash      string
	Attempts  int
	Payload   []byte // purpose-specific JSON (a pending signup's password hash and metadata)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Code purposes.
const (
	PurposeSignup = "signup"
	PurposeReset  = "reset"
	PurposePhone  = "phone"
)

// One-time codes (signup, reset, phone) live in the Store's codes: newCode
// makes one (its message is queued in the same transaction), checkCode
// guesses at it, spendCode uses it up. The hash binds a code to its
// purpose, app and handle in one place for all of them.

// invalidCode is the answer to a wrong, unknown or already used code; the
// three read the same so a guesser learns nothing from the difference.
func invalidCode() error {
	return apperr.Fields(apperr.ReasonInvalidCode, []apperr.Violation{{Field: "code", Description: "is not valid"}})
}

// codeHash hashes a code for purpose and handle (an email, a user id, a
// login token id) under the server pepper, bound to the app.
func (s *Service) codeHash(a App, purpose, handle, code string) string {
	return s.codes.Hash(purpose, a.ID+":"+handle, code)
}

// codeMatches compares a guess with a hash codeHash made, in constant time.
func (s *Service) codeMatches(a App, purpose, handle, hash string, guess Secret) bool {
	return s.codes.Equal(hash, purpose, a.ID+":"+handle, guess.Reveal())
}

// newCode makes a fresh code for purpose and handle, valid for ttl, and
// returns the row to store (with payload) and the code to send.
func (s *Service) newCode(a App, purpose, handle string, ttl time.Duration, payload []byte) (Code, string, error) {
	code, err := otp.NewCode()
	if err != nil {
		return Code{}, "", apperr.Wrap(err, apperr.Internal, "identity.newCode")
	}
	now := s.clock()
	return Code{
		ID: newID(), AppID: a.ID, Purpose: purpose, Handle: handle, Hash: s.codeHash(a, purpose, handle, code),
		Payload: payload, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}, code, nil
}

// spendCode uses pc up inside tx; a concurrent request that used it first
// makes this one INVALID_CODE, so a code completes one request only.
func spendCode(ctx context.Context, tx Store, pc Code) error {
	won, err := tx.ConsumeCode(ctx, pc.AppID, pc.ID)
	if err != nil {
		return err
	}
	if !won {
		return invalidCode()
	}
	return nil
}
