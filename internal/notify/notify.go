// Package notify delivers what CoSync Auth tells people: email over SMTP
// ([SMTP]), or, in development, into a dev outbox that logs each message and
// keeps it for the portal ([Outbox]). The message templates live in package
// templates.
//
// Flows never send: they queue identity.Delivery rows in their own
// transactions, and the [Worker] delivers them through a [Mailer] with
// retries, backoff and dead letters. The server picks the Mailer from
// configuration (COSYNC_SMTP_URL empty → [Outbox]).
package notify

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Message is one email to send; the domain declares it (identity.Mail),
// so flows speak no type of this package.
type Message = identity.Mail

// Mailer sends mail. Implementations are safe for concurrent use.
// Send returns an apperr Invalid error for a malformed message and an
// Unavailable error when delivery fails.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// validate checks what every Mailer needs of a message, so the dev outbox
// refuses the same messages real delivery would.
func validate(op string, m Message) error {
	var vs []apperr.Violation
	if m.To == "" {
		vs = append(vs, apperr.Violation{Field: "to", Description: "required"})
	} else if _, err := mail.ParseAddress(m.To); err != nil {
		vs = append(vs, apperr.Violation{Field: "to", Description: "not an email address"})
	}
	if m.From != "" {
		if _, err := mail.ParseAddress(m.From); err != nil {
			vs = append(vs, apperr.Violation{Field: "from", Description: "not an email address"})
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		vs = append(vs, apperr.Violation{Field: "subject", Description: "must be one line"})
	}
	if m.Text == "" && m.HTML == "" {
		vs = append(vs, apperr.Violation{Field: "text", Description: "text or html required"})
	}
	if err := apperr.Fields(apperr.ReasonInvalidArgument, vs); err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			return e.With(op, nil)
		}
		return err
	}
	return nil
}
