package console

// Server-wide and developer-wide switches: the console's own settings
// (COSYNC_DEVELOPER_SIGNUP, COSYNC_DEVELOPER_REQUIRE_2FA) and SetGlobalSwitches, CosyncJWT's "turn
// signup off everywhere" for a developer's apps.

import (
	"context"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// ConsoleConfig is what the server settings decide about the console app.
type ConsoleConfig struct {
	DeveloperSignup bool // COSYNC_DEVELOPER_SIGNUP: the console's signup switch follows it
	// RequireTwoFactor (COSYNC_DEVELOPER_REQUIRE_2FA) needs a way to enroll:
	// a console without a second-factor method gets authenticator apps.
	RequireTwoFactor bool
}

// ConfigureConsole makes the console app follow the server settings
// (called at start, after EnsureConsoleApp). A change is audited; an
// unchanged app writes nothing, so replicas starting together do not
// contend.
func (s *Service) ConfigureConsole(ctx context.Context, c ConsoleConfig) error {
	next := func(a identity.App) (identity.App, bool) {
		st := a.Settings
		st.SignupEnabled = c.DeveloperSignup
		if c.RequireTwoFactor && st.TwoFactor == identity.TwoFactorNone {
			st.TwoFactor = identity.TwoFactorTOTP
		}
		changed := st.SignupEnabled != a.Settings.SignupEnabled || st.TwoFactor != a.Settings.TwoFactor
		a.Settings = st
		return a, changed
	}
	a, err := s.store.GetApp(ctx, identity.ConsoleAppID)
	if err != nil {
		return err
	}
	if _, changed := next(a); !changed {
		return nil
	}
	return s.store.InTx(ctx, func(tx Store) error {
		a, err := tx.GetAppForUpdate(ctx, identity.ConsoleAppID)
		if err != nil {
			return err
		}
		a, changed := next(a)
		if !changed {
			return nil
		}
		a.UpdatedAt = s.clock()
		if err := tx.UpdateApp(ctx, a); err != nil {
			return err
		}
		return s.audit(ctx, tx, identity.AuditEvent{AppID: a.ID, Action: "app.update", SubjectID: a.ID,
			Details: map[string]any{"signup_enabled": a.Settings.SignupEnabled, "two_factor": string(a.Settings.TwoFactor), "by": "server settings"}})
	})
}

// Switches are the global switches to set; nil leaves one as each app has it.
type Switches struct {
	SignupEnabled  *bool
	InvitesEnabled *bool
}

// SetGlobalSwitches sets the switches in every app where d is an owner or
// admin (never the console app), in one transaction, auditing each app
// changed, and returns the apps it changed. Developers only: an API key
// acts in one app (UpdateApp does that).
func (s *Service) SetGlobalSwitches(ctx context.Context, d identity.Developer, sw Switches) ([]identity.MemberApp, error) {
	if d.APIKeyID != "" || d.ID == "" {
		return nil, apperr.New(apperr.Permission, apperr.ReasonPermissionDenied, "API keys act in one application; use UpdateApp")
	}
	if sw.SignupEnabled == nil && sw.InvitesEnabled == nil {
		return nil, apperr.Field("signup_enabled", "set signup_enabled, invites_enabled or both")
	}
	var out []identity.MemberApp
	err := s.store.InTx(ctx, func(tx Store) error {
		out = nil
		mine, err := tx.ListMemberApps(ctx, d.ID, "", 0)
		if err != nil {
			return err
		}
		for _, m := range mine {
			if m.ID == identity.ConsoleAppID || !m.Role.Allows(identity.RoleAdmin) {
				continue
			}
			a, err := tx.GetAppForUpdate(ctx, m.ID)
			if err != nil {
				return err
			}
			next := a
			if sw.SignupEnabled != nil {
				next.Settings.SignupEnabled = *sw.SignupEnabled
			}
			if sw.InvitesEnabled != nil {
				next.Settings.InvitesEnabled = *sw.InvitesEnabled
			}
			if next.Settings.SignupEnabled == a.Settings.SignupEnabled && next.Settings.InvitesEnabled == a.Settings.InvitesEnabled {
				continue
			}
			next.UpdatedAt = s.clock()
			if err := tx.UpdateApp(ctx, next); err != nil {
				return err
			}
			details := map[string]any{"global": true}
			if sw.SignupEnabled != nil {
				details["signup_enabled"] = *sw.SignupEnabled
			}
			if sw.InvitesEnabled != nil {
				details["invites_enabled"] = *sw.InvitesEnabled
			}
			if err := s.audit(ctx, tx, identity.AuditEvent{AppID: a.ID, Action: "app.update", ActorID: d.ActorID(), SubjectID: a.ID, IP: d.IP, Details: details}); err != nil {
				return err
			}
			out = append(out, identity.MemberApp{App: next, Role: m.Role})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
