package console

import (
	"context"
	"errors"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/templates"
)

// Developers reads developers' accounts: users of the console app.
type Developers interface {
	GetUser(ctx context.Context, appID, id string) (identity.User, error)
}

// testMailTimeout bounds one test send, however slow the mail server.
const testMailTimeout = 30 * time.Second

// SendTestEmail renders the app's template of kind in locale (empty: the
// app's first) with sample values and mails it to `to` or, when to is
// empty, to the calling developer (an API key has no address and must
// name one). The subject starts with "[Test] ".
//
// Unlike the flows' mail it is sent at once through the server's Mailer
// (SMTP, or the dev outbox), not queued: it is a check of the mail
// settings, so its answer says whether the mail server took the message
// (MAIL_UNAVAILABLE when not). The caller counts it against the test-send
// limits first (identity.Service.TakeTestSend). Admins and owners may
// send; success and failure are audited.
func (s *Service) SendTestEmail(ctx context.Context, d identity.Developer, appID string, kind templates.Kind, locale, to string) error {
	const op = "console.SendTestEmail"
	m, err := s.member(ctx, d, appID, identity.RoleAdmin)
	if err != nil {
		return err
	}
	if kind == templates.KindSMS || kind == templates.KindLinkLanding {
		return apperr.Field("kind", "is not an email template (the SMS text and the link landing page are not mailed)")
	}
	if locale, err = identity.PickLocale(m.App, locale); err != nil {
		return err
	}
	if to == "" {
		if to, err = s.developerEmail(ctx, d); err != nil {
			return err
		}
	}
	t, _, err := identity.PickTemplate(ctx, s.store, m.App, locale, kind)
	if err != nil {
		return err
	}
	r, err := templates.RenderContext(ctx, t, templates.SampleVars(m.Name))
	if err != nil {
		if e := (*apperr.Error)(nil); errors.As(err, &e) && e.Kind() == apperr.Invalid {
			return apperr.Field("kind", "the application's template does not render: "+e.Message())
		}
		return apperr.Wrap(err, apperr.Internal, op)
	}
	// The sender the app's real mail would use: its own while the operator
	// still allows its domain, else the server's.
	from := m.Settings.EmailFrom
	if from != "" && s.senders != nil && identity.CheckSender(from, s.senders) != nil {
		from = ""
	}
	if s.mailer == nil {
		return apperr.New(apperr.Unavailable, apperr.ReasonMailUnavailable, "this server has no mailer").With(op, errors.New("console: no Mailer in Deps"))
	}
	sendCtx, cancel := context.WithTimeout(ctx, testMailTimeout)
	defer cancel()
	event := identity.AuditEvent{AppID: m.ID, Action: "app.email.test", ActorID: d.ActorID(), SubjectID: string(kind) + ":" + locale, IP: d.IP}
	err = s.mailer.Send(sendCtx, identity.Mail{AppID: m.ID, From: from, To: to, Subject: "[Test] " + r.Subject, Text: r.Text, HTML: r.HTML})
	if err != nil {
		err = testMailErr(op, err)
		event.Outcome, event.Reason = identity.OutcomeFailure, apperr.ReasonOf(err)
		if aerr := s.audit(ctx, s.store, event); aerr != nil {
			s.log.WarnContext(ctx, "audit write failed", "action", event.Action, "err", aerr)
		}
		return err
	}
	return s.audit(ctx, s.store, event)
}

// developerEmail is the calling developer's own address.
func (s *Service) developerEmail(ctx context.Context, d identity.Developer) (string, error) {
	if d.APIKeyID != "" || d.ID == "" {
		return "", apperr.Field("to", "is required when an API key calls: a key has no email address")
	}
	u, err := s.store.GetUser(ctx, identity.ConsoleAppID, d.ID)
	if err != nil {
		return "", err
	}
	if u.Email == "" {
		return "", apperr.Field("to", "is required: your account has no email address")
	}
	return u.Email, nil
}

// testMailErr maps a Mailer's failure to what the developer may see.
func testMailErr(op string, err error) error {
	switch apperr.KindOf(err) {
	case apperr.Invalid:
		return apperr.Field("to", "is not an address mail can be sent to").With(op, err)
	case apperr.Unavailable:
		return apperr.New(apperr.Unavailable, apperr.ReasonMailUnavailable, "the mail server did not take the message; check the server's mail settings").With(op, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.New(apperr.Unavailable, apperr.ReasonMailUnavailable, "the mail server did not answer in time").With(op, err)
	}
	return apperr.Wrap(err, apperr.Internal, op)
}
