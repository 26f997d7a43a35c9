package identity

import (
	"context"
	"net/url"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// LoginAnonymous creates a user with no email or password and signs them
// in, where the app allows it. The app can later turn them into an email
// account with SignUp called with their token; the id stays the same, so
// data stored under it stays theirs.
func (s *Service) LoginAnonymous(ctx context.Context, c Caller) (_ SessionTokens, err error) {
	defer func() { s.countLogin(MethodAnonymous, false, err) }()
	a, err := s.activeApp(ctx, c.AppID)
	if err != nil {
		return SessionTokens{}, err
	}
	if !a.Settings.AnonymousLoginEnabled {
		return SessionTokens{}, apperr.New(apperr.Precondition, apperr.ReasonAnonymousDisabled, "anonymous sign-in is disabled for this application")
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitSignupIP), c.IP)); err != nil {
		return SessionTokens{}, err
	}
	_, sess, err := s.createUser(ctx, c, a, User{Anonymous: true, Locale: a.Settings.Locales[0]}, "", "user.anonymous.create")
	return sess, err
}

// upgradeAnonymous turns an anonymous user into an email account in one
// transaction (after first, if any) and opens a session with the new claims.
func (s *Service) upgradeAnonymous(ctx context.Context, c Caller, a App, anon User, email, hash string, md map[string]any, locale string, first func(Store) error) (SessionTokens, error) {
	now := s.clock()
	u := anon
	u.Email, u.Anonymous, u.HasPassword, u.Metadata, u.Locale, u.UpdatedAt = email, false, true, md, locale, now
	sess, err := s.signIn(ctx, c, a, u, "user.anonymous.upgrade", func(tx Store) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.SetPasswordHash(ctx, a.ID, u.ID, hash, now)
	})
	if apperr.Is(err, apperr.Exists) {
		return SessionTokens{}, apperr.New(apperr.Exists, apperr.ReasonAlreadyExists, "an account with this email already exists; sign in instead")
	}
	return sess, err
}

// SignupLink is the landing-page link a signup-link mail carries.
func (s *Service) SignupLink(appID, email, code string) string {
	q := url.Values{"handle": {email}, "code": {code}}
	return Issuer(s.cfg.PublicURL, appID) + "/signup/confirm?" + q.Encode()
}
