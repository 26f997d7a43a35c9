package identity_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// teamField is the invitations' metadata: a required team the inviter
// sets and the invitee may not.
var teamField = []identity.MetadataField{{Path: "team", Name: "Team", Required: true, Type: identity.FieldString}}

// TestInvitations: a user invites, the invitee registers once with the
// mailed code and gets the invitation's metadata merged into theirs;
// invitations off, a wrong code, a used, expired or revoked invitation
// are each refused with their reason, and no refusal changes anything.
func TestInvitations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		f.settings(t, func(s *identity.AppSettings) {
			s.SignupMetadataFields, s.InviteMetadataFields, s.SignupEnabled = nameFields, teamField, false
		})
		_, ann := f.login(t, "ann@example.com", rightPassword)
		invite := func(handle string, md map[string]any) func() error {
			return func() error { return f.svc.Invite(ctx, ann, identity.InviteInput{Handle: handle, Metadata: md}) }
		}
		bobName := map[string]any{"user_data": map[string]any{"name": "Bob"}}
		register := func(handle, code string, md map[string]any) func() error {
			return func() error {
				return errOf(f.svc.Register(ctx, f.caller, identity.RegisterInput{Handle: handle, Password: "a-good-password",
					InviteCode: identity.Secret(code), Metadata: md}))
			}
		}
		everyone := []string{"ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"}
		blue := map[string]any{"team": "blue"}

		f.settings(t, func(s *identity.AppSettings) { s.InvitesEnabled = false })
		f.refuse(t, everyone, []refusal{
			{"Invite with invitations off", invite("bob@example.com", blue), apperr.ReasonInvitesDisabled},
			{"Register with invitations off", register("bob@example.com", "123456", bobName), apperr.ReasonInvitesDisabled},
		})
		f.settings(t, func(s *identity.AppSettings) { s.InvitesEnabled = true })
		f.refuse(t, everyone, []refusal{
			{"Invite without the required field", invite("bob@example.com", map[string]any{}), apperr.ReasonMetadataInvalid},
			{"Invite with an unknown field", invite("bob@example.com", map[string]any{"team": "blue", "role": "admin"}), apperr.ReasonMetadataInvalid},
			{"Register with no invitation", register("bob@example.com", "123456", bobName), apperr.ReasonInviteInvalid},
		})
		if err := invite("bob@example.com", blue)(); err != nil {
			t.Fatalf("Invite(bob) = %v", err)
		}
		code := f.lastCode(t, "bob@example.com")
		// An existing account: the same answer, and a notice instead of a code.
		mailed := f.mailCount(t)
		if err := invite("ann@example.com", blue)(); err != nil {
			t.Fatalf("Invite of an existing account = %v, want the same answer as for a new one", err)
		}
		if m := f.lastMail(t); f.mailCount(t) != mailed+1 || m.To != "ann@example.com" || sixDigits.MatchString(m.Subject+m.Text) {
			t.Errorf("an invitation of an existing account mailed %q to %s; want one notice without a code", m.Subject, m.To)
		}

		f.refuse(t, everyone, []refusal{
			{"Register with a wrong code", register("bob@example.com", otherCode(code), bobName), apperr.ReasonInviteInvalid},
			{"Register with another handle", register("cy@example.com", code, bobName), apperr.ReasonInviteInvalid},
			{"Register setting the inviter's field", register("bob@example.com", code, map[string]any{"team": "red"}), apperr.ReasonMetadataInvalid},
			{"Register with a weak password", func() error {
				return errOf(f.svc.Register(ctx, f.caller, identity.RegisterInput{Handle: "bob@example.com", Password: "short", InviteCode: identity.Secret(code)}))
			}, apperr.ReasonPasswordPolicy},
		})
		sess, err := f.svc.Register(ctx, f.caller, identity.RegisterInput{Handle: "Bob@Example.com", Password: "a-good-password", InviteCode: identity.Secret(code), Metadata: bobName})
		if err != nil {
			t.Fatalf("Register(bob) = %v", err)
		}
		for what, u := range map[string]identity.User{"answered": sess.User, "stored": f.user(t, "bob")} {
			ud, _ := u.Metadata["user_data"].(map[string]any)
			if u.Metadata["team"] != "blue" || ud["name"] != "Bob" {
				t.Errorf("%s metadata = %v, want the invitation's team and the invitee's name", what, u.Metadata)
			}
		}
		ivs, err := st.ListInvitations(ctx, f.app, "", 10)
		if err != nil || len(ivs) != 1 || ivs[0].InviterID != "ann" || ivs[0].AcceptedBy != sess.User.ID || ivs[0].State(f.clock.Now()) != identity.InviteAccepted {
			t.Errorf("invitations = %+v, %v; want bob's, from ann, accepted by bob", ivs, err)
		}
		wantReason(t, "Login after Register", errOf(f.svc.Login(ctx, f.caller, "bob@example.com", "a-good-password")), "")
		f.refuse(t, everyone, []refusal{{"Register twice", register("bob@example.com", code, bobName), apperr.ReasonInviteUsed}})

		// Expired: seven days by default.
		if err := invite("cy@example.com", map[string]any{"team": "red"})(); err != nil {
			t.Fatal(err)
		}
		cyCode := f.lastCode(t, "cy@example.com")
		f.clock.Advance(7*24*time.Hour + time.Minute)
		// Revoked (as a developer would).
		if err := invite("dee@example.com", map[string]any{"team": "green"})(); err != nil {
			t.Fatal(err)
		}
		deeCode := f.lastCode(t, "dee@example.com")
		dee, err := st.FindInvitation(ctx, f.app, "dee@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := st.RevokeInvitation(ctx, f.app, dee.ID, f.clock.Now()); err != nil || !ok {
			t.Fatalf("RevokeInvitation = %v, %v", ok, err)
		}
		f.refuse(t, everyone, []refusal{
			{"Register with an expired invitation", register("cy@example.com", cyCode, bobName), apperr.ReasonInviteExpired},
			{"Register with a revoked invitation", register("dee@example.com", deeCode, bobName), apperr.ReasonInviteRevoked},
		})
	})
}

// TestSignupLink: with the link flow the mail carries a link to the
// landing page. Opening it (what a mail scanner's GET does: the page asks
// only for the app's name) consumes nothing; confirming it (the POST)
// creates the user once and answers the redirect the signup asked for,
// or without one the app's done page.
func TestSignupLink(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		f := newFlowEnv(t, st)
		ctx := context.Background()
		const deepLink = "notes://signed-up"
		f.settings(t, func(s *identity.AppSettings) { s.SignupFlow, s.RedirectURLs = identity.FlowLink, []string{deepLink} })
		signUp := func(handle, redirect string) func() error {
			return func() error {
				res, err := f.svc.SignUp(ctx, f.caller, identity.SignUpInput{Handle: handle, Password: "a-good-password", RedirectURL: redirect})
				if err == nil && res.Flow != identity.FlowLink {
					t.Errorf("SignUp answered the %q flow, want link", res.Flow)
				}
				return err
			}
		}
		f.refuse(t, []string{"new@example.com"}, []refusal{
			{"SignUp with an unlisted redirect", signUp("new@example.com", "https://evil.example.com/"), apperr.ReasonRedirectNotAllowed},
		})
		if err := signUp("new@example.com", deepLink)(); err != nil {
			t.Fatal(err)
		}
		handle, code := f.signupLink(t, "new@example.com")
		open := func() error { return errOf(f.svc.AppName(ctx, f.app)) }
		for i := range 2 { // a mail scanner, then the person
			before := f.snapshot(t, "new@example.com")
			if err := open(); err != nil {
				t.Fatalf("opening the link (#%d) = %v", i+1, err)
			}
			if after := f.snapshot(t, "new@example.com"); after != before {
				t.Fatalf("opening the link changed the state:\n%s\n%s", before, after)
			}
		}
		confirm := func(handle, code string) func() error {
			return func() error {
				_, _, err := f.svc.ConfirmSignupLink(ctx, f.caller, handle, identity.Secret(code))
				return err
			}
		}
		f.refuse(t, []string{"new@example.com"}, []refusal{
			{"a confirmation with a wrong code", confirm(handle, otherCode(code)), apperr.ReasonInvalidCode},
		})
		redirect, _, err := f.svc.ConfirmSignupLink(ctx, f.caller, handle, identity.Secret(code))
		if err != nil || redirect != deepLink {
			t.Fatalf("ConfirmSignupLink = %q, %v; want the deep link", redirect, err)
		}
		f.user(t, "new")
		f.refuse(t, []string{"new@example.com"}, []refusal{
			{"the same link again", confirm(handle, code), apperr.ReasonInvalidCode},
		})
		wantReason(t, "Login after the link", errOf(f.svc.Login(ctx, f.caller, "new@example.com", "a-good-password")), "")

		// Without a redirect: the app's done page, naming the account.
		if err := signUp("bob@example.com", "")(); err != nil {
			t.Fatal(err)
		}
		handle, code = f.signupLink(t, "bob@example.com")
		redirect, done, err := f.svc.ConfirmSignupLink(ctx, f.caller, handle, identity.Secret(code))
		if err != nil || redirect != "" || !strings.Contains(done.HTML+done.Text, "bob@example.com") {
			t.Errorf("ConfirmSignupLink without a redirect = %q, %+v, %v; want the done page naming bob", redirect, done, err)
		}
	})
}

// signupLink reads the handle and code of the newest signup link mailed
// to email, as the landing page's form would carry them.
func (f *flowEnv) signupLink(t *testing.T, email string) (handle, code string) {
	t.Helper()
	m := f.lastMail(t)
	if m.To != email {
		t.Fatalf("the newest mail went to %s, want %s", m.To, email)
	}
	for _, w := range strings.Fields(m.Text) {
		if !strings.Contains(w, "/signup/confirm?") {
			continue
		}
		u, err := url.Parse(w)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("handle"), u.Query().Get("code")
	}
	t.Fatalf("no signup link in the mail to %s:\n%s", email, m.Text)
	return "", ""
}

func (f *flowEnv) mailCount(t *testing.T) int {
	t.Helper()
	msgs, err := f.outbox.List(context.Background(), f.app, 500)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func (f *flowEnv) lastMail(t *testing.T) identity.OutboxMessage {
	t.Helper()
	msgs, err := f.outbox.List(context.Background(), f.app, 1)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("the outbox = %v, %v; want a mail", msgs, err)
	}
	return identity.OutboxMessage(msgs[0])
}
