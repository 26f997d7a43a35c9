package store_test

import (
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, "a1")
		createApp(t, s, "a2")
		k1 := identity.APIKey{ID: "k1", AppID: "a1", Name: "ci", Role: identity.RoleAdmin, Prefix: "0123abcd", Hash: "h1",
			CreatedBy: "dev1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
		k2 := identity.APIKey{ID: "k2", AppID: "a1", Name: "backend", Role: identity.RoleViewer, Prefix: "4567abcd", Hash: "h2",
			CreatedBy: "dev1", CreatedAt: t0.Add(time.Second)}
		k3 := identity.APIKey{ID: "k3", AppID: "a2", Name: "other", Role: identity.RoleAdmin, Prefix: "89abcdef", Hash: "h3",
			CreatedBy: "dev2", CreatedAt: t0}
		for _, k := range []identity.APIKey{k1, k2, k3} {
			noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
		}
		dup := k3
		dup.ID = "k4"
		wantKind(t, "CreateAPIKey(same hash)", s.CreateAPIKey(ctx, dup), apperr.Exists)

		got, err := s.FindAPIKeyByHash(ctx, "h1")
		noErr(t, "FindAPIKeyByHash", err)
		equal(t, "FindAPIKeyByHash", got, k1)
		_, err = s.FindAPIKeyByHash(ctx, "nope")
		wantKind(t, "FindAPIKeyByHash(unknown)", err, apperr.NotFound)

		// Scoped by app: a2's key is not a1's.
		_, err = s.GetAPIKey(ctx, "a1", "k3")
		wantKind(t, "GetAPIKey(other app's key)", err, apperr.NotFound)
		list, err := s.ListAPIKeys(ctx, "a1")
		noErr(t, "ListAPIKeys", err)
		equal(t, "ListAPIKeys newest first", ids(list), []string{"k2", "k1"})

		// Touch writes once per interval.
		noErr(t, "TouchAPIKey", s.TouchAPIKey(ctx, "k1", t0.Add(time.Minute)))
		noErr(t, "TouchAPIKey again within a minute", s.TouchAPIKey(ctx, "k1", t0.Add(time.Minute+30*time.Second)))
		got, _ = s.GetAPIKey(ctx, "a1", "k1")
		equal(t, "LastUsedAt after two touches in a minute", got.LastUsedAt, t0.Add(time.Minute))
		noErr(t, "TouchAPIKey a minute later", s.TouchAPIKey(ctx, "k1", t0.Add(2*time.Minute)))
		got, _ = s.GetAPIKey(ctx, "a1", "k1")
		equal(t, "LastUsedAt a minute later", got.LastUsedAt, t0.Add(2*time.Minute))

		won, err := s.RevokeAPIKey(ctx, "a2", "k1", t0)
		noErr(t, "RevokeAPIKey(other app)", err)
		equal(t, "RevokeAPIKey(other app) revoked", won, false)
		won, err = s.RevokeAPIKey(ctx, "a1", "k1", t0.Add(time.Hour))
		noErr(t, "RevokeAPIKey", err)
		equal(t, "RevokeAPIKey revoked", won, true)
		won, _ = s.RevokeAPIKey(ctx, "a1", "k1", t0.Add(2*time.Hour))
		equal(t, "RevokeAPIKey twice revoked again", won, false)
		got, _ = s.FindAPIKeyByHash(ctx, "h1")
		equal(t, "RevokedAt", got.RevokedAt, t0.Add(time.Hour))
		list, _ = s.ListAPIKeys(ctx, "a1")
		equal(t, "ListAPIKeys without revoked", ids(list), []string{"k2"})

		noErr(t, "DeleteApp", s.DeleteApp(ctx, "a1"))
		_, err = s.FindAPIKeyByHash(ctx, "h2")
		wantKind(t, "FindAPIKeyByHash after DeleteApp", err, apperr.NotFound)
	})
}

func ids(ks []identity.APIKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.ID)
	}
	return out
}

func TestMembersAndInvites(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := t.Context()
		createApp(t, s, identity.ConsoleAppID)
		createApp(t, s, "a1")
		createApp(t, s, "a2")
		createApp(t, s, "a3")
		createUser(t, s, newUser(identity.ConsoleAppID, "d1", "one@example.com", ""))
		createUser(t, s, newUser(identity.ConsoleAppID, "d2", "two@example.com", ""))
		put := func(app, dev string, r identity.Role, at time.Time) {
			noErr(t, "PutMember", s.PutMember(ctx, identity.Member{AppID: app, DeveloperID: dev, Role: r, CreatedAt: at}))
		}
		put("a1", "d1", identity.RoleOwner, t0)
		put("a1", "d2", identity.RoleViewer, t0.Add(time.Second))
		put("a2", "d2", identity.RoleOwner, t0)

		n, err := s.CountOwners(ctx, "a1")
		noErr(t, "CountOwners", err)
		equal(t, "CountOwners", n, 1)

		noErr(t, "PutMemberInvite", s.PutMemberInvite(ctx, identity.MemberInvite{AppID: "a1", Email: "new@example.com", InvitationID: "iv1",
			Role: identity.RoleAdmin, InvitedBy: "d1", CreatedAt: t0}))
		// Inviting again replaces the pending membership.
		noErr(t, "PutMemberInvite again", s.PutMemberInvite(ctx, identity.MemberInvite{AppID: "a1", Email: "new@example.com", InvitationID: "iv2",
			Role: identity.RoleViewer, InvitedBy: "d1", CreatedAt: t0.Add(time.Minute)}))
		noErr(t, "PutMemberInvite a2", s.PutMemberInvite(ctx, identity.MemberInvite{AppID: "a2", Email: "new@example.com", InvitationID: "iv3",
			Role: identity.RoleOwner, InvitedBy: "d2", CreatedAt: t0}))
		noErr(t, "PutMemberInvite a3", s.PutMemberInvite(ctx, identity.MemberInvite{AppID: "a3", Email: "else@example.com", InvitationID: "iv4",
			Role: identity.RoleOwner, InvitedBy: "d2", CreatedAt: t0}))

		team, err := s.ListMembers(ctx, "a1")
		noErr(t, "ListMembers", err)
		equal(t, "ListMembers", team, []identity.Teammate{
			{Member: identity.Member{AppID: "a1", DeveloperID: "d1", Role: identity.RoleOwner, CreatedAt: t0}, Email: "one@example.com"},
			{Member: identity.Member{AppID: "a1", DeveloperID: "d2", Role: identity.RoleViewer, CreatedAt: t0.Add(time.Second)}, Email: "two@example.com"},
			{Member: identity.Member{AppID: "a1", DeveloperID: "iv2", Role: identity.RoleViewer, CreatedAt: t0.Add(time.Minute)}, Email: "new@example.com", Pending: true},
		})
		_, err = s.GetMemberInvite(ctx, "a1", "iv1")
		wantKind(t, "GetMemberInvite(replaced)", err, apperr.NotFound)
		_, err = s.GetMemberInvite(ctx, "a2", "iv2")
		wantKind(t, "GetMemberInvite(other app)", err, apperr.NotFound)
		mi, err := s.GetMemberInvite(ctx, "a1", "iv2")
		noErr(t, "GetMemberInvite", err)
		equal(t, "GetMemberInvite role", mi.Role, identity.RoleViewer)

		// Accepting turns every pending membership of the email into one.
		err = s.InTx(ctx, func(tx identity.Store) error {
			return tx.AcceptMemberInvites(ctx, "new@example.com", "d3", t0.Add(time.Hour))
		})
		noErr(t, "AcceptMemberInvites", err)
		for app, want := range map[string]identity.Role{"a1": identity.RoleViewer, "a2": identity.RoleOwner} {
			m, err := s.GetMember(ctx, app, "d3")
			noErr(t, "GetMember after accept", err)
			equal(t, "role after accept in "+app, m.Role, want)
		}
		_, err = s.GetMember(ctx, "a3", "d3")
		wantKind(t, "GetMember(another email's invite)", err, apperr.NotFound)
		_, err = s.GetMemberInvite(ctx, "a3", "iv4")
		noErr(t, "another email's invite stays", err)
		_, err = s.GetMemberInvite(ctx, "a1", "iv2")
		wantKind(t, "GetMemberInvite after accept", err, apperr.NotFound)

		noErr(t, "DeleteMemberInvite", s.DeleteMemberInvite(ctx, "a3", "iv4"))
		wantKind(t, "DeleteMemberInvite twice", s.DeleteMemberInvite(ctx, "a3", "iv4"), apperr.NotFound)
		noErr(t, "DeleteMember", s.DeleteMember(ctx, "a1", "d2"))
		wantKind(t, "DeleteMember twice", s.DeleteMember(ctx, "a1", "d2"), apperr.NotFound)

		all, err := s.ListAllApps(ctx, "d1", "", 0)
		noErr(t, "ListAllApps", err)
		var got []string
		for _, a := range all {
			got = append(got, a.ID+":"+string(a.Role))
		}
		equal(t, "ListAllApps", got, []string{"a1:owner", "a2:viewer", "a3:viewer", "console:viewer"})
		page, err := s.ListAllApps(ctx, "d1", "a1", 2)
		noErr(t, "ListAllApps page", err)
		equal(t, "ListAllApps page", len(page), 2)
		equal(t, "ListAllApps page starts after", page[0].ID, "a2")
	})
}
