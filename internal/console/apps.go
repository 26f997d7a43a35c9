package console

import (
	"context"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// EnsureConsoleApp creates the console application and its key on first start.
func (s *Service) EnsureConsoleApp(ctx context.Context) error {
	_, err := s.store.GetApp(ctx, identity.ConsoleAppID)
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		return err
	}
	err = s.createApp(ctx, identity.App{ID: identity.ConsoleAppID, Name: "CoSync Console", Settings: identity.ConsoleSettings()}, "", "")
	if apperr.Is(err, apperr.Exists) { // another replica won the race
		return nil
	}
	return err
}

// CreateApp creates an application, its first signing key, and the
// developer as owner. Its settings are identity.DefaultSettings with what the
// developer chose laid over them by choose (the transport's translation of
// the request; nil keeps the defaults).
func (s *Service) CreateApp(ctx context.Context, d identity.Developer, name string, choose func(defaults identity.AppSettings) identity.AppSettings, twilioToken identity.Secret) (identity.MemberApp, error) {
	if d.APIKeyID != "" || d.ID == "" {
		return identity.MemberApp{}, apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "an API key acts in its own application; developers create applications")
	}
	id := newID()
	settings := identity.DefaultSettings()
	if choose != nil {
		settings = choose(settings)
	}
	if err := s.sealTwilio(ctx, id, &settings, twilioToken); err != nil {
		return identity.MemberApp{}, err
	}
	a := identity.App{ID: id, Name: strings.TrimSpace(name), Settings: settings}
	if a.Name == "" {
		return identity.MemberApp{}, apperr.Field("name", "must not be blank")
	}
	if err := s.createApp(ctx, a, d.ID, d.IP); err != nil {
		return identity.MemberApp{}, err
	}
	return s.member(ctx, d, a.ID, identity.RoleViewer)
}

// createApp stores a new app with its first key (and owner, if any) in one
// transaction. The key is made first: a Vault key left by a failed insert is
// harmless, a stored app without a key is not.
func (s *Service) createApp(ctx context.Context, a identity.App, ownerID, ip string) error {
	const op = "console.CreateApp"
	if err := s.validate(a.Settings); err != nil {
		return err
	}
	now := s.clock()
	a.CreatedAt, a.UpdatedAt = now, now
	rec, err := s.keys.Generate(ctx, a.ID)
	if err != nil {
		return keyErr(op, err)
	}
	rec.CreatedAt = now // the service's clock, which rotation compares it with
	err = s.store.InTx(ctx, func(tx Store) error {
		if err := tx.CreateApp(ctx, a); err != nil {
			return err
		}
		if err := tx.CreateSigningKey(ctx, rec); err != nil {
			return err
		}
		if ownerID != "" {
			if err := tx.PutMember(ctx, identity.Member{AppID: a.ID, DeveloperID: ownerID, Role: identity.RoleOwner, CreatedAt: now}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: a.ID, Action: "app.create", ActorID: ownerID, SubjectID: a.ID, IP: ip})
	})
	s.keys.Invalidate(a.ID)
	return err
}

// ListApps lists the developer's apps by id, after the id `after`; with
// all, an operator lists every app (OPERATOR_ONLY for anyone else). An
// API key lists its one app.
func (s *Service) ListApps(ctx context.Context, d identity.Developer, all bool, after string, limit int) ([]identity.MemberApp, error) {
	switch {
	case all && !d.Operator:
		return nil, apperr.New(apperr.Permission, apperr.ReasonOperatorOnly, "only an operator lists every application")
	case all:
		return s.store.ListAllApps(ctx, d.ID, after, limit)
	case d.APIKeyID != "":
		if d.KeyAppID <= after {
			return nil, nil
		}
		m, err := s.member(ctx, d, d.KeyAppID, identity.RoleViewer)
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []identity.MemberApp{m}, nil
	}
	return s.store.ListMemberApps(ctx, d.ID, after, limit)
}

// GetApp returns one of the developer's apps.
func (s *Service) GetApp(ctx context.Context, d identity.Developer, appID string) (identity.MemberApp, error) {
	return s.member(ctx, d, appID, identity.RoleViewer)
}

// AppChange is the new state of an app after an update.
type AppChange struct {
	Name     string
	Settings identity.AppSettings
	// TwilioAuthToken, when set, replaces the stored (sealed) token.
	TwilioAuthToken identity.Secret
}

// UpdateApp applies change to the app as it is now and stores the result.
// It reads the app and writes it back in one transaction that holds the
// app (GetAppForUpdate), so change patches the fresh row: two concurrent
// updates of different fields both stay. change computes the new state from
// the current one (the transport applies its field mask there) and may run
// more than once in future; it must not have side effects.
func (s *Service) UpdateApp(ctx context.Context, d identity.Developer, appID string, change func(identity.App) (AppChange, error)) (identity.MemberApp, error) {
	m, err := s.member(ctx, d, appID, identity.RoleAdmin)
	if err != nil {
		return identity.MemberApp{}, err
	}
	var next identity.App
	err = s.store.InTx(ctx, func(tx Store) error {
		cur, err := tx.GetAppForUpdate(ctx, appID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.NotFound, apperr.ReasonAppNotFound, "no application with that id").With("console.UpdateApp", err)
		}
		if err != nil {
			return err
		}
		ch, err := change(cur)
		if err != nil {
			return err
		}
		next = cur
		next.Name, next.Settings = strings.TrimSpace(ch.Name), ch.Settings
		if next.Name == "" {
			return apperr.Field("name", "must not be blank")
		}
		if err := s.sealTwilio(ctx, appID, &next.Settings, ch.TwilioAuthToken); err != nil {
			return err
		}
		if err := s.validate(next.Settings); err != nil {
			return err
		}
		next.UpdatedAt = s.clock()
		if err := tx.UpdateApp(ctx, next); err != nil {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: appID, Action: "app.update", ActorID: d.ActorID(), SubjectID: appID, IP: d.IP})
	})
	if err != nil {
		return identity.MemberApp{}, err
	}
	return identity.MemberApp{App: next, Role: m.Role}, nil
}

// sealTwilio checks an app's Twilio settings and seals a new auth token
// (tok, when set) for storage, bound to the app: a sealed token copied
// onto another app does not open. Developers see only its hint.
func (s *Service) sealTwilio(ctx context.Context, appID string, st *identity.AppSettings, tok identity.Secret) error {
	if err := identity.CheckTwilio(st.Twilio, tok); err != nil {
		return err
	}
	if tok == "" {
		return nil
	}
	sealed, err := s.secrets.Seal(ctx, []byte(tok.Reveal()), identity.TwilioTokenAssociatedData(appID))
	if err != nil {
		return sealErr("console.sealTwilio", err)
	}
	st.Twilio.AuthTokenSealed, st.Twilio.AuthTokenHint = sealed, twilioHint(tok)
	return nil
}

// secretHintPrefix starts the hint developers see in place of a secret
// they set (the Twilio auth token, the CosyncJWT app token).
const secretHintPrefix = "****"

// twilioHint is what developers see of a Twilio auth token: its last four
// characters behind the prefix.
func twilioHint(tok identity.Secret) string {
	t := tok.Reveal()
	return secretHintPrefix + t[max(0, len(t)-4):]
}

// NewTwilioToken returns the Twilio auth token a developer typed, or ""
// when s is empty or is the hint they were shown (sent back unchanged by a
// form), which never replaces the stored token.
func NewTwilioToken(s string) identity.Secret {
	if s == "" || strings.HasPrefix(s, secretHintPrefix) {
		return ""
	}
	return identity.Secret(s)
}

// CosyncJWTSettings returns an app's CosyncJWT drop-in settings after a
// developer sent appToken: empty removes the token, the hint they were
// shown keeps the stored one, anything else is a new token, kept only as
// its hash and a hint.
func CosyncJWTSettings(prev identity.CosyncJWTSettings, appToken string, md5Prehashed bool) identity.CosyncJWTSettings {
	out := identity.CosyncJWTSettings{MD5PrehashedPasswords: md5Prehashed}
	switch {
	case appToken == "":
	case appToken == prev.AppTokenHint:
		out.AppTokenHash, out.AppTokenHint = prev.AppTokenHash, prev.AppTokenHint
	default:
		out.AppTokenHash, out.AppTokenHint = identity.CosyncJWTTokenHash(appToken), secretHintPrefix+appToken[max(0, len(appToken)-4):]
	}
	return out
}

// DeleteApp deletes an app and everything in it. Owners only; never the console.
func (s *Service) DeleteApp(ctx context.Context, d identity.Developer, appID string) error {
	if _, err := s.member(ctx, d, appID, identity.RoleOwner); err != nil {
		return err
	}
	if appID == identity.ConsoleAppID {
		return apperr.New(apperr.Precondition, apperr.ReasonBuiltinApp, "the console application cannot be deleted")
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.DeleteApp(ctx, appID); err != nil {
			return err
		}
		// The app's own audit rows go with it; the deletion is recorded in the console's.
		return s.audit(ctx, tx, identity.AuditEvent{AppID: identity.ConsoleAppID, Action: "app.delete", ActorID: d.ActorID(), SubjectID: appID, IP: d.IP})
	})
	s.keys.Invalidate(appID)
	return err
}

// Outbox lists the dev outbox of an app, newest first.
func (s *Service) Outbox(ctx context.Context, d identity.Developer, appID string, limit int) ([]identity.OutboxMessage, error) {
	if _, err := s.member(ctx, d, appID, identity.RoleViewer); err != nil {
		return nil, err
	}
	if s.outbox == nil {
		return nil, apperr.New(apperr.Precondition, apperr.ReasonOutboxDisabled, "mail goes out over SMTP; there is no dev outbox")
	}
	return s.outbox.List(ctx, appID, limit)
}
