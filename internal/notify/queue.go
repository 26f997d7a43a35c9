package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// Delivery is one queued message; the domain declares it.
type Delivery = identity.Delivery

// QueueStore is the send queue as the worker reads and settles it. The
// store package implements it; every replica's worker shares one queue.
type QueueStore interface {
	// ClaimDeliveries leases up to limit due pending deliveries until
	// now+lease and counts an attempt on each; concurrent callers (other
	// replicas) never get the same row while its lease holds.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	MarkDeliverySent(ctx context.Context, id string, now time.Time) error
	RetryDelivery(ctx context.Context, id string, next time.Time, lastErr string) error
	KillDelivery(ctx context.Context, id string, now time.Time, lastErr string) error
	// SweepDeliveries deletes sent and suppressed rows created before done
	// and dead rows that died before dead.
	SweepDeliveries(ctx context.Context, done, dead time.Time) (int64, error)
}

// How long settled rows stay for the developer to read (ListDeliveries).
const (
	KeepSent = 7 * 24 * time.Hour  // sent and suppressed
	KeepDead = 30 * 24 * time.Hour // dead letters
)

// SMSDeliverer sends a queued text for an app (identity.Service resolves
// the app's Twilio account, or the dev outbox). nil: texts go dead.
type SMSDeliverer interface {
	DeliverSMS(ctx context.Context, appID, to, body string) error
}

// WorkerConfig tunes a Worker. The zero value of each field is the
// documented default.
type WorkerConfig struct {
	// Poll is how often the worker looks for due rows without a Wake;
	// default 2s.
	Poll time.Duration
	// Lease is how long a claimed row stays the claimer's; a worker that
	// dies holding rows gives them back when it ends. It must exceed one
	// send's timeout; default 2m.
	Lease time.Duration
	// Batch is how many rows one claim takes; default 20.
	Batch int
	// MaxAttempts is how many tries a message gets before it is dead;
	// default 16 (with the default delays, about a day of retrying).
	MaxAttempts int
	// BaseDelay is the wait after the first failure, doubled after each
	// further one up to MaxDelay; defaults 10s and 2h.
	BaseDelay, MaxDelay time.Duration
	// Meter counts each attempt by channel and outcome; nil counts nothing.
	Meter identity.Meter
}

// Worker delivers the send queue: it claims due rows, sends each through
// the Mailer or the SMS deliverer, and settles it: sent; due again after
// an exponential backoff with jitter; or dead after MaxAttempts or at once
// when the message itself is malformed. Dead rows stay in the queue for
// the developer (AdminService ListDeliveries). It is safe for concurrent
// use; passes in one process run one at a time, and rows claimed by
// other replicas are skipped.
type Worker struct {
	store  QueueStore
	mailer Mailer
	sms    SMSDeliverer
	cfg    WorkerConfig
	log    *slog.Logger
	now    func() time.Time
	jitter func() float64 // in [0, 1)

	pass sync.Mutex // one pass at a time in this process
	wake chan struct{}
}

// NewWorker returns a worker over st sending mail through mailer and texts
// through sms (nil: texts go dead). A nil log discards; a nil now is
// time.Now.
func NewWorker(st QueueStore, mailer Mailer, sms SMSDeliverer, cfg WorkerConfig, log *slog.Logger, now func() time.Time) *Worker {
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 20
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 16
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 10 * time.Second
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 2 * time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	if cfg.Meter == nil {
		cfg.Meter = identity.NopMeter{}
	}
	return &Worker{store: st, mailer: mailer, sms: sms, cfg: cfg, log: log, now: now,
		jitter: rand.Float64, wake: make(chan struct{}, 1)}
}

// Wake asks the running worker for a pass now (a request queued mail). It
// never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run makes passes until ctx ends: at every Wake and every Poll.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := w.Pass(ctx); err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "queue: pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// Pass delivers every row due now, batch by batch, and returns how many it
// settled. Rows that fail are due again later, so one pass ends.
func (w *Worker) Pass(ctx context.Context) (int, error) {
	w.pass.Lock()
	defer w.pass.Unlock()
	n := 0
	for {
		ds, err := w.store.ClaimDeliveries(ctx, w.now(), w.cfg.Lease, w.cfg.Batch)
		if err != nil {
			return n, err
		}
		for _, d := range ds {
			if err := w.deliver(ctx, d); err != nil {
				return n, err
			}
			n++
		}
		if len(ds) < w.cfg.Batch {
			return n, nil
		}
	}
}

// Sweep deletes settled rows past KeepSent and KeepDead (the server's
// janitor calls it) and returns how many.
func (w *Worker) Sweep(ctx context.Context) (int64, error) {
	now := w.now()
	return w.store.SweepDeliveries(ctx, now.Add(-KeepSent), now.Add(-KeepDead))
}

// Backoff is the wait after the attempts-th failed attempt: BaseDelay
// doubled per earlier failure, capped at MaxDelay, of which a random half
// is taken off ("equal jitter"), so replicas that failed together do not
// retry together.
func (w *Worker) Backoff(attempts int) time.Duration {
	d := w.cfg.MaxDelay
	if attempts < 1 {
		attempts = 1
	}
	if shift := attempts - 1; shift < 32 {
		if e := w.cfg.BaseDelay << shift; e > 0 && e < d {
			d = e
		}
	}
	return d/2 + time.Duration(w.jitter()*float64(d/2))
}

// deliver sends one claimed row and settles it; only a failure to settle
// is returned (the lease then brings the row back).
func (w *Worker) deliver(ctx context.Context, d Delivery) error {
	log := w.log.With("delivery_id", d.ID, "app_id", d.AppID, "channel", d.Channel, "attempt", d.Attempts)
	if now := w.now(); !d.ExpiresAt.IsZero() && !now.Before(d.ExpiresAt) {
		// The code it carries is dead; sending it would only confuse.
		log.WarnContext(ctx, "queue: dead letter, expired before delivery", "last_error", d.LastError)
		w.cfg.Meter.Send(d.Channel, identity.SendDead)
		return w.store.KillDelivery(ctx, d.ID, now, "expired before delivery; last error: "+d.LastError)
	}
	err := w.send(ctx, d)
	if err != nil && ctx.Err() != nil {
		// Shutting down: the attempt says nothing of the message. Leave the
		// row claimed; its lease brings it back.
		return ctx.Err()
	}
	now := w.now()
	switch {
	case err == nil:
		log.DebugContext(ctx, "queue: delivered")
		w.cfg.Meter.Send(d.Channel, identity.SendSent)
		return w.store.MarkDeliverySent(ctx, d.ID, now)
	case apperr.KindOf(err) == apperr.Invalid || d.Attempts >= w.cfg.MaxAttempts:
		log.WarnContext(ctx, "queue: dead letter", "err", err)
		w.cfg.Meter.Send(d.Channel, identity.SendDead)
		return w.store.KillDelivery(ctx, d.ID, now, errText(err))
	}
	next := now.Add(w.Backoff(d.Attempts))
	log.InfoContext(ctx, "queue: will retry", "err", err, "next_attempt_at", next)
	w.cfg.Meter.Send(d.Channel, identity.SendRetry)
	return w.store.RetryDelivery(ctx, d.ID, next, errText(err))
}

func (w *Worker) send(ctx context.Context, d Delivery) error {
	switch d.Channel {
	case identity.ChannelEmail:
		return w.mailer.Send(ctx, d.Mail())
	case identity.ChannelSMS:
		if w.sms == nil {
			return apperr.New(apperr.Invalid, apperr.ReasonSMSNotConfigured, "no SMS sender")
		}
		return w.sms.DeliverSMS(ctx, d.AppID, d.To, d.Text)
	}
	return apperr.Wrap(fmt.Errorf("unknown channel %q", d.Channel), apperr.Invalid, "notify.Worker")
}

// errText is what a dead letter shows the developer: the cause, bounded.
func errText(err error) string {
	s := err.Error()
	var e *apperr.Error
	if errors.As(err, &e) && e.Unwrap() != nil {
		s = e.Unwrap().Error()
	}
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// FlushedOutbox is the dev outbox read after a pass of the queue, so a
// developer (or a test) listing it sees every message the committed
// requests queued. It is safe for concurrent use.
type FlushedOutbox struct {
	Worker *Worker
	Outbox *Outbox
}

// List runs a pass, then lists the outbox as Outbox.List does. A failed
// pass is logged; the list still answers.
func (f FlushedOutbox) List(ctx context.Context, appID string, limit int) ([]OutboxMessage, error) {
	if _, err := f.Worker.Pass(ctx); err != nil {
		f.Worker.log.WarnContext(ctx, "queue: pass before listing the outbox failed", "err", err)
	}
	return f.Outbox.List(ctx, appID, limit)
}
