package console_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestUpdateAppConcurrentFields: updates of different fields that race
// all stay, because UpdateApp patches the row it holds, not a copy read
// before its transaction.
func TestUpdateAppConcurrentFields(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		a := identity.App{ID: "app1", Name: "Notes", Settings: identity.DefaultSettings(), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
		dev := identity.Developer{ID: "dev1"}
		if err := st.PutMember(ctx, identity.Member{AppID: a.ID, DeveloperID: dev.ID, Role: identity.RoleOwner, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		svc := console.New(console.Deps{Store: st.Console(), Now: func() time.Time { return now }})

		// Each update sets one field of what it is given, as a field mask does.
		updates := map[string]func(*console.AppChange){
			"name":               func(c *console.AppChange) { c.Name = "Renamed" },
			"max_login_attempts": func(c *console.AppChange) { c.Settings.MaxLoginAttempts = 7 },
			"user_names_enabled": func(c *console.AppChange) { c.Settings.UserNamesEnabled = true },
			"audience":           func(c *console.AppChange) { c.Settings.Audience = []string{"aud-x"} },
			"email_claim":        func(c *console.AppChange) { c.Settings.EmailClaim = !identity.DefaultSettings().EmailClaim },
			"authenticator_label": func(c *console.AppChange) {
				c.Settings.AuthenticatorLabel = "Notes Inc."
			},
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for field, set := range updates {
			wg.Go(func() {
				<-start
				_, err := svc.UpdateApp(ctx, dev, a.ID, func(cur identity.App) (console.AppChange, error) {
					ch := console.AppChange{Name: cur.Name, Settings: cur.Settings}
					set(&ch)
					return ch, nil
				})
				if err != nil {
					t.Errorf("UpdateApp(%s) = %v", field, err)
				}
			})
		}
		close(start)
		wg.Wait()

		got, err := st.GetApp(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := console.AppChange{Name: a.Name, Settings: a.Settings}
		for _, set := range updates {
			set(&want)
		}
		if got.Name != want.Name {
			t.Errorf("name = %q, want %q", got.Name, want.Name)
		}
		s, w := got.Settings, want.Settings
		if s.MaxLoginAttempts != w.MaxLoginAttempts || s.UserNamesEnabled != w.UserNamesEnabled ||
			!slices.Equal(s.Audience, w.Audience) || s.EmailClaim != w.EmailClaim || s.AuthenticatorLabel != w.AuthenticatorLabel {
			t.Errorf("after %d concurrent updates of different fields, settings = %+v, want every update kept: %+v", len(updates), s, w)
		}
	})
}
