package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// listIDs lists every user matching f, page by page of size, and checks
// each page's count against CountUsers.
func listIDs(t *testing.T, s *store.Store, appID string, f identity.UserFilter, size int) []string {
	t.Helper()
	var (
		ids   []string
		after identity.UserCursor
	)
	for range 100 {
		page, err := s.ListUsers(t.Context(), appID, f, after, size)
		noErr(t, "ListUsers", err)
		for _, u := range page {
			ids = append(ids, u.ID)
		}
		if len(page) < size {
			return ids
		}
		last := page[len(page)-1]
		after = identity.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	t.Fatalf("ListUsers(%+v) did not end", f)
	return nil
}

func TestListUsersFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createApp(t, s, "app2")
		at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
		add := func(u identity.User, created int, hash string, md map[string]any) {
			t.Helper()
			u.CreatedAt, u.UpdatedAt, u.Metadata = at(created), at(created), md
			noErr(t, "CreateUser("+u.ID+")", s.CreateUser(ctx, u, hash))
		}
		add(newUser("app1", "ada", "ada@example.com", "Ada"), 1, "h", map[string]any{"team": "Blue", "profile": map[string]any{"city": "Zürich"}})
		add(newUser("app1", "adam", "adam@other.org", "AdamX"), 2, "", map[string]any{"team": "red", "level": 42.0})
		add(newUser("app1", "bob", "bob@example.com", "Bob_1"), 3, "h", nil)
		anon := newUser("app1", "anon", "", "")
		anon.Anonymous = true
		add(anon, 4, "", nil)
		sus := newUser("app1", "sue", "sue@example.com", "")
		sus.Status = identity.UserSuspended
		add(sus, 5, "h", map[string]any{"team": "blue"})
		add(newUser("app2", "ada2", "ada@example.com", "Ada"), 6, "h", map[string]any{"team": "blue"})

		noErr(t, "CreateIdentity", s.CreateIdentity(ctx, newIdentity("app1", "i1", "adam", social.Apple, "sub-adam")))
		noErr(t, "CreateIdentity", s.CreateIdentity(ctx, newIdentity("app1", "i2", "bob", social.Google, "sub-bob")))
		if _, err := s.SwitchTwoFactor(ctx, "app1", "bob", identity.TwoFactorNone, identity.TwoFactorTOTP, t0); err != nil {
			t.Fatal(err)
		}
		noErr(t, "RecordLoginSuccess", s.RecordLoginSuccess(ctx, "app1", "ada", at(10)))
		noErr(t, "RecordLoginSuccess", s.RecordLoginSuccess(ctx, "app1", "bob", at(20)))

		yes, no := true, false
		tests := []struct {
			name string
			f    identity.UserFilter
			want []string // newest first
		}{
			{"everyone", identity.UserFilter{}, []string{"sue", "anon", "bob", "adam", "ada"}},
			{"email prefix", identity.UserFilter{Query: "ada"}, []string{"adam", "ada"}},
			{"email prefix in upper case", identity.UserFilter{Query: "ADA@EX"}, []string{"ada"}},
			{"user name prefix ignoring case", identity.UserFilter{Query: "adamx"}, []string{"adam"}},
			{"LIKE wildcards are literal", identity.UserFilter{Query: "bob_"}, []string{"bob"}},
			{"a wildcard alone matches nothing", identity.UserFilter{Query: "%"}, nil},
			{"exact id", identity.UserFilter{Query: "sue"}, []string{"sue"}},
			{"id prefix is not a match", identity.UserFilter{Query: "ano"}, nil},
			{"metadata value ignoring case", identity.UserFilter{Query: "BLUE"}, []string{"sue", "ada"}},
			{"nested metadata value", identity.UserFilter{Query: "Zürich"}, []string{"ada"}},
			{"metadata number", identity.UserFilter{Query: "42"}, []string{"adam"}},
			{"metadata part of a value", identity.UserFilter{Query: "blu"}, nil},
			{"metadata key is not a value", identity.UserFilter{Query: "team"}, nil},
			{"status", identity.UserFilter{Status: identity.UserSuspended}, []string{"sue"}},
			{"anonymous", identity.UserFilter{Anonymous: &yes}, []string{"anon"}},
			{"not anonymous", identity.UserFilter{Anonymous: &no}, []string{"sue", "bob", "adam", "ada"}},
			{"password", identity.UserFilter{Provider: identity.ProviderPassword}, []string{"sue", "bob", "ada"}},
			{"apple", identity.UserFilter{Provider: "apple"}, []string{"adam"}},
			{"google", identity.UserFilter{Provider: "google"}, []string{"bob"}},
			{"no second factor", identity.UserFilter{TwoFactor: identity.TwoFactorNone}, []string{"sue", "anon", "adam", "ada"}},
			{"totp", identity.UserFilter{TwoFactor: identity.TwoFactorTOTP}, []string{"bob"}},
			{"created from", identity.UserFilter{CreatedAfter: at(3)}, []string{"sue", "anon", "bob"}},
			{"created before (half-open)", identity.UserFilter{CreatedBefore: at(3)}, []string{"adam", "ada"}},
			{"created in a range", identity.UserFilter{CreatedAfter: at(2), CreatedBefore: at(4)}, []string{"bob", "adam"}},
			{"last login from", identity.UserFilter{LastLoginAfter: at(20)}, []string{"bob"}},
			{"last login before leaves out who never signed in", identity.UserFilter{LastLoginBefore: at(20)}, []string{"ada"}},
			{"filters combine", identity.UserFilter{Query: "blue", Status: identity.UserActive}, []string{"ada"}},
		}
		for _, tt := range tests {
			for _, size := range []int{1, 2, 50} {
				got := listIDs(t, s, "app1", tt.f, size)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s (pages of %d): ListUsers = %v, want %v", tt.name, size, got, tt.want)
				}
			}
			n, err := s.CountUsers(ctx, "app1", tt.f)
			noErr(t, "CountUsers", err)
			if n != len(tt.want) {
				t.Errorf("%s: CountUsers = %d, want %d", tt.name, n, len(tt.want))
			}
		}
		if got := listIDs(t, s, "app2", identity.UserFilter{}, 10); !slices.Equal(got, []string{"ada2"}) {
			t.Errorf("ListUsers(app2) = %v, want only its own user", got)
		}
	})
}

// TestListUsersPagingStable pages through the users while new ones are
// created between pages, some at the very time of the cursor: every user
// that existed at the start is seen exactly once, and no page repeats one.
func TestListUsersPagingStable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		var want []string
		for i := range 25 {
			u := newUser("app1", fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d@example.com", i), "")
			u.CreatedAt = t0.Add(time.Duration(i/3) * time.Second) // three users per instant: ties break by id
			createUser(t, s, u)
			want = append([]string{u.ID}, want...)
		}
		seen := map[string]bool{}
		var got []string
		after := identity.UserCursor{}
		for page := 0; ; page++ {
			users, err := s.ListUsers(ctx, "app1", identity.UserFilter{}, after, 4)
			noErr(t, "ListUsers", err)
			for _, u := range users {
				if seen[u.ID] {
					t.Errorf("page %d repeats %s", page, u.ID)
				}
				seen[u.ID] = true
				got = append(got, u.ID)
			}
			if len(users) < 4 {
				break
			}
			last := users[len(users)-1]
			after = identity.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
			// Newcomers: one later than everyone, one at the cursor's very time.
			for _, at := range []time.Time{t0.Add(time.Hour), last.CreatedAt} {
				u := newUser("app1", fmt.Sprintf("new%d-%s", page, at.Format("150405")), "", "")
				u.ID = "z" + u.ID // sorts after every "u…" id: at the cursor's time it comes before the cursor
				u.CreatedAt = at
				createUser(t, s, u)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paging while users are created = %v, want %v", got, want)
		}
		n, err := s.CountUsers(ctx, "app1", identity.UserFilter{})
		noErr(t, "CountUsers", err)
		if n <= len(want) {
			t.Errorf("CountUsers = %d, want the newcomers counted too (> %d)", n, len(want))
		}
	})
}

// TestSessionUse: a session records where and how it was opened, and its
// refresh token's rotation records its last use; ListActiveSessions lists
// live sessions only, most recently used first.
func TestSessionUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "app1")
		createUser(t, s, newUser("app1", "u1", "a@example.com", ""))
		createUser(t, s, newUser("app1", "u2", "b@example.com", ""))
		mk := func(id, user string, created time.Time) identity.Session {
			sess := identity.Session{ID: id, AppID: "app1", UserID: user, CreatedAt: created, ExpiresAt: t0.Add(24 * time.Hour),
				IP: "192.0.2.7", UserAgent: "Notes/1.0 (iPhone)", Method: identity.SessionByPassword}
			noErr(t, "CreateSession("+id+")", s.CreateSession(ctx, sess))
			return sess
		}
		old := mk("old", "u1", t0)
		fresh := mk("fresh", "u1", t0.Add(time.Minute))
		mk("revoked", "u1", t0.Add(2*time.Minute))
		noErr(t, "RevokeSession", s.RevokeSession(ctx, "app1", "revoked", "logout", t0.Add(3*time.Minute)))
		expired := identity.Session{ID: "expired", AppID: "app1", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
		noErr(t, "CreateSession(expired)", s.CreateSession(ctx, expired))
		mk("other", "u2", t0)

		got, err := s.GetSession(ctx, "app1", "old")
		noErr(t, "GetSession", err)
		equal(t, "GetSession", got, old)

		now := t0.Add(time.Hour)
		ids := func() []string {
			list, err := s.ListActiveSessions(ctx, "app1", "u1", now)
			noErr(t, "ListActiveSessions", err)
			var out []string
			for _, s := range list {
				out = append(out, s.ID)
			}
			return out
		}
		if got := ids(); !slices.Equal(got, []string{"fresh", "old"}) {
			t.Errorf("ListActiveSessions = %v, want [fresh old] (newest first; no revoked, expired or other user's)", got)
		}

		rt := identity.RefreshToken{ID: "rt1", AppID: "app1", SessionID: "old", Hash: "h1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, rt))
		used := t0.Add(30 * time.Minute)
		won, err := s.MarkRefreshTokenRotated(ctx, "app1", "rt1", used)
		noErr(t, "MarkRefreshTokenRotated", err)
		if !won {
			t.Fatal("MarkRefreshTokenRotated = false, want true the first time")
		}
		won, err = s.MarkRefreshTokenRotated(ctx, "app1", "rt1", used.Add(time.Minute))
		noErr(t, "MarkRefreshTokenRotated(again)", err)
		if won {
			t.Error("MarkRefreshTokenRotated(again) = true, want false")
		}
		got, err = s.GetSession(ctx, "app1", "old")
		noErr(t, "GetSession", err)
		if !got.LastUsedAt.Equal(used) {
			t.Errorf("LastUsedAt after a rotation = %v, want %v (the losing second call changes nothing)", got.LastUsedAt, used)
		}
		if got := ids(); !slices.Equal(got, []string{"old", "fresh"}) {
			t.Errorf("ListActiveSessions after using old = %v, want [old fresh]", got)
		}
		f, err := s.GetSession(ctx, "app1", "fresh")
		noErr(t, "GetSession", err)
		equal(t, "GetSession(fresh), untouched", f, fresh)
	})
}
