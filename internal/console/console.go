// Package console is the developers' side of CoSync Auth: applications and
// their settings, signing-key upkeep, message templates and the dev outbox,
// as the Admin service and the portal use them. Package identity keeps the
// app users' flows (and what an admin does to users goes through it).
//
// Like identity, console is independent of any transport or database: it
// declares the narrow store it needs (Store, one interface per aggregate)
// and the server wires the real parts into Deps. It uses identity's value
// types (App, AppSettings, SigningKey, …), which the domain owns.
package console

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// KeyMaker creates signing keys and is told when an app's keys changed.
type KeyMaker interface {
	// Name is the backend new keys are made in ("local", "vault").
	Name() string
	Generate(ctx context.Context, appID string) (identity.SigningKey, error)
	Invalidate(appID string)
}

// OutboxReader lists what the dev outbox kept; nil when real mail is configured.
type OutboxReader interface {
	List(ctx context.Context, appID string, limit int) ([]identity.OutboxMessage, error)
}

// Deps are the parts a Service is built from. Store, Keys, Secrets and
// Mailer (SMTP or the dev outbox; SendTestEmail sends through it) are
// required; Outbox is nil when real mail is configured (Outbox answers
// OUTBOX_DISABLED), Log nil discards, Now nil is time.Now.
// MailFromDomains are the domains an app's email_from may use
// (COSYNC_MAIL_FROM_DOMAINS); nil allows none, so apps mail from the
// server's sender.
type Deps struct {
	Store           Store
	Keys            KeyMaker
	Secrets         identity.SecretBox
	Outbox          OutboxReader
	Mailer          identity.Mailer
	PublicURL       string // where the server is reached (issuers, JWKS URLs)
	Log             *slog.Logger
	Now             func() time.Time
	MailFromDomains []string
	// Invites mails console invitations for AddMember; nil: adding an
	// email with no developer is refused.
	Invites DeveloperInviter
}

// Service runs the developers' operations. It is safe for concurrent use.
type Service struct {
	store     Store
	keys      KeyMaker
	secrets   identity.SecretBox
	outbox    OutboxReader
	mailer    identity.Mailer
	publicURL string
	log       *slog.Logger
	now       func() time.Time
	senders   []string // domains allowed in email_from
	inviter   DeveloperInviter
}

// New returns a Service over d.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, keys: d.Keys, secrets: d.Secrets, outbox: d.Outbox, mailer: d.Mailer, publicURL: d.PublicURL,
		log: d.Log, now: d.Now, senders: d.MailFromDomains, inviter: d.Invites}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// member returns the app with the caller's role, if it allows need (identity.Access).
func (s *Service) member(ctx context.Context, d identity.Developer, appID string, need identity.Role) (identity.MemberApp, error) {
	return identity.Access(ctx, s.store, d, appID, need)
}

// audit fills the event's id and time and stores it through st (a tx).
func (s *Service) audit(ctx context.Context, st Audit, e identity.AuditEvent) error {
	e.ID = newID()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = s.clock()
	}
	if e.Outcome == "" {
		e.Outcome = identity.OutcomeSuccess
	}
	return st.InsertAuditEvent(ctx, e)
}

// keyErr maps a key backend's failure to what a client may see.
func keyErr(op string, err error) error {
	if errors.Is(err, identity.ErrTokenTooLong) {
		return apperr.Wrap(err, apperr.Internal, op)
	}
	if apperr.KindOf(err) == apperr.Unavailable {
		return apperr.New(apperr.Unavailable, apperr.ReasonSignerUnavailable, "token signing is unavailable; try again").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}

// sealErr maps a SecretBox failure: a remote box (Vault) may be down.
func sealErr(op string, err error) error {
	if apperr.KindOf(err) == apperr.Unavailable {
		return apperr.New(apperr.Unavailable, apperr.ReasonSignerUnavailable, "the secret store is unavailable; try again").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}
