package identity

// Pending signups as a developer sees them: a signup started with the code
// or link flow waits in the codes table (PurposeSignup) with its checked
// input as the payload until the user completes it. A developer lists
// them, discards one, or mails it a fresh code. The code, its hash and the
// password hash never leave this file.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/templates"
)

// PendingSignup is a signup waiting for its code, without the code's hash
// or the password hash.
type PendingSignup struct {
	ID        string // the code's id; a resend keeps it
	Handle    string // normalized email
	Metadata  map[string]any
	Locale    string
	CreatedAt time.Time // when the newest code was mailed
	ExpiresAt time.Time
}

func pendingSignupOf(c Code) (PendingSignup, error) {
	var p pendingSignup
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		return PendingSignup{}, apperr.Wrap(err, apperr.Internal, "identity.pendingSignupOf")
	}
	if p.Metadata == nil {
		p.Metadata = map[string]any{}
	}
	return PendingSignup{ID: c.ID, Handle: c.Handle, Metadata: p.Metadata, Locale: p.Locale, CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt}, nil
}

// ListPendingSignups lists an app's pending signups, newest first, after
// the id `after` (empty: from the newest), at most limit. Expired ones are
// listed too (ExpiresAt tells); viewers may list.
func (s *Service) ListPendingSignups(ctx context.Context, d Developer, appID, after string, limit int) ([]PendingSignup, error) {
	if _, err := s.member(ctx, d, appID, RoleViewer); err != nil {
		return nil, err
	}
	codes, err := s.store.ListCodes(ctx, appID, PurposeSignup, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]PendingSignup, 0, len(codes))
	for _, c := range codes {
		p, err := pendingSignupOf(c)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// pendingCode finds the pending signup id of app appID.
func (s *Service) pendingCode(ctx context.Context, appID, id string) (Code, error) {
	c, err := s.store.GetCode(ctx, appID, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Code{}, err
	}
	if err != nil || c.Purpose != PurposeSignup || c.Hash == "" {
		return Code{}, apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no pending signup with that id")
	}
	return c, nil
}

// DeletePendingSignup discards a pending signup: its code stops working.
func (s *Service) DeletePendingSignup(ctx context.Context, d Developer, appID, id string) error {
	if _, err := s.member(ctx, d, appID, RoleAdmin); err != nil {
		return err
	}
	c, err := s.pendingCode(ctx, appID, id)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Store) error {
		won, err := tx.ConsumeCode(ctx, appID, c.ID)
		if err != nil {
			return err
		}
		if !won {
			return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "no pending signup with that id")
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "user.signup.delete", ActorID: d.ActorID(), SubjectID: c.Handle, IP: d.IP})
	})
}

// ResendPendingSignup mails a pending signup a fresh code (or link, as the
// app's signup flow now says) with a new lifetime; the old code stops
// working and the pending signup keeps its id. It counts against the
// handle's signup limit (LimitSignupHandle) as a SignUp does, and needs
// signup enabled.
func (s *Service) ResendPendingSignup(ctx context.Context, d Developer, appID, id string) (PendingSignup, error) {
	m, err := s.member(ctx, d, appID, RoleAdmin)
	if err != nil {
		return PendingSignup{}, err
	}
	a := m.App
	if !a.Settings.SignupEnabled {
		return PendingSignup{}, apperr.New(apperr.Precondition, apperr.ReasonSignupDisabled, "signup is disabled for this application")
	}
	old, err := s.pendingCode(ctx, appID, id)
	if err != nil {
		return PendingSignup{}, err
	}
	p, err := pendingSignupOf(old)
	if err != nil {
		return PendingSignup{}, err
	}
	if err := s.limit(ctx, a.ID, byKey(s.rule(a, LimitSignupHandle), old.Handle)); err != nil {
		return PendingSignup{}, err
	}
	fresh, code, err := s.newCode(a, PurposeSignup, old.Handle, s.cfg.SignupCodeTTL, old.Payload)
	if err != nil {
		return PendingSignup{}, err
	}
	fresh.ID = old.ID
	locale := p.Locale
	if locale, err = PickLocale(a, locale); err != nil { // the app may have dropped it since
		locale = a.Settings.Locales[0]
	}
	vars := templates.Vars{AppName: a.Name, Handle: old.Handle, Code: code, ExpiresIn: humanDuration(s.cfg.SignupCodeTTL)}
	kind := templates.KindSignupCode
	if a.Settings.SignupFlow == FlowLink {
		kind, vars.Link = templates.KindSignupLink, s.SignupLink(a.ID, old.Handle, code)
	}
	mail, err := s.mail(ctx, a, locale, kind, old.Handle, vars)
	if err != nil {
		return PendingSignup{}, err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		won, err := tx.RenewCode(ctx, appID, old.ID, fresh)
		if err != nil {
			return err
		}
		if !won {
			return apperr.New(apperr.NotFound, apperr.ReasonNotFound, "the pending signup was completed or replaced meanwhile")
		}
		if err := enqueue(ctx, tx, mail); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEvent{AppID: appID, Action: "user.signup.resend", ActorID: d.ActorID(), SubjectID: old.Handle, IP: d.IP})
	})
	if err != nil {
		return PendingSignup{}, err
	}
	s.queued()
	p.CreatedAt, p.ExpiresAt = fresh.CreatedAt, fresh.ExpiresAt
	return p, nil
}
