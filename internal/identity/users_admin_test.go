package identity_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// adminEnv is a flowEnv with an admin and a viewer of its app, and a second
// app with a user of its own.
type adminEnv struct {
	*flowEnv
	admin, viewer identity.Developer
}

func newAdminEnv(t *testing.T, st *store.Store) *adminEnv {
	t.Helper()
	f := newFlowEnv(t, st)
	ctx := context.Background()
	e := &adminEnv{flowEnv: f, admin: identity.Developer{ID: "dev-admin", IP: "198.51.100.1"}, viewer: identity.Developer{ID: "dev-viewer", IP: "198.51.100.2"}}
	for _, m := range []identity.Member{{DeveloperID: e.admin.ID, Role: identity.RoleAdmin}, {DeveloperID: e.viewer.ID, Role: identity.RoleViewer}} {
		m.AppID, m.CreatedAt = f.app, f.clock.Now()
		if err := st.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	other := identity.App{ID: "other", Name: "Other", Settings: identity.DefaultSettings(), CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
	if err := st.CreateApp(ctx, other); err != nil {
		t.Fatal(err)
	}
	u := identity.User{ID: "stranger", AppID: other.ID, Email: "stranger@example.com", Status: identity.UserActive, TwoFactor: identity.TwoFactorNone,
		Locale: "en", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
	if err := st.CreateUser(ctx, u, ""); err != nil {
		t.Fatal(err)
	}
	f.settings(t, func(s *identity.AppSettings) {
		s.SignupMetadataFields = []identity.MetadataField{{Path: "team", Name: "Team", Type: identity.FieldString}, {Path: "plan.level", Type: identity.FieldNumber}}
	})
	return e
}

// TestAdminCreateUser: a developer creates confirmed users with a password
// (checked against the policy) or without one, optionally mailing a reset
// code to choose it; a taken email, a weak password, bad metadata and a
// viewer are refused and change nothing.
func TestAdminCreateUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		create := func(d identity.Developer, in identity.NewAppUser) error {
			_, err := e.svc.CreateAppUser(ctx, d, e.app, in)
			return err
		}
		emails := []string{"ann@example.com", "new@example.com", "set@example.com"}
		e.refuse(t, emails, []refusal{
			{"a taken email", func() error {
				return create(e.admin, identity.NewAppUser{Email: "ANN@example.com", Password: "a-good-password"})
			}, apperr.ReasonAlreadyExists},
			{"a weak password", func() error {
				return create(e.admin, identity.NewAppUser{Email: "new@example.com", Password: "short"})
			}, apperr.ReasonPasswordPolicy},
			{"metadata of the wrong type", func() error {
				return create(e.admin, identity.NewAppUser{Email: "new@example.com", Metadata: map[string]any{"team": 7.0}})
			}, apperr.ReasonMetadataInvalid},
			{"an unknown locale", func() error {
				return create(e.admin, identity.NewAppUser{Email: "new@example.com", Locale: "xx"})
			}, apperr.ReasonLocaleUnsupported},
			{"a viewer", func() error {
				return create(e.viewer, identity.NewAppUser{Email: "new@example.com", Password: "a-good-password"})
			}, apperr.ReasonPermissionDenied},
		})

		u, err := e.svc.CreateAppUser(ctx, e.admin, e.app, identity.NewAppUser{Email: " New@Example.com ", Password: "a-good-password",
			Metadata: map[string]any{"team": "blue", "plan": map[string]any{"level": 2.0}}})
		if err != nil {
			t.Fatalf("CreateAppUser(with a password) = %v", err)
		}
		if u.Email != "new@example.com" || !u.HasPassword || u.Status != identity.UserActive || u.Metadata["team"] != "blue" {
			t.Errorf("CreateAppUser = %+v, want an active new@example.com with a password and team blue", u)
		}
		e.login(t, "new@example.com", "a-good-password")

		u, err = e.svc.CreateAppUser(ctx, e.admin, e.app, identity.NewAppUser{Email: "set@example.com", SendSetPassword: true})
		if err != nil || u.HasPassword {
			t.Fatalf("CreateAppUser(without a password) = %+v, %v; want a user without a password", u, err)
		}
		_, err = e.svc.Login(ctx, e.caller, "set@example.com", "anything-at-all")
		wantReason(t, "Login before a password is set", err, apperr.ReasonInvalidCredentials)
		code := e.lastCode(t, "set@example.com")
		if err := e.svc.ResetPassword(ctx, e.caller, "set@example.com", identity.Secret(code), "chosen-password"); err != nil {
			t.Fatalf("ResetPassword with the mailed code = %v", err)
		}
		e.login(t, "set@example.com", "chosen-password")
	})
}

// TestAdminSuspend: suspending ends every session at once — the access
// token stops here, the refresh token answers SESSION_REVOKED, a new login
// ACCOUNT_SUSPENDED — and reactivating lets the user sign in again.
func TestAdminSuspend(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		sess, _ := e.login(t, "ann@example.com", rightPassword)
		other, _ := e.login(t, "lou@example.com", rightPassword)
		suspend := identity.AppUserChange{SetStatus: true, Status: identity.UserSuspended}

		e.refuse(t, []string{"ann@example.com"}, []refusal{
			{"a viewer", func() error { _, err := e.svc.UpdateAppUser(ctx, e.viewer, e.app, "ann", suspend); return err }, apperr.ReasonPermissionDenied},
			{"no status", func() error {
				_, err := e.svc.UpdateAppUser(ctx, e.admin, e.app, "ann", identity.AppUserChange{SetStatus: true})
				return err
			}, apperr.ReasonInvalidArgument},
			{"metadata of the wrong type", func() error {
				_, err := e.svc.UpdateAppUser(ctx, e.admin, e.app, "ann", identity.AppUserChange{SetStatus: true, Status: identity.UserSuspended,
					SetMetadata: true, Metadata: map[string]any{"plan": map[string]any{"level": "high"}}})
				return err
			}, apperr.ReasonMetadataInvalid},
		})
		_, err := e.svc.UpdateAppUser(ctx, e.admin, e.app, "ann", identity.AppUserChange{SetMetadata: true, Metadata: map[string]any{"plan": map[string]any{"level": "high"}}})
		if vs := violations(err); !slices.Equal(vs, []string{"metadata.plan.level"}) {
			t.Errorf("UpdateAppUser(bad metadata) violations = %v, want [metadata.plan.level]", vs)
		}

		u, err := e.svc.UpdateAppUser(ctx, e.admin, e.app, "ann", suspend)
		if err != nil || u.Status != identity.UserSuspended {
			t.Fatalf("UpdateAppUser(suspend) = %+v, %v", u, err)
		}
		wantReason(t, "Authenticate after the suspension", e.authErr(sess), apperr.ReasonSessionRevoked)
		_, err = e.svc.RefreshSession(ctx, e.caller, sess.RefreshToken)
		wantReason(t, "RefreshSession after the suspension", err, apperr.ReasonSessionRevoked)
		_, err = e.svc.Login(ctx, e.caller, "ann@example.com", rightPassword)
		wantReason(t, "Login while suspended", err, apperr.ReasonAccountSuspended)
		if _, err := e.svc.RefreshSession(ctx, e.caller, other.RefreshToken); err != nil {
			t.Errorf("another user's RefreshSession = %v, want it untouched", err)
		}

		u, err = e.svc.UpdateAppUser(ctx, e.admin, e.app, "ann", identity.AppUserChange{SetStatus: true, Status: identity.UserActive,
			SetMetadata: true, Metadata: map[string]any{"team": "red"}})
		if err != nil || u.Status != identity.UserActive || u.Metadata["team"] != "red" {
			t.Fatalf("UpdateAppUser(reactivate, metadata) = %+v, %v", u, err)
		}
		if got := e.user(t, "ann"); got.Status != identity.UserActive || got.Metadata["team"] != "red" {
			t.Errorf("stored user after reactivation = %+v", got)
		}
		e.login(t, "ann@example.com", rightPassword)
	})
}

func violations(err error) []string {
	var out []string
	var e *apperr.Error
	if errors.As(err, &e) {
		for _, v := range e.Violations() {
			out = append(out, v.Field)
		}
	}
	return out
}

// TestAdminSessions: GetAppUser lists the live sessions with where and how
// they were opened, most recently used first; revoking one ends only it,
// revoking all ends the rest.
func TestAdminSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		login := func(ua string) identity.SessionTokens {
			c := e.caller
			c.UserAgent = ua
			res, err := e.svc.Login(ctx, c, "ann@example.com", rightPassword)
			if err != nil || res.Session == nil {
				t.Fatalf("Login = %+v, %v", res, err)
			}
			e.clock.Advance(time.Second)
			return *res.Session
		}
		phone := login("Notes/2.1 (iPhone; iOS 19)\x00" + strings.Repeat("x", 300))
		laptop := login("Mozilla/5.0")
		phone, err := e.svc.RefreshSession(ctx, e.caller, phone.RefreshToken) // the phone was used last
		if err != nil {
			t.Fatal(err)
		}

		got, err := e.svc.GetAppUser(ctx, e.viewer, e.app, "ann")
		if err != nil {
			t.Fatalf("GetAppUser = %v", err)
		}
		if len(got.Sessions) != 2 {
			t.Fatalf("GetAppUser sessions = %+v, want 2", got.Sessions)
		}
		p, l := got.Sessions[0], got.Sessions[1]
		if p.LastUsedAt.IsZero() || !l.LastUsedAt.IsZero() {
			t.Errorf("sessions = %+v, want the refreshed phone first with a last use, then the laptop without", got.Sessions)
		}
		if p.IP != e.caller.IP || p.Method != identity.SessionByPassword || !strings.HasPrefix(p.UserAgent, "Notes/2.1 (iPhone; iOS 19)xxx") ||
			len([]rune(p.UserAgent)) != identity.MaxUserAgent || l.UserAgent != "Mozilla/5.0" {
			t.Errorf("phone session = %+v, laptop %+v; want IP, method password, the User-Agent without NUL capped at %d", p, l, identity.MaxUserAgent)
		}

		e.refuse(t, []string{"ann@example.com"}, []refusal{
			{"a session of another user", func() error {
				lou, _ := e.login(t, "lou@example.com", rightPassword)
				pl := e.principal(t, lou)
				return e.svc.RevokeUserSession(ctx, e.admin, e.app, "ann", pl.SessionID)
			}, apperr.ReasonNotFound},
			{"a viewer", func() error { return e.svc.RevokeUserSession(ctx, e.viewer, e.app, "ann", l.ID) }, apperr.ReasonPermissionDenied},
		})
		if err := e.svc.RevokeUserSession(ctx, e.admin, e.app, "ann", l.ID); err != nil {
			t.Fatalf("RevokeUserSession(laptop) = %v", err)
		}
		_, err = e.svc.RefreshSession(ctx, e.caller, laptop.RefreshToken)
		wantReason(t, "RefreshSession(revoked laptop)", err, apperr.ReasonSessionRevoked)
		phone2, err := e.svc.RefreshSession(ctx, e.caller, phone.RefreshToken)
		if err != nil {
			t.Fatalf("RefreshSession(phone) after revoking the laptop = %v", err)
		}
		n, err := e.svc.RevokeUserSessions(ctx, e.admin, e.app, "ann")
		if err != nil || n != 1 {
			t.Fatalf("RevokeUserSessions = %d, %v; want 1", n, err)
		}
		_, err = e.svc.RefreshSession(ctx, e.caller, phone2.RefreshToken)
		wantReason(t, "RefreshSession after RevokeUserSessions", err, apperr.ReasonSessionRevoked)
		got, err = e.svc.GetAppUser(ctx, e.admin, e.app, "ann")
		if err != nil || len(got.Sessions) != 0 {
			t.Errorf("GetAppUser after revoking all = %+v, %v; want no sessions", got.Sessions, err)
		}
	})
}

// TestAdminUnknownUsers: a user of another app, an unknown id and an app
// the developer is not a member of read as not found, for every call.
func TestAdminUnknownUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		calls := map[string]func(appID, userID string) error{
			"GetAppUser": func(a, u string) error { _, err := e.svc.GetAppUser(ctx, e.admin, a, u); return err },
			"UpdateAppUser": func(a, u string) error {
				_, err := e.svc.UpdateAppUser(ctx, e.admin, a, u, identity.AppUserChange{SetStatus: true, Status: identity.UserSuspended})
				return err
			},
			"DeleteAppUser":      func(a, u string) error { return e.svc.DeleteAppUser(ctx, e.admin, a, u) },
			"RevokeUserSessions": func(a, u string) error { _, err := e.svc.RevokeUserSessions(ctx, e.admin, a, u); return err },
			"RevokeUserSession":  func(a, u string) error { return e.svc.RevokeUserSession(ctx, e.admin, a, u, "s") },
			"SendPasswordReset":  func(a, u string) error { return e.svc.SendPasswordReset(ctx, e.admin, a, u) },
			"ResetUserTwoFactor": func(a, u string) error { _, err := e.svc.ResetUserTwoFactor(ctx, e.admin, a, u); return err },
		}
		for name, call := range calls {
			wantReason(t, name+"(a user of another app)", call(e.app, "stranger"), apperr.ReasonNotFound)
			wantReason(t, name+"(an unknown user)", call(e.app, "nobody"), apperr.ReasonNotFound)
			wantReason(t, name+"(an app it is not a member of)", call("other", "stranger"), apperr.ReasonAppNotFound)
		}
		if u, err := st.GetUser(ctx, "other", "stranger"); err != nil || u.Status != identity.UserActive {
			t.Errorf("the other app's user = %+v, %v; want untouched", u, err)
		}
	})
}

// TestAdminDeleteAndReset: a reset mail goes to a user with an email (an
// anonymous one has none); a deleted user's sessions end with them.
func TestAdminDeleteAndReset(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		if err := e.svc.SendPasswordReset(ctx, e.admin, e.app, "kim"); err != nil {
			t.Fatalf("SendPasswordReset(kim) = %v", err)
		}
		code := e.lastCode(t, "kim@example.com")
		if err := e.svc.ResetPassword(ctx, e.caller, "kim@example.com", identity.Secret(code), "kims-new-password"); err != nil {
			t.Fatalf("ResetPassword with the developer's mail = %v", err)
		}
		e.login(t, "kim@example.com", "kims-new-password")

		e.settings(t, func(s *identity.AppSettings) { s.AnonymousLoginEnabled = true })
		anon, err := e.svc.LoginAnonymous(ctx, e.caller)
		if err != nil {
			t.Fatal(err)
		}
		err = e.svc.SendPasswordReset(ctx, e.admin, e.app, anon.User.ID)
		wantReason(t, "SendPasswordReset(anonymous)", err, apperr.ReasonFailedPrecondition)
		got, err := e.svc.GetAppUser(ctx, e.admin, e.app, anon.User.ID)
		if err != nil || len(got.Sessions) != 1 || got.Sessions[0].Method != identity.SessionByAnonymous {
			t.Errorf("GetAppUser(anonymous) = %+v, %v; want one anonymous session", got, err)
		}

		sess, _ := e.login(t, "lou@example.com", rightPassword)
		if err := e.svc.DeleteAppUser(ctx, e.viewer, e.app, "lou"); apperr.ReasonOf(err) != apperr.ReasonPermissionDenied {
			t.Errorf("DeleteAppUser by a viewer = %v, want PERMISSION_DENIED", err)
		}
		if err := e.svc.DeleteAppUser(ctx, e.admin, e.app, "lou"); err != nil {
			t.Fatalf("DeleteAppUser = %v", err)
		}
		_, err = e.svc.RefreshSession(ctx, e.caller, sess.RefreshToken)
		wantReason(t, "RefreshSession of a deleted user", err, apperr.ReasonRefreshTokenInvalid)
		_, err = e.svc.GetAppUser(ctx, e.admin, e.app, "lou")
		wantReason(t, "GetAppUser(deleted)", err, apperr.ReasonNotFound)
	})
}

// TestAdminListUsers: pages carry the total and an opaque token bound to
// the filter; a token that is garbage, or made for another filter, is
// refused by name.
func TestAdminListUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		var seen []string
		token := ""
		for range 10 {
			page, err := e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{}, token, 2)
			if err != nil {
				t.Fatalf("ListUsers = %v", err)
			}
			if page.Total != 5 {
				t.Errorf("ListUsers total = %d, want 5", page.Total)
			}
			for _, u := range page.Users {
				seen = append(seen, u.ID)
			}
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		slices.Sort(seen)
		if want := []string{"ann", "kim", "lou", "nop", "sue"}; !slices.Equal(seen, want) {
			t.Errorf("ListUsers pages = %v, want %v", seen, want)
		}

		first, err := e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{}, "", 2)
		if err != nil || first.NextPageToken == "" {
			t.Fatalf("ListUsers = %+v, %v", first, err)
		}
		tok := first.NextPageToken
		for name, call := range map[string]func() error{
			"garbage": func() error {
				_, err := e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{}, "not a token!", 2)
				return err
			},
			"edited": func() error {
				_, err := e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{}, tok[:len(tok)-2]+"AA", 2)
				return err
			},
			"another filter's": func() error {
				_, err := e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{Status: identity.UserActive}, tok, 2)
				return err
			},
		} {
			err := call()
			if vs := violations(err); apperr.KindOf(err) != apperr.Invalid || !slices.Equal(vs, []string{"page_token"}) {
				t.Errorf("ListUsers(%s token) = %v (violations %v), want InvalidArgument page_token", name, err, vs)
			}
		}
		_, err = e.svc.ListUsers(ctx, e.viewer, e.app, identity.UserFilter{Provider: "facebook"}, "", 2)
		if vs := violations(err); !slices.Equal(vs, []string{"provider"}) {
			t.Errorf("ListUsers(provider facebook) = %v, want InvalidArgument provider", err)
		}
	})
}

// TestRefreshRecordsLastUse: rotating a refresh token records the session's
// last use, and on Postgres inside the rotation's own statement: the
// refresh path makes no extra round trip for it.
func TestRefreshRecordsLastUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		sess, p := e.login(t, "ann@example.com", rightPassword)
		e.clock.Advance(time.Minute)
		e.log.take()
		if _, err := e.svc.RefreshSession(ctx, e.caller, sess.RefreshToken); err != nil {
			t.Fatal(err)
		}
		shapes := e.log.take()
		got, err := st.GetSession(ctx, e.app, p.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsedAt.Equal(e.clock.Now()) {
			t.Errorf("LastUsedAt after a refresh = %v, want %v", got.LastUsedAt, e.clock.Now())
		}
		if st.Dialect() == store.Postgres {
			if !slices.Contains(shapes, "WITH refresh_tokens") || slices.Contains(shapes, "UPDATE sessions") || slices.Contains(shapes, "UPDATE refresh_tokens") {
				t.Errorf("RefreshSession ran %v, want the rotation and the last use in one WITH statement", shapes)
			}
		}
	})
}

// TestAdminChangesAudited: every change a developer makes to a user writes
// an audit event in its transaction (the store's audit table; the events'
// content is read back by the Admin service's ListAuditEvents).
func TestAdminChangesAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := newAdminEnv(t, st)
		ctx := context.Background()
		_, p := e.login(t, "lou@example.com", rightPassword)
		for _, c := range []struct {
			name string
			call func() error
		}{
			{"CreateAppUser", func() error {
				_, err := e.svc.CreateAppUser(ctx, e.admin, e.app, identity.NewAppUser{Email: "new@example.com", SendSetPassword: true})
				return err
			}},
			{"UpdateAppUser", func() error {
				_, err := e.svc.UpdateAppUser(ctx, e.admin, e.app, "kim", identity.AppUserChange{SetMetadata: true, Metadata: map[string]any{"team": "x"}})
				return err
			}},
			{"RevokeUserSession", func() error { return e.svc.RevokeUserSession(ctx, e.admin, e.app, "lou", p.SessionID) }},
			{"RevokeUserSessions", func() error { _, err := e.svc.RevokeUserSessions(ctx, e.admin, e.app, "lou"); return err }},
			{"SendPasswordReset", func() error { return e.svc.SendPasswordReset(ctx, e.admin, e.app, "kim") }},
			{"DeleteAppUser", func() error { return e.svc.DeleteAppUser(ctx, e.admin, e.app, "lou") }},
		} {
			e.log.take()
			if err := c.call(); err != nil {
				t.Fatalf("%s = %v", c.name, err)
			}
			if shapes := e.log.take(); !slices.Contains(shapes, "INSERT audit_events") {
				t.Errorf("%s ran %v, want an audit event written", c.name, shapes)
			}
		}
	})
}
