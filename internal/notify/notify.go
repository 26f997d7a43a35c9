// Package notify delivers what CoSync Auth tells people: email over SMTP
// ([SMTP]), or, in development, into a dev outbox that logs each message and
// keeps it for the portal ([Outbox]). It also holds the per-locale message
// templates ([Template]) with their built-in defaults ([Default]) and renders
// them ([Render]).
//
// Flows depend on the small [Mailer] interface; the server picks the
// implementation from configuration (COSYNC_SMTP_URL empty → [Outbox]).
package notify

import (
	"context"
	"net/mail"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// Message is one email to send. Text is the plain-text part and HTML the HTML
// part; either may be empty, not both. From is optional: an empty From means
// the Mailer's default sender. AppID names the application the mail is sent
// for; it scopes the dev outbox and is not written into the mail.
type Message struct {
	AppID   string
	From    string // RFC 5322 address, e.g. "Example <no-reply@example.com>"
	To      string // one recipient address
	Subject string
	Text    string
	HTML    string
}

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
	if err := apperr.Fields("INVALID_ARGUMENT", vs); err != nil {
		return err.(*apperr.Error).With(op, nil)
	}
	return nil
}
