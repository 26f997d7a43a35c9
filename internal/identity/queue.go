package identity

// The durable send queue, seen from the flows: a flow renders its mail or
// text into a Delivery and writes it through the same transaction as the
// change that causes it (a rolled-back change sends nothing), and a worker
// (notify.Worker) delivers it later with retries. No request waits on SMTP
// or Twilio, so what a request costs does not tell whether a handle exists.

import (
	"context"
	"time"

	"github.com/cosync/cosync-auth/internal/templates"
)

// Delivery channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// DeliveryState is where a queued message stands.
type DeliveryState string

// Delivery states: waiting (new or between retries), delivered, dead
// (given up after the worker's last attempt; kept for the developer), and
// suppressed: written only so a request for an unknown handle costs what
// a known one does, never sent (ForgotPassword).
const (
	DeliveryPending    DeliveryState = "pending"
	DeliverySent       DeliveryState = "sent"
	DeliveryDead       DeliveryState = "dead"
	DeliverySuppressed DeliveryState = "suppressed"
)

// Delivery is one message in the send queue. Email uses From (empty: the
// mailer's default), Subject, Text and HTML; SMS uses Text only. The
// bodies carry codes, so the store blanks them once the message is sent
// or dead.
type Delivery struct {
	ID            string
	AppID         string
	Channel       string // ChannelEmail or ChannelSMS
	To            string
	From          string
	Subject       string
	Text          string
	HTML          string
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	ExpiresAt     time.Time // zero: never; past it the worker gives up (a code that expired)
	SentAt        time.Time // when delivered or declared dead
}

// Mail returns the email d carries.
func (d Delivery) Mail() Mail {
	return Mail{AppID: d.AppID, From: d.From, To: d.To, Subject: d.Subject, Text: d.Text, HTML: d.HTML}
}

// Deliveries is the queue as the flows write it.
type Deliveries interface {
	// EnqueueDelivery stores d as pending. Call it through a transaction's
	// Store so the message commits with the change that causes it.
	EnqueueDelivery(ctx context.Context, d Delivery) error
}

// mail renders one of the app's templates into a queued email to to.
func (s *Service) mail(ctx context.Context, a App, locale string, kind templates.Kind, to string, vars templates.Vars) (Delivery, error) {
	r, err := s.render(ctx, a, locale, kind, vars)
	if err != nil {
		return Delivery{}, err
	}
	// An app's own sender goes out only while the operator still allows its
	// domain (it was checked when saved; the list may have shrunk since).
	from := a.Settings.EmailFrom
	if from == "" || s.cfg.MailFromDomains != nil && CheckSender(from, s.cfg.MailFromDomains) != nil {
		from = s.cfg.MailFrom
	}
	return s.delivery(a, ChannelEmail, to, Delivery{From: from, Subject: r.Subject, Text: r.Text, HTML: r.HTML}), nil
}

// delivery fills a new pending delivery's identity and dates: due now.
func (s *Service) delivery(a App, channel, to string, d Delivery) Delivery {
	now := s.clock()
	d.ID, d.AppID, d.Channel, d.To = newID(), a.ID, channel, to
	d.State, d.CreatedAt, d.NextAttemptAt = DeliveryPending, now, now
	return d
}

// enqueue writes ds through tx (a transaction's Store).
func enqueue(ctx context.Context, tx Store, ds ...Delivery) error {
	for _, d := range ds {
		if err := tx.EnqueueDelivery(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// queued tells the worker that a committed transaction queued messages;
// without a Wake hook the worker finds them on its next poll.
func (s *Service) queued() {
	if s.wake != nil {
		s.wake()
	}
}
