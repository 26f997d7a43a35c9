package identity_test

import (
	"context"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestChangePassword: the current password is checked and the new one must
// meet the policy, neither refusal changing anything; a change signs out
// every other session and returns a fresh one.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		this, p := f.login(t, "ann@example.com", rightPassword)
		other, _ := f.login(t, "ann@example.com", rightPassword)
		change := func(cur, next string) func() error {
			return func() error {
				_, err := f.svc.ChangePassword(ctx, p, identity.Secret(cur), identity.Secret(next))
				return err
			}
		}
		f.refuse(t, []string{"ann@example.com"}, []refusal{
			{"a wrong current password", change("not-my-password", "brand-new-password"), apperr.ReasonInvalidCredentials},
			{"no current password", change("", "brand-new-password"), apperr.ReasonInvalidCredentials},
			{"a weak new password", change(rightPassword, "short"), apperr.ReasonPasswordPolicy},
		})
		fresh, err := f.svc.ChangePassword(ctx, p, rightPassword, "brand-new-password")
		if err != nil {
			t.Fatalf("ChangePassword = %v", err)
		}
		for _, s := range []struct {
			name string
			sess identity.SessionTokens
			want apperr.Reason
		}{
			{"the fresh session", fresh, ""},
			{"the session that changed it", this, apperr.ReasonSessionRevoked},
			{"another session", other, apperr.ReasonSessionRevoked},
		} {
			wantReason(t, "Authenticate("+s.name+")", f.authErr(s.sess), s.want)
		}
		for _, l := range []struct {
			password string
			want     apperr.Reason
		}{
			{rightPassword, apperr.ReasonInvalidCredentials},
			{"brand-new-password", ""},
		} {
			wantReason(t, "Login with "+l.password, errOf(f.svc.Login(ctx, f.caller, "ann@example.com", identity.Secret(l.password))), l.want)
		}
	})
}

// TestUserNames: a user name is set once, is unique ignoring case, keeps
// the case typed, and signs in as a handle; refusals change nothing.
func TestUserNames(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		f.addUser(t, "bob", nil)
		f.addUser(t, "cy", nil)
		_, bob := f.login(t, "bob@example.com", rightPassword)
		_, cy := f.login(t, "cy@example.com", rightPassword)
		set := func(p identity.Principal, name string) func() error {
			return func() error { return errOf(f.svc.SetUserName(ctx, p, name)) }
		}
		users := []string{"bob@example.com", "cy@example.com"}
		f.settings(t, func(s *identity.AppSettings) { s.UserNamesEnabled = false })
		f.refuse(t, users, []refusal{{"names off", set(bob, "Bob1"), apperr.ReasonUserNamesDisabled}})
		f.settings(t, func(s *identity.AppSettings) { s.UserNamesEnabled = true })
		f.refuse(t, users, []refusal{
			{"a name starting with a digit", set(bob, "1bob"), apperr.ReasonInvalidArgument},
			{"a name with a dot", set(bob, "bob.b"), apperr.ReasonInvalidArgument},
			{"ann's name in another case", set(bob, "ANN"), apperr.ReasonUserNameTaken},
		})
		u, err := f.svc.SetUserName(ctx, bob, "Bob1")
		if err != nil || u.UserName != "Bob1" {
			t.Fatalf("SetUserName(Bob1) = %q, %v", u.UserName, err)
		}
		f.refuse(t, users, []refusal{
			{"a second name", set(bob, "Bob2"), apperr.ReasonUserNameAlreadySet},
			{"bob's name in another case", set(cy, "bOB1"), apperr.ReasonUserNameTaken},
		})
		for _, c := range []struct {
			name string
			free bool
		}{{"BOB1", false}, {"ann", false}, {"cy", true}} {
			free, err := f.svc.CheckUserName(ctx, cy, c.name)
			if err != nil || free != c.free {
				t.Errorf("CheckUserName(%q) = %v, %v; want %v", c.name, free, err, c.free)
			}
		}
		s, _ := f.login(t, "bob1", rightPassword)
		if s.User.UserName != "Bob1" || s.User.ID != "bob" {
			t.Errorf("Login by user name signed in %s named %q, want bob named Bob1", s.User.ID, s.User.UserName)
		}
	})
}

// nameFields are the signup metadata fields of the metadata tests: the
// name is the user's to edit, the age is not.
var nameFields = []identity.MetadataField{
	{Path: "user_data.name", Name: "Name", UserEditable: true, Type: identity.FieldString},
	{Path: "user_data.age", Name: "Age", Type: identity.FieldNumber},
}

// TestUserMetadataAndLocale: only editable fields change and the others
// are kept; locales come from the app's list. Refusals change nothing.
func TestUserMetadataAndLocale(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		f.settings(t, func(s *identity.AppSettings) { s.SignupMetadataFields = nameFields })
		f.addUser(t, "bob", map[string]any{"user_data": map[string]any{"age": 30.0}})
		_, bob := f.login(t, "bob@example.com", rightPassword)
		set := func(md map[string]any) func() error {
			return func() error { return errOf(f.svc.SetUserMetadata(ctx, bob, md)) }
		}
		locale := func(l string) func() error { return func() error { return errOf(f.svc.SetLocale(ctx, bob, l)) } }
		f.refuse(t, []string{"bob@example.com"}, []refusal{
			{"a field the user may not edit", set(map[string]any{"user_data": map[string]any{"age": 31.0}}), apperr.ReasonMetadataNotEditable},
			{"an editable and a non-editable field", set(map[string]any{"user_data": map[string]any{"name": "Bobby", "age": 31.0}}), apperr.ReasonMetadataNotEditable},
			{"an unknown field", set(map[string]any{"role": "admin"}), apperr.ReasonMetadataInvalid},
			{"a number for a string", set(map[string]any{"user_data": map[string]any{"name": 7}}), apperr.ReasonMetadataInvalid},
			{"a locale the app lacks", locale("fr"), apperr.ReasonLocaleUnsupported},
		})
		u, err := f.svc.SetUserMetadata(ctx, bob, map[string]any{"user_data": map[string]any{"name": "Bobby"}})
		if err != nil {
			t.Fatalf("SetUserMetadata(name) = %v", err)
		}
		stored := f.user(t, "bob")
		for what, md := range map[string]map[string]any{"answered": u.Metadata, "stored": stored.Metadata} {
			ud, _ := md["user_data"].(map[string]any)
			if ud["name"] != "Bobby" || ud["age"] != 30.0 {
				t.Errorf("%s metadata = %v, want the new name and the age kept", what, md)
			}
		}
		f.settings(t, func(s *identity.AppSettings) { s.Locales = []string{"en", "fr"} })
		if u, err := f.svc.SetLocale(ctx, bob, "fr"); err != nil || u.Locale != "fr" || f.user(t, "bob").Locale != "fr" {
			t.Errorf("SetLocale(fr) = %q, %v; want fr stored", u.Locale, err)
		}
	})
}

// TestAnonymousUpgrade: anonymous sign-in only where the app allows it; an
// anonymous user becomes an email account through the code signup and
// keeps their id; a real account cannot be upgraded again.
func TestAnonymousUpgrade(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		anonymous := func() error { return errOf(f.svc.LoginAnonymous(ctx, f.caller)) }
		f.refuse(t, nil, []refusal{{"anonymous sign-in off", anonymous, apperr.ReasonAnonymousDisabled}})
		f.settings(t, func(s *identity.AppSettings) { s.AnonymousLoginEnabled = true })
		anon, err := f.svc.LoginAnonymous(ctx, f.caller)
		if err != nil {
			t.Fatalf("LoginAnonymous = %v", err)
		}
		if u := anon.User; !u.Anonymous || u.Email != "" || u.HasPassword {
			t.Fatalf("anonymous user = %+v", u)
		}
		p := f.principal(t, anon)
		signUp := func(p identity.Principal, handle, pw string) func() error {
			return func() error {
				return errOf(f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: handle, Password: identity.Secret(pw), Anonymous: &p}))
			}
		}
		f.refuse(t, []string{"new@example.com"}, []refusal{
			{"a weak password", signUp(p, "new@example.com", "short"), apperr.ReasonPasswordPolicy},
		})
		if err := signUp(p, "new@example.com", "a-good-password")(); err != nil {
			t.Fatalf("SignUp as the anonymous user = %v", err)
		}
		if got, err := f.st.GetUser(ctx, f.app, anon.User.ID); err != nil || !got.Anonymous || got.Email != "" {
			t.Errorf("before the code the anonymous user is %+v, %v; want unchanged", got, err)
		}
		done, err := f.svc.CompleteSignUp(ctx, f.caller, "new@example.com", identity.Secret(f.lastCode(t, "new@example.com")))
		if err != nil {
			t.Fatalf("CompleteSignUp = %v", err)
		}
		if u := done.User; u.ID != anon.User.ID || u.Anonymous || u.Email != "new@example.com" || !u.HasPassword {
			t.Errorf("upgraded user = %+v, want id %s, not anonymous, with the email", u, anon.User.ID)
		}
		if s, _ := f.login(t, "new@example.com", "a-good-password"); s.User.ID != anon.User.ID {
			t.Errorf("Login after the upgrade is user %s, want %s", s.User.ID, anon.User.ID)
		}
		f.refuse(t, []string{"new@example.com", "x@example.com"}, []refusal{
			{"SignUp with a session of a real account", signUp(f.principal(t, done), "x@example.com", "a-good-password"), apperr.ReasonAlreadyExists},
		})
	})
}

// TestDeleteAccount: the password is re-checked (refusals change
// nothing); afterwards the sessions end, the user cannot sign in and the
// email is free again. An anonymous user needs only the session.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		sess, p := f.login(t, "ann@example.com", rightPassword)
		del := func(pw string) func() error {
			return func() error {
				return f.svc.DeleteAccount(ctx, p, identity.DeleteAccountInput{Password: identity.Secret(pw)})
			}
		}
		f.refuse(t, []string{"ann@example.com"}, []refusal{
			{"no proof", del(""), apperr.ReasonInvalidArgument},
			{"a wrong password", del("not-my-password"), apperr.ReasonInvalidCredentials},
		})
		if err := del(rightPassword)(); err != nil {
			t.Fatalf("DeleteAccount = %v", err)
		}
		if _, err := f.st.FindUserByEmail(ctx, f.app, "ann@example.com"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after DeleteAccount FindUserByEmail = %v, want NotFound", err)
		}
		wantReason(t, "Authenticate after DeleteAccount", f.authErr(sess), apperr.ReasonSessionRevoked)
		if _, err := f.svc.RefreshSession(ctx, f.caller, sess.RefreshToken); err == nil {
			t.Error("the refresh token works after DeleteAccount")
		}
		wantReason(t, "Login after DeleteAccount", errOf(f.svc.Login(ctx, f.caller, "ann@example.com", rightPassword)), apperr.ReasonInvalidCredentials)
		wantReason(t, "DeleteAccount again", del(rightPassword)(), apperr.ReasonSessionRevoked)
		if err := errOf(f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: "ann@example.com", Password: "a-good-password"})); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CompleteSignUp(ctx, f.caller, "ann@example.com", identity.Secret(f.lastCode(t, "ann@example.com"))); err != nil {
			t.Errorf("signing up again with the freed email = %v", err)
		}

		f.settings(t, func(s *identity.AppSettings) { s.AnonymousLoginEnabled = true })
		anon, err := f.svc.LoginAnonymous(ctx, f.caller)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteAccount(ctx, f.principal(t, anon), identity.DeleteAccountInput{}); err != nil {
			t.Errorf("DeleteAccount of an anonymous user with the session alone = %v", err)
		}
		if _, err := f.st.GetUser(ctx, f.app, anon.User.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("after DeleteAccount the anonymous user reads %v, want NotFound", err)
		}
	})
}
