package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/notify"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestApps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()

		settings := identity.DefaultSettings()
		settings.UserNamesEnabled = true
		settings.TwoFactor = identity.TwoFactorSMS
		settings.Twilio = identity.TwilioSettings{AccountSID: "AC1", AuthTokenSealed: []byte{0, 1, 2, 255}, AuthTokenHint: "****1234"}
		settings.Audience = []string{"atlas-app", "other"}
		settings.SignupMetadataFields = []identity.MetadataField{{Path: "user_data.name", Required: true, Type: identity.FieldString}}
		settings.KeyRotation = identity.KeyRotation{Interval: 48 * time.Hour}
		a := identity.App{ID: "app1", Name: "First", Settings: settings, CreatedAt: t0, UpdatedAt: t0}
		noErr(t, "CreateApp", s.CreateApp(ctx, a))
		wantKind(t, "CreateApp(same id)", s.CreateApp(ctx, a), apperr.Exists)

		got, err := s.GetApp(ctx, "app1")
		noErr(t, "GetApp", err)
		equal(t, "GetApp", got, a)
		_, err = s.GetApp(ctx, "nope")
		wantKind(t, "GetApp(unknown)", err, apperr.NotFound)

		a.Name = "Renamed"
		a.Settings.SignupEnabled = false
		a.Settings.Locales = []string{"en", "pt-BR"}
		a.UpdatedAt = t0.Add(time.Hour)
		noErr(t, "UpdateApp", s.UpdateApp(ctx, a))
		got, err = s.GetApp(ctx, "app1")
		noErr(t, "GetApp after UpdateApp", err)
		equal(t, "GetApp after UpdateApp", got, a)

		wantKind(t, "UpdateApp(unknown)", s.UpdateApp(ctx, identity.App{ID: "nope", Name: "x", UpdatedAt: t0}), apperr.NotFound)
		wantKind(t, "DeleteApp(unknown)", s.DeleteApp(ctx, "nope"), apperr.NotFound)
	})
}

// DeleteApp removes every row scoped to the app, and nothing of other apps.
func TestDeleteAppCascades(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		fill := func(appID string) {
			createApp(t, s, appID)
			createUser(t, s, newUser(appID, appID+"-u1", appID+"@example.com", appID+"-name"))
			noErr(t, "PutMember", s.PutMember(ctx, identity.Member{AppID: appID, DeveloperID: "dev", Role: identity.RoleOwner, CreatedAt: t0}))
			noErr(t, "CreateSession", s.CreateSession(ctx, identity.Session{ID: appID + "-s1", AppID: appID, UserID: appID + "-u1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
			noErr(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, identity.RefreshToken{ID: appID + "-r1", AppID: appID, SessionID: appID + "-s1", Hash: appID + "-h1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
			noErr(t, "PutCode", s.PutCode(ctx, identity.Code{ID: appID + "-c1", AppID: appID, Purpose: identity.PurposeSignup, Handle: "x@example.com", Hash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, keys.Record{AppID: appID, KID: "k1", Algorithm: keys.AlgRS256, Backend: "local", State: keys.StateActive, PublicKeyPEM: "pem", CreatedAt: t0}))
			noErr(t, "InsertOutboxMessage", s.InsertOutboxMessage(ctx, notify.OutboxMessage{ID: appID + "-m1", AppID: appID, Channel: "email", To: "x@example.com", SentAt: t0}))
			noErr(t, "InsertAuditEvent", s.InsertAuditEvent(ctx, identity.AuditEvent{ID: appID + "-e1", AppID: appID, Action: "user.signup", Outcome: identity.OutcomeSuccess, OccurredAt: t0}))
		}
		fill("doomed")
		fill("kept")

		noErr(t, "DeleteApp", s.DeleteApp(ctx, "doomed"))
		_, err := s.GetApp(ctx, "doomed")
		wantKind(t, "GetApp(deleted)", err, apperr.NotFound)

		// Recreate the app: nothing of the old one may come back with it.
		createApp(t, s, "doomed")
		for _, id := range []string{"doomed", "kept"} {
			present := id == "kept"
			check := func(what string, err error) {
				t.Helper()
				if present {
					noErr(t, what+" in "+id, err)
				} else {
					wantKind(t, what+" in recreated "+id, err, apperr.NotFound)
				}
			}
			_, err = s.GetUser(ctx, id, id+"-u1")
			check("GetUser", err)
			_, err = s.GetMember(ctx, id, "dev")
			check("GetMember", err)
			_, err = s.GetSession(ctx, id, id+"-s1")
			check("GetSession", err)
			_, err = s.FindRefreshToken(ctx, id, id+"-h1")
			check("FindRefreshToken", err)
			_, err = s.FindCode(ctx, id, identity.PurposeSignup, "x@example.com")
			check("FindCode", err)

			want := 0
			if present {
				want = 1
			}
			ks, err := s.ListSigningKeys(ctx, id)
			noErr(t, "ListSigningKeys", err)
			msgs, err := s.ListOutboxMessages(ctx, id, 0)
			noErr(t, "ListOutboxMessages", err)
			events, err := store.AuditEvents(ctx, s, id)
			noErr(t, "AuditEvents", err)
			if len(ks) != want || len(msgs) != want || len(events) != want {
				t.Errorf("app %s has %d keys, %d outbox messages, %d audit events; want %d each", id, len(ks), len(msgs), len(events), want)
			}
		}
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		// Created out of order: the list is ordered by id, not by creation.
		for _, id := range []string{"app-c", "app-a", "app-e", "app-b", "app-d", "app-x"} {
			createApp(t, s, id)
		}
		roles := map[string]identity.Role{"app-a": identity.RoleOwner, "app-b": identity.RoleAdmin, "app-c": identity.RoleViewer, "app-d": identity.RoleOwner, "app-e": identity.RoleAdmin}
		for id, role := range roles {
			noErr(t, "PutMember", s.PutMember(ctx, identity.Member{AppID: id, DeveloperID: "dev1", Role: role, CreatedAt: t0}))
		}
		noErr(t, "PutMember(other developer)", s.PutMember(ctx, identity.Member{AppID: "app-x", DeveloperID: "dev2", Role: identity.RoleOwner, CreatedAt: t0}))

		// Changing a role keeps the membership's CreatedAt.
		noErr(t, "PutMember(new role)", s.PutMember(ctx, identity.Member{AppID: "app-c", DeveloperID: "dev1", Role: identity.RoleAdmin, CreatedAt: t0.Add(time.Hour)}))
		roles["app-c"] = identity.RoleAdmin
		m, err := s.GetMember(ctx, "app-c", "dev1")
		noErr(t, "GetMember", err)
		equal(t, "GetMember", m, identity.Member{AppID: "app-c", DeveloperID: "dev1", Role: identity.RoleAdmin, CreatedAt: t0})

		_, err = s.GetMember(ctx, "app-x", "dev1")
		wantKind(t, "GetMember(not a member)", err, apperr.NotFound)
		wantKind(t, "PutMember(unknown app)", s.PutMember(ctx, identity.Member{AppID: "nope", DeveloperID: "dev1", Role: identity.RoleOwner, CreatedAt: t0}), apperr.NotFound)

		tests := []struct {
			name, after string
			limit       int
			want        []string
		}{
			{"first page", "", 2, []string{"app-a", "app-b"}},
			{"second page", "app-b", 2, []string{"app-c", "app-d"}},
			{"last page", "app-d", 2, []string{"app-e"}},
			{"past the end", "app-e", 2, nil},
			{"after a non-member id", "app-bb", 10, []string{"app-c", "app-d", "app-e"}},
			{"no limit", "", 0, []string{"app-a", "app-b", "app-c", "app-d", "app-e"}},
		}
		for _, tt := range tests {
			got, err := s.ListMemberApps(ctx, "dev1", tt.after, tt.limit)
			noErr(t, "ListMemberApps("+tt.name+")", err)
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
				if a.Role != roles[a.ID] {
					t.Errorf("ListMemberApps(%s): %s has role %q, want %q", tt.name, a.ID, a.Role, roles[a.ID])
				}
				if a.Name != "App "+a.ID || a.Settings.TokenLifetime != time.Hour || !a.CreatedAt.Equal(t0) {
					t.Errorf("ListMemberApps(%s): app %+v is not the one stored", tt.name, a.App)
				}
			}
			equal(t, "ListMemberApps("+tt.name+") ids", ids, tt.want)
		}
		got, err := s.ListMemberApps(ctx, "nobody", "", 10)
		noErr(t, "ListMemberApps(nobody)", err)
		if len(got) != 0 {
			t.Errorf("ListMemberApps(nobody) = %v, want none", got)
		}
	})
}
