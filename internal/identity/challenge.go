package identity

import (
	"context"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// secondFactor returns a challenge when u must pass a second factor to
// sign in to a, or nil when the password (or ID token) is enough. Every
// sign-in path calls it before signIn.
func (s *Service) secondFactor(_ context.Context, _ Caller, a App, u User) (*Challenge, error) {
	if a.Settings.TwoFactor == TwoFactorNone || u.TwoFactor == TwoFactorNone {
		return nil, nil
	}
	// Users cannot enroll a factor until TOTP and SMS land; refuse rather than skip one.
	return nil, apperr.New(apperr.Unimplemented, ReasonNotImplemented, "second factors are planned")
}
