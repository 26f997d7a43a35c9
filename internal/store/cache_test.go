package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// change is one OnChange call.
type change struct{ kind, id string }

// listen registers a hook that forwards changes to the returned channel,
// runs s.Listen until the test ends and waits until the caches are on
// (the first ChangeAll; on SQLite they are on from the start).
func listen(t *testing.T, s *store.Store) <-chan change {
	t.Helper()
	ch := make(chan change, 64)
	s.OnChange(func(kind, id string) {
		select {
		case ch <- change{kind, id}:
		default: // a test that stopped reading does not block the store
		}
	})
	if s.Dialect() != store.Postgres {
		return ch
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Listen(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitChange(t, ch, change{store.ChangeAll, ""})
	return ch
}

// waitChange reads ch until want arrives; the test's own deadline bounds it.
func waitChange(t *testing.T, ch <-chan change, want change) {
	t.Helper()
	ctx := t.Context()
	for {
		select {
		case c := <-ch:
			if c == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("never told of change %+v", want)
		}
	}
}

// appReads counts the statements that read the apps table.
func appReads(s *store.Store) *atomic.Int64 {
	var n atomic.Int64
	s.ObserveQueries(func(q string) {
		if strings.HasPrefix(q, "SELECT") && strings.Contains(q, `FROM "apps"`) {
			n.Add(1)
		}
	})
	return &n
}

// TestAppCache: GetApp outside a transaction reads the database once and
// then answers from memory; a change through the Store (alone or in a
// committed transaction) is seen by the next GetApp, and one in a rolled
// back transaction never is; inside a transaction GetApp reads the
// transaction. Callers never share the cached settings.
func TestAppCache(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		listen(t, s)
		a := createApp(t, s, "app1")
		reads := appReads(s)

		for range 3 {
			got, err := s.GetApp(ctx, "app1")
			noErr(t, "GetApp", err)
			equal(t, "GetApp", got, a)
		}
		if n := reads.Load(); n != 1 {
			t.Errorf("three GetApp calls read the apps table %d times, want 1", n)
		}
		got, _ := s.GetApp(ctx, "app1")
		got.Settings.Locales[0] = "xx" // a caller's own copy
		if again, _ := s.GetApp(ctx, "app1"); again.Settings.Locales[0] != "en" {
			t.Errorf("a caller's change to GetApp's answer reached the cache: locales %v", again.Settings.Locales)
		}

		a.Name = "Renamed"
		noErr(t, "UpdateApp", s.UpdateApp(ctx, a))
		got, err := s.GetApp(ctx, "app1")
		noErr(t, "GetApp after UpdateApp", err)
		equal(t, "GetApp after UpdateApp", got.Name, "Renamed")

		errRollback := errors.New("roll back")
		err = s.InTx(ctx, func(tx identity.Store) error {
			b := a
			b.Name = "Uncommitted"
			noErr(t, "UpdateApp in a transaction", tx.(*store.Store).UpdateApp(ctx, b))
			in, err := tx.GetApp(ctx, "app1")
			noErr(t, "GetApp in the transaction", err)
			equal(t, "GetApp in the transaction", in.Name, "Uncommitted")
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want the callback's error", err)
		}
		got, _ = s.GetApp(ctx, "app1")
		equal(t, "GetApp after a rolled-back UpdateApp", got.Name, "Renamed")

		noErr(t, "InTx", s.InTx(ctx, func(tx identity.Store) error {
			b := a
			b.Name = "Committed"
			return tx.(*store.Store).UpdateApp(ctx, b)
		}))
		got, _ = s.GetApp(ctx, "app1")
		equal(t, "GetApp after a committed UpdateApp", got.Name, "Committed")

		noErr(t, "DeleteApp", s.DeleteApp(ctx, "app1"))
		_, err = s.GetApp(ctx, "app1")
		if err == nil {
			t.Errorf("GetApp after DeleteApp = nil error, want NotFound")
		}
	})
}

// TestChangesReachReplicas: two Stores on one Postgres database, as two
// replicas are. A change on one (app settings, a new or deactivated
// signing key) reaches the other's hooks and its next GetApp; a rolled
// back change is never announced.
func TestChangesReachReplicas(t *testing.T) {
	t.Parallel()
	one, two := twoReplicas(t)
	ctx := t.Context()
	listen(t, one)
	heard := listen(t, two)

	a := createApp(t, one, "app1")
	createApp(t, one, "app2")
	reads := appReads(two)
	for range 2 {
		got, err := two.GetApp(ctx, "app1")
		noErr(t, "replica two GetApp", err)
		equal(t, "replica two GetApp", got.Name, a.Name)
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("replica two read the apps table %d times for two GetApp calls, want 1 (cached)", n)
	}

	a.Settings.SignupEnabled = false
	noErr(t, "replica one UpdateApp", one.UpdateApp(ctx, a))
	waitChange(t, heard, change{store.ChangeApp, "app1"})
	got, err := two.GetApp(ctx, "app1")
	noErr(t, "replica two GetApp after the change", err)
	if got.Settings.SignupEnabled {
		t.Errorf("replica two still sees signup enabled after replica one turned it off")
	}

	// A rolled-back change is not announced: the next word replica two
	// hears names app2, which changes after it.
	_ = one.InTx(ctx, func(tx identity.Store) error {
		b := a
		b.Name = "never"
		noErr(t, "UpdateApp in a transaction", tx.(*store.Store).UpdateApp(ctx, b))
		return errors.New("roll back")
	})
	b, _ := one.GetApp(ctx, "app2")
	b.Name = "Second"
	noErr(t, "UpdateApp(app2)", one.UpdateApp(ctx, b))
	for c := range heard {
		if c.kind == store.ChangeApp && c.id == "app1" {
			t.Fatalf("replica two heard of a rolled-back change to app1")
		}
		if c == (change{store.ChangeApp, "app2"}) {
			break
		}
	}

	rec := keyRecord("app1", "kid-1", keys.StateActive, t0)
	noErr(t, "CreateSigningKey", one.CreateSigningKey(ctx, rec))
	waitChange(t, heard, change{store.ChangeKeys, "app1"})
	ok, err := one.DeactivateSigningKey(ctx, "app1", "kid-1", t0.Add(time.Hour), t0.Add(2*time.Hour))
	if !ok || err != nil {
		t.Fatalf("DeactivateSigningKey = %v, %v", ok, err)
	}
	waitChange(t, heard, change{store.ChangeKeys, "app1"})
}

// TestAwaitChanges: once AwaitChanges returns on a replica, every change
// another replica committed before the call has reached its cache (a
// cached app is seen changed with no wait of the test's own); without its
// listener it answers Unavailable; SQLite answers at once.
func TestAwaitChanges(t *testing.T) {
	t.Parallel()
	one, two := twoReplicas(t)
	ctx := t.Context()
	if err := two.AwaitChanges(ctx); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("AwaitChanges without a listener = %v, want Unavailable", err)
	}
	listen(t, two)
	a := createApp(t, one, "app1")
	for i := range 20 {
		if _, err := two.GetApp(ctx, "app1"); err != nil { // cached
			t.Fatal(err)
		}
		a.Name = fmt.Sprintf("name %d", i)
		noErr(t, "UpdateApp", one.UpdateApp(ctx, a))
		noErr(t, "AwaitChanges", two.AwaitChanges(ctx))
		got, err := two.GetApp(ctx, "app1")
		noErr(t, "GetApp", err)
		if got.Name != a.Name {
			t.Fatalf("after AwaitChanges replica two sees %q, want %q", got.Name, a.Name)
		}
	}
	noErr(t, "AwaitChanges on SQLite", storetest.SQLite(t).AwaitChanges(ctx))
}

// twoReplicas opens two Stores on one fresh, migrated Postgres database,
// as two replicas of the server would.
func twoReplicas(t *testing.T) (one, two *store.Store) {
	t.Helper()
	url := storetest.EmptyPostgres(t)
	open := func() *store.Store {
		s, err := store.Open(t.Context(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	one, two = open(), open()
	noErr(t, "Migrate", one.Migrate(t.Context()))
	return one, two
}
