package identity

import (
	"context"
	"fmt"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/otp"
)

// secondFactor returns a challenge when u must pass a second factor to
// sign in to a, or nil when the password (or ID token) is enough. Every
// sign-in path calls it before signIn.
//
// A user is challenged with the factor they enrolled while the app asks
// for any second factor: switching the app from totp to sms does not
// silently drop its users' authenticators; switching it to none does. For
// SMS the code is texted now, against the per-number, per-IP and per-app
// caps; a failed text leaves no challenge behind.
func (s *Service) secondFactor(ctx context.Context, c Caller, a App, u User) (*Challenge, error) {
	const op = "identity.secondFactor"
	if a.Settings.TwoFactor == TwoFactorNone || u.TwoFactor == TwoFactorNone {
		return nil, nil
	}
	raw, err := otp.NewToken(32)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, op)
	}
	now := s.clock()
	lt := LoginToken{
		ID: newID(), AppID: a.ID, UserID: u.ID, Hash: otp.HashToken(raw), Method: u.TwoFactor,
		CreatedAt: now, ExpiresAt: now.Add(LoginTokenTTL),
	}
	ch := &Challenge{LoginToken: Secret(raw), Method: u.TwoFactor, ExpiresAt: lt.ExpiresAt}
	switch u.TwoFactor {
	case TwoFactorTOTP:
		if err := s.store.CreateLoginToken(ctx, lt); err != nil {
			return nil, err
		}
		return ch, nil
	case TwoFactorSMS:
		if !u.PhoneVerified || u.Phone == "" {
			return nil, apperr.New(apperr.Precondition, apperr.ReasonPhoneNotVerified, "the account's phone is not verified; ask the developer to reset two-step verification")
		}
		route, err := s.smsRoute(ctx, a, true)
		if err != nil {
			return nil, err
		}
		if err := s.smsCaps(ctx, c, a, u.Phone); err != nil {
			return nil, err
		}
		code, err := otp.NewCode()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, op)
		}
		lt.CodeHash = s.codeHash(a, purposeLoginSMS, lt.ID, code)
		if err := s.store.CreateLoginToken(ctx, lt); err != nil {
			return nil, err
		}
		if err := s.textCode(ctx, a, route, u.Locale, u.Phone, code, LoginTokenTTL); err != nil {
			if _, derr := s.store.ConsumeLoginToken(ctx, a.ID, lt.ID); derr != nil {
				s.log.WarnContext(ctx, "could not discard an unsent login code", "err", derr)
			}
			return nil, err
		}
		ch.PhoneHint = phoneHint(u.Phone)
		return ch, nil
	}
	return nil, apperr.Wrap(errUnknownMethod(u.TwoFactor), apperr.Internal, op)
}

func errUnknownMethod(m TwoFactorMethod) error {
	return fmt.Errorf("unknown second factor %q", m)
}
