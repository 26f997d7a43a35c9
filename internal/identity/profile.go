package identity

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// userNameRE is what a user name may be: letters and digits, starting with
// a letter (as CosyncJWT had it), at most 64 characters.
var userNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,63}$`)

// SetUserMetadata changes the user-editable metadata fields present in md
// and keeps the rest. A field that is not user-editable is refused by name.
func (s *Service) SetUserMetadata(ctx context.Context, p Principal, md map[string]any) (User, error) {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	fields := append(slices.Clone(a.Settings.SignupMetadataFields), a.Settings.InviteMetadataFields...)
	clean, err := checkMetadata(fields, md, false)
	if err != nil {
		return User{}, err
	}
	var vs []apperr.Violation
	for _, f := range fields {
		if _, given := lookupPath(clean, f.Path); given && !f.UserEditable {
			vs = append(vs, apperr.Violation{Field: "metadata." + f.Path, Description: "is not editable by the user"})
		}
	}
	if err := apperr.Fields(apperr.ReasonMetadataNotEditable, vs); err != nil {
		return User{}, err
	}
	next := cloneMap(u.Metadata)
	for _, f := range fields {
		if v, ok := lookupPath(clean, f.Path); ok {
			setPath(next, f.Path, v)
		}
	}
	u.Metadata = next
	return s.updateUser(ctx, p, u, "user.metadata.update")
}

// SetUserName sets the user's name, once. Names are unique per app
// ignoring case; the case the user typed is kept.
func (s *Service) SetUserName(ctx context.Context, p Principal, name string) (User, error) {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	if !a.Settings.UserNamesEnabled {
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonUserNamesDisabled, "this application does not use user names")
	}
	if !userNameRE.MatchString(name) {
		return User{}, apperr.Field("user_name", "must be letters and digits, starting with a letter")
	}
	if u.UserName != "" {
		return User{}, apperr.New(apperr.Precondition, apperr.ReasonUserNameAlreadySet, "the user name is already set")
	}
	u.UserName = name
	u, err = s.updateUser(ctx, p, u, "user.user_name.set")
	if apperr.Is(err, apperr.Exists) {
		return User{}, apperr.Fields(apperr.ReasonUserNameTaken, []apperr.Violation{{Field: "user_name", Description: "is taken"}})
	}
	return u, err
}

// CheckUserName says whether a user name is free in the app.
func (s *Service) CheckUserName(ctx context.Context, p Principal, name string) (bool, error) {
	a, _, err := s.principalUser(ctx, p)
	if err != nil {
		return false, err
	}
	if !a.Settings.UserNamesEnabled {
		return false, apperr.New(apperr.Precondition, apperr.ReasonUserNamesDisabled, "this application does not use user names")
	}
	if !userNameRE.MatchString(name) {
		return false, apperr.Field("user_name", "must be letters and digits, starting with a letter")
	}
	_, err = s.store.FindUserByUserName(ctx, a.ID, name)
	if apperr.Is(err, apperr.NotFound) {
		return true, nil
	}
	return false, err
}

// SetLocale picks one of the app's locales for the user's mail.
func (s *Service) SetLocale(ctx context.Context, p Principal, locale string) (User, error) {
	a, u, err := s.principalUser(ctx, p)
	if err != nil {
		return User{}, err
	}
	if !slices.Contains(a.Settings.Locales, locale) {
		return User{}, apperr.Fields(apperr.ReasonLocaleUnsupported, []apperr.Violation{{Field: "locale",
			Description: fmt.Sprintf("%q is not one of this application's locales (%s)", locale, strings.Join(a.Settings.Locales, ", "))}})
	}
	u.Locale = locale
	return s.updateUser(ctx, p, u, "user.locale.set")
}

// updateUser stores a changed profile with its audit event.
func (s *Service) updateUser(ctx context.Context, p Principal, u User, action string) (User, error) {
	u.UpdatedAt = s.clock()
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: u.AppID, Action: action, ActorID: p.UserID, SubjectID: u.ID, IP: p.IP})
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// cloneMap deep-copies a JSON object.
func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = cloneMap(sub)
		}
		out[k] = v
	}
	return out
}
