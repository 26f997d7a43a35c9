package store_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// t0 is the clock of the suite, at microsecond precision: the databases
// keep microseconds, so times round-trip exactly.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456000, time.UTC)

func createApp(t *testing.T, s *store.Store, id string) identity.App {
	t.Helper()
	a := identity.App{ID: id, Name: "App " + id, Settings: identity.DefaultSettings(), CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateApp(t.Context(), a); err != nil {
		t.Fatalf("CreateApp(%q) = %v", id, err)
	}
	return a
}

func newUser(appID, id, email, userName string) identity.User {
	return identity.User{
		ID:        id,
		AppID:     appID,
		Email:     email,
		UserName:  userName,
		Status:    identity.UserActive,
		TwoFactor: identity.TwoFactorNone,
		Locale:    "en",
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

func createUser(t *testing.T, s *store.Store, u identity.User) identity.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u, ""); err != nil {
		t.Fatalf("CreateUser(%q) = %v", u.ID, err)
	}
	return u
}

// wantKind fails t unless err is an *apperr.Error of kind (nil for kind -1).
func wantKind(t *testing.T, what string, err error, want apperr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = nil, want %v error", what, want)
	}
	if got := apperr.KindOf(err); got != want {
		t.Fatalf("%s = %v (kind %v), want kind %v", what, err, got, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v, want nil", what, err)
	}
}

// race runs fn in n goroutines released together and returns how many
// got true. Any error fails t.
func race(t *testing.T, n int, fn func() (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		trues int
		errs  []error
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			ok, err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				trues++
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("racing call: %v", err)
	}
	return trues
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		before, err := store.AppliedMigrations(ctx, s)
		noErr(t, "AppliedMigrations", err)
		if len(before) == 0 {
			t.Fatal("AppliedMigrations after Migrate = none")
		}
		noErr(t, "second Migrate", s.Migrate(ctx))
		after, err := store.AppliedMigrations(ctx, s)
		noErr(t, "AppliedMigrations", err)
		if !slices.Equal(before, after) {
			t.Errorf("applied migrations after a second Migrate = %v, want %v", after, before)
		}
	})
}

// Replicas start together: every Migrate succeeds and each migration is
// applied once.
func TestMigrateConcurrentPostgres(t *testing.T) {
	t.Parallel()
	// The smallest pool: the migration lock holds one connection while
	// the migrations run on the other.
	u, err := url.Parse(storetest.EmptyPostgres(t))
	noErr(t, "url.Parse", err)
	q := u.Query()
	q.Set("pool_max_conns", "2")
	u.RawQuery = q.Encode()
	const replicas = 4
	stores := make([]*store.Store, replicas)
	for i := range stores {
		s, err := store.Open(t.Context(), u.String(), nil)
		noErr(t, "Open", err)
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		noErr(t, "Migrate in replica "+string(rune('0'+i)), err)
	}
	applied, err := store.AppliedMigrations(t.Context(), stores[0])
	noErr(t, "AppliedMigrations", err)
	if len(applied) != len(slices.Compact(slices.Clone(applied))) || len(applied) == 0 {
		t.Errorf("applied migrations = %v, want each once", applied)
	}
	createApp(t, stores[1], "after-migrate")
}

// The two dialects' migrations give the same tables, columns, nullability
// and indexes.
func TestSchemaSameOnBothDialects(t *testing.T) {
	t.Parallel()
	lite, err := store.Schema(t.Context(), storetest.SQLite(t))
	noErr(t, "Schema(sqlite)", err)
	pg, err := store.Schema(t.Context(), storetest.Postgres(t))
	noErr(t, "Schema(postgres)", err)
	for _, l := range lite {
		if !slices.Contains(pg, l) {
			t.Errorf("sqlite has %q, postgres does not", l)
		}
	}
	for _, l := range pg {
		if !slices.Contains(lite, l) {
			t.Errorf("postgres has %q, sqlite does not", l)
		}
	}
	if len(lite) < 40 {
		t.Errorf("schema has %d lines, want the whole schema:\n%s", len(lite), strings.Join(lite, "\n"))
	}
}

func TestOpenSQLiteURLs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name, url, file string
	}{
		{"sqlite absolute", "sqlite://" + filepath.Join(dir, "a", "abs.db"), filepath.Join(dir, "a", "abs.db")},
		{"sqlite relative", "sqlite://var/rel.db", filepath.Join(dir, "var", "rel.db")},
		{"file URI", "file:" + filepath.Join(dir, "b", "uri.db") + "?cache=private", filepath.Join(dir, "b", "uri.db")},
		{"bare path", filepath.Join(dir, "c", "d", "bare.db"), filepath.Join(dir, "c", "d", "bare.db")},
		{"bare relative path", "var/bare rel.db", filepath.Join(dir, "var", "bare rel.db")},
		{"own pragma kept", "sqlite://" + filepath.Join(dir, "p.db") + "?_pragma=busy_timeout(50)", filepath.Join(dir, "p.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tt.url, nil)
			noErr(t, "Open("+tt.url+")", err)
			defer s.Close()
			if got := s.Dialect(); got != store.SQLite {
				t.Errorf("Dialect() = %q, want %q", got, store.SQLite)
			}
			noErr(t, "Migrate", s.Migrate(t.Context()))
			createApp(t, s, "x")
			fi, err := os.Stat(tt.file)
			noErr(t, "Stat(database file)", err)
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("database file mode = %v, want 0600", mode)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		kind      apperr.Kind
		mention   string
	}{
		{"postgres refused", "postgres://postgres:hunter2secret@127.0.0.1:1/appdb?sslmode=disable", apperr.Unavailable, `"appdb"`},
		{"postgres bad sslmode", "postgresql://postgres:hunter2secret@127.0.0.1:5432/appdb?sslmode=sometimes", apperr.Invalid, "sslmode"},
		{"postgres bad URL", "postgres://postgres:hunter2secret@[::1/appdb", apperr.Invalid, "postgres"},
		{"postgres bad pool size", "postgres://postgres:hunter2secret@127.0.0.1:5432/appdb?sslmode=disable&pool_max_conns=lots", apperr.Invalid, "pool_max_conns"},
		{"sqlite in memory", ":memory:", apperr.Invalid, "in-memory"},
		{"sqlite unusable directory", "sqlite:///proc/cosync/x.db", apperr.Invalid, "/proc/cosync/x.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := store.Open(t.Context(), tt.url, nil)
			if err == nil {
				s.Close()
			}
			wantKind(t, "Open("+tt.name+")", err, tt.kind)
			msg := err.Error()
			if strings.Contains(msg, "hunter2secret") {
				t.Errorf("Open error %q shows the password", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("Open error %q is not one line", msg)
			}
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("Open error %q does not mention %q", msg, tt.mention)
			}
		})
	}
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	s := storetest.Postgres(t)
	if got := s.Dialect(); got != store.Postgres {
		t.Errorf("Dialect() = %q, want %q", got, store.Postgres)
	}
	noErr(t, "Ping", s.Ping(t.Context()))
}

func TestCanceledContextIsUnavailable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := s.GetApp(ctx, "x")
		wantKind(t, "GetApp(canceled ctx)", err, apperr.Unavailable)
	})
}

// equal fails t unless got and want are deeply equal.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n  %+v\nwant\n  %+v", what, got, want)
	}
}
