package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		createUser(t, s, newUser("app1", "u1", "ada@example.com", "Ada"))

		anon := func(id string) identity.User {
			u := newUser("app1", id, "", "")
			u.Anonymous = true
			return u
		}
		tests := []struct {
			name string
			user identity.User
			want apperr.Kind // apperr.Internal stands for no error
		}{
			{"duplicate email", newUser("app1", "u2", "ada@example.com", ""), apperr.Exists},
			{"duplicate user name differing in case", newUser("app1", "u3", "other@example.com", "aDA"), apperr.Exists},
			{"duplicate id", newUser("app1", "u1", "new@example.com", ""), apperr.Exists},
			{"first anonymous user", anon("anon1"), apperr.Internal},
			{"second anonymous user", anon("anon2"), apperr.Internal},
			{"same email in another app", newUser("app2", "u4", "ada@example.com", "Ada"), apperr.Internal},
			{"user name but no email", newUser("app1", "u5", "", "Grace"), apperr.Internal},
			{"unknown app", newUser("nope", "u6", "x@example.com", ""), apperr.NotFound},
		}
		for _, tt := range tests {
			err := s.CreateUser(ctx, tt.user, "")
			if tt.want == apperr.Internal {
				noErr(t, "CreateUser("+tt.name+")", err)
				continue
			}
			wantKind(t, "CreateUser("+tt.name+")", err, tt.want)
		}

		got, err := s.FindUserByEmail(ctx, "app1", "ada@example.com")
		noErr(t, "FindUserByEmail", err)
		equal(t, "FindUserByEmail", got, newUser("app1", "u1", "ada@example.com", "Ada"))
		got, err = s.FindUserByUserName(ctx, "app1", "ADA")
		noErr(t, "FindUserByUserName(other case)", err)
		if got.ID != "u1" || got.UserName != "Ada" {
			t.Errorf("FindUserByUserName(ADA) = %s %q, want u1 \"Ada\"", got.ID, got.UserName)
		}
		got, err = s.GetUser(ctx, "app1", "anon2")
		noErr(t, "GetUser(anonymous)", err)
		equal(t, "GetUser(anonymous)", got, anon("anon2"))

		for name, err := range map[string]error{
			"FindUserByEmail(unknown)":        second(s.FindUserByEmail(ctx, "app1", "nobody@example.com")),
			"FindUserByEmail(empty)":          second(s.FindUserByEmail(ctx, "app1", "")),
			"FindUserByEmail(other app)":      second(s.FindUserByEmail(ctx, "app2", "grace@example.com")),
			"FindUserByUserName(unknown)":     second(s.FindUserByUserName(ctx, "app1", "nobody")),
			"FindUserByUserName(empty)":       second(s.FindUserByUserName(ctx, "app1", "")),
			"GetUser(unknown)":                second(s.GetUser(ctx, "app1", "nope")),
			"GetUser(user of another app)":    second(s.GetUser(ctx, "app2", "u1")),
			"PasswordHash(unknown)":           second(s.PasswordHash(ctx, "app1", "nope")),
			"SetPasswordHash(unknown)":        s.SetPasswordHash(ctx, "app1", "nope", "h", t0),
			"RecordLoginSuccess(unknown)":     s.RecordLoginSuccess(ctx, "app1", "nope", t0),
			"RecordLoginFailure(unknown)":     third(s.RecordLoginFailure(ctx, "app1", "nope", t0, 3, nil)),
			"UpdateUser(unknown)":             s.UpdateUser(ctx, newUser("app1", "nope", "", "")),
			"UpdateUser(user of another app)": s.UpdateUser(ctx, newUser("app2", "u1", "", "")),
		} {
			wantKind(t, name, err, apperr.NotFound)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		u := createUser(t, s, newUser("app1", "u1", "ada@example.com", "Ada"))
		createUser(t, s, newUser("app1", "u2", "grace@example.com", "Grace"))

		u.Email = "ada@lovelace.org"
		u.UserName = "Countess"
		u.Phone = "+15551234567"
		u.PhoneVerified = true
		u.Metadata = map[string]any{
			"user_data": map[string]any{
				"name":  "Ada",
				"age":   36.0,
				"admin": true,
				"tags":  []any{"math", 1.5, false, nil},
				"deep":  map[string]any{"deeper": map[string]any{"n": -0.25}},
			},
			"score": 1e21,
			"off":   false,
			"none":  nil,
		}
		u.Locale = "pt-BR"
		u.Status = identity.UserSuspended
		u.TwoFactor = identity.TwoFactorTOTP
		u.Anonymous = true
		u.UpdatedAt = t0.Add(time.Hour)
		noErr(t, "UpdateUser", s.UpdateUser(ctx, u))
		got, err := s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		equal(t, "GetUser after UpdateUser", got, u)

		// Only the profile is written: counters and times stay.
		sneaky := u
		sneaky.FailedLogins = 9
		sneaky.LockedUntil = t0
		sneaky.LastLoginAt = t0
		sneaky.CreatedAt = t0.Add(time.Hour)
		sneaky.HasPassword = true
		noErr(t, "UpdateUser(non-profile fields)", s.UpdateUser(ctx, sneaky))
		got, err = s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		equal(t, "GetUser after UpdateUser of non-profile fields", got, u)

		taken := u
		taken.Email = "grace@example.com"
		wantKind(t, "UpdateUser(taken email)", s.UpdateUser(ctx, taken), apperr.Exists)
		taken = u
		taken.UserName = "GRACE"
		wantKind(t, "UpdateUser(taken user name)", s.UpdateUser(ctx, taken), apperr.Exists)

		// Clearing email and user name frees them and leaves NULLs that
		// collide with nothing.
		cleared := u
		cleared.Email, cleared.UserName, cleared.Metadata = "", "", nil
		noErr(t, "UpdateUser(cleared)", s.UpdateUser(ctx, cleared))
		got, err = s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		equal(t, "GetUser after clearing", got, cleared)
		createUser(t, s, newUser("app1", "u3", "ada@lovelace.org", "countess"))
	})
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		noErr(t, "CreateUser(with password)", s.CreateUser(ctx, newUser("app1", "u1", "a@example.com", ""), "$argon2id$v=19$first"))
		createUser(t, s, newUser("app1", "u2", "b@example.com", ""))

		steps := []struct {
			name, user, set string // set "-" reads only
			want            string
		}{
			{"created with a password", "u1", "-", "$argon2id$v=19$first"},
			{"created without", "u2", "-", ""},
			{"set", "u2", "$argon2id$v=19$second", "$argon2id$v=19$second"},
			{"change", "u1", "$argon2id$v=19$third", "$argon2id$v=19$third"},
			{"remove", "u1", "", ""},
		}
		for _, st := range steps {
			if st.set != "-" {
				noErr(t, "SetPasswordHash("+st.name+")", s.SetPasswordHash(ctx, "app1", st.user, st.set, t0.Add(time.Minute)))
			}
			got, err := s.PasswordHash(ctx, "app1", st.user)
			noErr(t, "PasswordHash("+st.name+")", err)
			if got != st.want {
				t.Errorf("PasswordHash(%s) = %q, want %q", st.name, got, st.want)
			}
			u, err := s.GetUser(ctx, "app1", st.user)
			noErr(t, "GetUser", err)
			if u.HasPassword != (st.want != "") {
				t.Errorf("%s: HasPassword = %v, want %v", st.name, u.HasPassword, st.want != "")
			}
			if st.set != "-" && !u.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("%s: UpdatedAt = %v, want %v", st.name, u.UpdatedAt, t0.Add(time.Minute))
			}
		}
		_, err := s.PasswordHash(ctx, "app2", "u1")
		wantKind(t, "PasswordHash(other app)", err, apperr.NotFound)
	})
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		backoff := func(n int) time.Duration { return time.Duration(n) * time.Minute }

		steps := []struct {
			count int
			lock  time.Duration // zero: not locked
		}{{1, 0}, {2, 0}, {3, time.Minute}, {4, 2 * time.Minute}}
		for _, st := range steps {
			count, until, err := s.RecordLoginFailure(ctx, "app1", "u1", t0, 3, backoff)
			noErr(t, "RecordLoginFailure", err)
			var want time.Time
			if st.lock != 0 {
				want = t0.Add(st.lock)
			}
			if count != st.count || !until.Equal(want) {
				t.Errorf("RecordLoginFailure = %d, %v; want %d, %v", count, until, st.count, want)
			}
		}
		u, err := s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		if u.FailedLogins != 4 || !u.LockedUntil.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("user after 4 failures: FailedLogins %d, LockedUntil %v; want 4, %v", u.FailedLogins, u.LockedUntil, t0.Add(2*time.Minute))
		}

		later := t0.Add(time.Hour)
		noErr(t, "RecordLoginSuccess", s.RecordLoginSuccess(ctx, "app1", "u1", later))
		u, err = s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		if u.FailedLogins != 0 || !u.LockedUntil.IsZero() || !u.LastLoginAt.Equal(later) {
			t.Errorf("user after success: FailedLogins %d, LockedUntil %v, LastLoginAt %v; want 0, zero, %v", u.FailedLogins, u.LockedUntil, u.LastLoginAt, later)
		}

		// max 0: count but never lock.
		for want := 1; want <= 3; want++ {
			count, until, err := s.RecordLoginFailure(ctx, "app1", "u1", t0, 0, nil)
			noErr(t, "RecordLoginFailure(max 0)", err)
			if count != want || !until.IsZero() {
				t.Errorf("RecordLoginFailure(max 0) = %d, %v; want %d, zero", count, until, want)
			}
		}
	})
}

// Concurrent failures each count: the counts handed out are 1..n.
func TestLoginFailuresRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		const n = 20
		var (
			mu   sync.Mutex
			seen = map[int]bool{}
		)
		race(t, n, func() (bool, error) {
			count, _, err := s.RecordLoginFailure(ctx, "app1", "u1", t0, 5, func(n int) time.Duration { return time.Duration(n) * time.Second })
			mu.Lock()
			seen[count] = true
			mu.Unlock()
			return false, err
		})
		for i := 1; i <= n; i++ {
			if !seen[i] {
				t.Errorf("no caller got count %d; got %v", i, seen)
			}
		}
		u, err := s.GetUser(ctx, "app1", "u1")
		noErr(t, "GetUser", err)
		if want := t0.Add((n - 5 + 1) * time.Second); u.FailedLogins != n || !u.LockedUntil.Equal(want) {
			t.Errorf("after %d racing failures: FailedLogins %d, LockedUntil %v; want %d, %v", n, u.FailedLogins, u.LockedUntil, n, want)
		}
	})
}
