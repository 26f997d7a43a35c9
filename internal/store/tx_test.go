package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestInTx(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")

		write := func(tx identity.Store, n int) error {
			id := fmt.Sprintf("u%d", n)
			if err := tx.CreateUser(ctx, newUser("app1", id, id+"@example.com", ""), ""); err != nil {
				return err
			}
			if err := tx.PutCode(ctx, newCode("c"+id, id+"@example.com")); err != nil {
				return err
			}
			// A transaction reads its own writes.
			if _, err := tx.GetUser(ctx, "app1", id); err != nil {
				return err
			}
			return tx.InsertAuditEvent(ctx, identity.AuditEvent{ID: "e" + id, AppID: "app1", Action: "user.signup", Outcome: identity.OutcomeSuccess, OccurredAt: t0})
		}
		written := func(n int) bool {
			t.Helper()
			id := fmt.Sprintf("u%d", n)
			_, errU := s.GetUser(ctx, "app1", id)
			_, errC := s.FindCode(ctx, "app1", identity.PurposeSignup, id+"@example.com")
			events, err := store.AuditEvents(ctx, s, "app1")
			noErr(t, "AuditEvents", err)
			var errE error = apperr.New(apperr.NotFound, "", "")
			for _, e := range events {
				if e.ID == "e"+id {
					errE = nil
				}
			}
			for _, err := range []error{errU, errC, errE} {
				if err != nil && apperr.KindOf(err) != apperr.NotFound {
					t.Fatalf("reading back %s: %v", id, err)
				}
			}
			all, none := errU == nil && errC == nil && errE == nil, errU != nil && errC != nil && errE != nil
			if !all && !none {
				t.Fatalf("transaction %s half written: user %v, code %v, event %v", id, errU, errC, errE)
			}
			return all
		}

		noErr(t, "InTx(commit)", s.InTx(ctx, func(tx identity.Store) error { return write(tx, 1) }))
		if !written(1) {
			t.Errorf("InTx returning nil wrote nothing")
		}

		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx identity.Store) error {
			if err := write(tx, 2); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("InTx(failing fn) = %v, want the fn's error", err)
		}
		if written(2) {
			t.Errorf("InTx returning an error left its writes")
		}

		// A failing statement rolls back the statements before it.
		err = s.InTx(ctx, func(tx identity.Store) error {
			if err := write(tx, 3); err != nil {
				return err
			}
			return tx.CreateUser(ctx, newUser("app1", "u1", "dup@example.com", ""), "")
		})
		wantKind(t, "InTx(duplicate user inside)", err, apperr.Exists)
		if written(3) {
			t.Errorf("InTx whose statement failed left its writes")
		}

		// InTx on a transaction's Store joins the transaction.
		err = s.InTx(ctx, func(tx identity.Store) error {
			if err := tx.InTx(ctx, func(inner identity.Store) error { return write(inner, 4) }); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("InTx(nested, outer fails) = %v, want the fn's error", err)
		}
		if written(4) {
			t.Errorf("nested InTx committed apart from its outer transaction")
		}
	})
}

// Transactions that read then write, many at once, all succeed: on SQLite
// they take the write lock when they begin instead of deadlocking on the
// upgrade, which also serializes them. Postgres runs them READ COMMITTED,
// where read-modify-write loses updates; the flows rely on the
// single-statement methods for races instead.
func TestInTxConcurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		const n = 20
		race(t, n, func() (bool, error) {
			return false, s.InTx(ctx, func(tx identity.Store) error {
				u, err := tx.GetUser(ctx, "app1", "u1")
				if err != nil {
					return err
				}
				u.Phone += "1"
				u.UpdatedAt = t0.Add(time.Second)
				return tx.UpdateUser(ctx, u)
			})
		})
		u, err := s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		if s.Dialect() == store.SQLite && len(u.Phone) != n {
			t.Errorf("after %d read-modify-write transactions Phone has %d digits, want %d (lost updates)", n, len(u.Phone), n)
		}
	})
}
