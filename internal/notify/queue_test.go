package notify_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/otp"
	"github.com/cosync/cosync-auth/internal/password"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// queueClock is a clock the test moves; it drives due times and backoff.
type queueClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *queueClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *queueClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func queueApp(tb testing.TB, st *store.Store, now time.Time) identity.App {
	tb.Helper()
	a := identity.App{ID: "app1", Name: "Notes", Settings: identity.DefaultSettings(), CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(context.Background(), a); err != nil {
		tb.Fatal(err)
	}
	return a
}

func smtpMailer(tb testing.TB, srv *smtptest.Server) *notify.SMTP {
	tb.Helper()
	m, err := notify.NewSMTP(notify.SMTPConfig{URL: srv.URL(), Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func deliveries(tb testing.TB, st *store.Store, app string, state identity.DeliveryState) []identity.Delivery {
	tb.Helper()
	ds, err := st.ListDeliveries(context.Background(), app, state, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// TestQueueSMTPOutage: with the SMTP server down a signup still succeeds
// (the request only queues the mail), the worker's attempt fails and backs
// off, and once the server is back and the backoff has passed on the
// test's clock, the code arrives.
func TestQueueSMTPOutage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		clk := &queueClock{t: time.Now().UTC().Truncate(time.Second)}
		a := queueApp(t, st, clk.Now())
		srv := smtptest.Start(t)
		w := notify.NewWorker(st, smtpMailer(t, srv), nil, notify.WorkerConfig{BaseDelay: time.Minute}, nil, clk.Now)
		svc := identity.New(identity.Deps{Store: st, Passwords: password.NewHasher(password.Params{Memory: 64, Time: 1}, 2),
			Codes: otp.NewHasher([]byte("pepper-for-tests-only-32-bytes!!")), Now: clk.Now, Wake: w.Wake}, identity.Config{})

		srv.Stop()
		if _, err := svc.SignUp(ctx, identity.Caller{AppID: a.ID, IP: "192.0.2.1"},
			identity.SignUpInput{Handle: "new@example.com", Password: "a-good-password"}); err != nil {
			t.Fatalf("SignUp with the SMTP server down = %v, want it queued", err)
		}
		if n, err := w.Pass(ctx); n != 1 || err != nil {
			t.Fatalf("Pass during the outage = %d, %v; want 1 attempt settled", n, err)
		}
		ds := deliveries(t, st, a.ID, identity.DeliveryPending)
		if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError == "" || !ds[0].NextAttemptAt.After(clk.Now()) {
			t.Fatalf("after a failed attempt the queue holds %+v; want one pending row, 1 attempt, an error, due later", ds)
		}

		srv.Restart(t)
		if n, err := w.Pass(ctx); n != 0 || err != nil {
			t.Fatalf("Pass before the backoff passed = %d, %v; want nothing due", n, err)
		}
		clk.Advance(time.Minute) // BaseDelay: the first backoff is at most this
		if n, err := w.Pass(ctx); n != 1 || err != nil {
			t.Fatalf("Pass after the backoff = %d, %v; want the mail sent", n, err)
		}
		m := srv.WaitFor(t, "new@example.com")
		if sixDigits.FindString(m.Text) == "" {
			t.Errorf("the signup mail %q carries no code", m.Text)
		}
		sent := deliveries(t, st, a.ID, identity.DeliverySent)
		if len(sent) != 1 || sent[0].Text != "" || sent[0].HTML != "" {
			t.Errorf("sent rows = %+v; want one, its bodies blanked", sent)
		}
	})
}

// TestQueueRolledBackChangeSendsNothing: a delivery written in a
// transaction that fails is gone with it.
func TestQueueRolledBackChangeSendsNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		a := queueApp(t, st, now)
		boom := errors.New("the change failed")
		err := st.InTx(ctx, func(tx identity.Store) error {
			if err := tx.EnqueueDelivery(ctx, newDelivery(a.ID, "x@example.com", now)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want %v", err, boom)
		}
		if ds := deliveries(t, st, a.ID, ""); len(ds) != 0 {
			t.Errorf("a rolled-back transaction left %d deliveries", len(ds))
		}
	})
}

func newDelivery(app, to string, now time.Time) identity.Delivery {
	return identity.Delivery{ID: "d-" + to, AppID: app, Channel: identity.ChannelEmail, To: to, Subject: "Hello",
		Text: "code 123456", State: identity.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
}

// TestQueueDeadLetter: a message that keeps failing is dead after
// MaxAttempts with its last error kept and its bodies blanked; a malformed
// one is dead at once.
func TestQueueDeadLetter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		clk := &queueClock{t: time.Now().UTC().Truncate(time.Second)}
		a := queueApp(t, st, clk.Now())
		srv := smtptest.Start(t)
		srv.Stop()
		w := notify.NewWorker(st, smtpMailer(t, srv), nil, notify.WorkerConfig{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: time.Second}, nil, clk.Now)
		bad := newDelivery(a.ID, "not an address", clk.Now())
		for _, d := range []identity.Delivery{newDelivery(a.ID, "down@example.com", clk.Now()), bad} {
			if err := st.EnqueueDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3; i++ {
			if _, err := w.Pass(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second)
		}
		dead := deliveries(t, st, a.ID, identity.DeliveryDead)
		if len(dead) != 2 {
			t.Fatalf("dead letters = %+v, want 2", dead)
		}
		for _, d := range dead {
			wantAttempts := 3
			if d.To == bad.To {
				wantAttempts = 1
			}
			if d.Attempts != wantAttempts || d.LastError == "" || d.Text != "" || d.Subject != "Hello" {
				t.Errorf("dead letter %s = %+v; want %d attempts, an error, the subject kept, no body", d.To, d, wantAttempts)
			}
		}
	})
}

// TestQueueLease: a claimed row that is never settled (its worker died)
// is nobody else's until the lease ends, then it comes back.
func TestQueueLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		a := queueApp(t, st, now)
		if err := st.EnqueueDelivery(ctx, newDelivery(a.ID, "x@example.com", now)); err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time) int {
			ds, err := st.ClaimDeliveries(ctx, at, time.Minute, 10)
			if err != nil {
				t.Fatal(err)
			}
			return len(ds)
		}
		if n := claim(now); n != 1 {
			t.Fatalf("first claim = %d rows, want 1", n)
		}
		if n := claim(now.Add(59 * time.Second)); n != 0 {
			t.Fatalf("claim within the lease = %d rows, want 0", n)
		}
		if n := claim(now.Add(time.Minute)); n != 1 {
			t.Fatalf("claim after the lease = %d rows, want 1", n)
		}
	})
}

// TestQueueBackoff: each wait lies in [d/2, d) for d = BaseDelay doubled
// per failure and capped at MaxDelay.
func TestQueueBackoff(t *testing.T) {
	t.Parallel()
	w := notify.NewWorker(nil, nil, nil, notify.WorkerConfig{BaseDelay: time.Second, MaxDelay: time.Minute}, nil, nil)
	for _, tc := range []struct {
		attempts int
		d        time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {200, time.Minute}} {
		for range 20 {
			if got := w.Backoff(tc.attempts); got < tc.d/2 || got > tc.d {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", tc.attempts, got, tc.d/2, tc.d)
			}
		}
	}
}

// TestQueueTwoWorkersOnePostgres: two workers, each over its own
// connection pool to one Postgres database (two replicas), deliver N
// messages; the SMTP server receives each exactly once.
func TestQueueTwoWorkersOnePostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.EmptyPostgres(t)
	open := func() *store.Store {
		st, err := store.Open(ctx, dbURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a, b := open(), open()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	app := queueApp(t, a, now)
	const n = 60
	for i := range n {
		if err := a.EnqueueDelivery(ctx, newDelivery(app.ID, fmt.Sprintf("user%02d@example.com", i), now)); err != nil {
			t.Fatal(err)
		}
	}
	srv := smtptest.Start(t)
	cfg := notify.WorkerConfig{Batch: 3, Poll: 5 * time.Millisecond}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, st := range []*store.Store{a, b} {
		w := notify.NewWorker(st, smtpMailer(t, srv), nil, cfg, nil, func() time.Time { return now })
		wg.Go(func() { w.Run(wctx) })
	}
	for len(deliveries(t, a, app.ID, identity.DeliverySent)) < n {
		time.Sleep(5 * time.Millisecond) // waiting on the condition above, not on time
	}
	stop()
	wg.Wait()
	if sent := deliveries(t, a, app.ID, identity.DeliverySent); len(sent) != n {
		t.Fatalf("%d of %d deliveries sent", len(sent), n)
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			seen[to]++
		}
	}
	for i := range n {
		if to := fmt.Sprintf("user%02d@example.com", i); seen[to] != 1 {
			t.Errorf("%s received %d messages, want exactly 1", to, seen[to])
		}
	}
	if len(srv.Messages()) != n {
		t.Errorf("the SMTP server received %d messages, want %d", len(srv.Messages()), n)
	}
}

// TestQueueSweep: settled rows leave after KeepSent (sent, suppressed) and
// KeepDead (dead letters); pending rows never do.
func TestQueueSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		clk := &queueClock{t: time.Now().UTC().Truncate(time.Second)}
		a := queueApp(t, st, clk.Now())
		for _, state := range []identity.DeliveryState{identity.DeliveryPending, identity.DeliverySuppressed, identity.DeliverySent, identity.DeliveryDead} {
			d := newDelivery(a.ID, string(state)+"@example.com", clk.Now())
			d.State = state
			if state == identity.DeliveryDead || state == identity.DeliverySent {
				d.SentAt = clk.Now()
			}
			if err := st.EnqueueDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		w := notify.NewWorker(st, nil, nil, notify.WorkerConfig{}, nil, clk.Now)
		left := func() map[identity.DeliveryState]bool {
			m := map[identity.DeliveryState]bool{}
			for _, d := range deliveries(t, st, a.ID, "") {
				m[d.State] = true
			}
			return m
		}
		clk.Advance(notify.KeepSent + time.Second)
		if n, err := w.Sweep(ctx); n != 2 || err != nil {
			t.Fatalf("Sweep after KeepSent = %d, %v; want the sent and the suppressed row", n, err)
		}
		if l := left(); !l[identity.DeliveryPending] || !l[identity.DeliveryDead] || len(l) != 2 {
			t.Errorf("after KeepSent the queue holds %v; want pending and dead", l)
		}
		clk.Advance(notify.KeepDead)
		if n, err := w.Sweep(ctx); n != 1 || err != nil {
			t.Fatalf("Sweep after KeepDead = %d, %v; want the dead letter", n, err)
		}
		if l := left(); !l[identity.DeliveryPending] || len(l) != 1 {
			t.Errorf("after KeepDead the queue holds %v; want the pending row only", l)
		}
	})
}
