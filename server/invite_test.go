package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestInvitations: a user invites, the invitee registers once with the
// mailed code and gets the invite metadata; expired and revoked invitations
// and used codes are refused with their reasons, and nothing is written.
func TestInvitations(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		ann := e.signUp(t, dev, app, "ann@example.com").GetAccessToken()
		invite := func(handle string, md map[string]any) error {
			_, err := e.auth.Invite(as(ctx, app, ann), &authv1.InviteRequest{Handle: handle, Metadata: mustStruct(t, md)})
			return err
		}
		wantReason(t, "Invite with invitations off", invite("bob@example.com", map[string]any{"team": "blue"}), connect.CodeFailedPrecondition, apperr.ReasonInvitesDisabled)
		e.enableInvites(t, dev, app)
		wantReason(t, "Invite without the required field", invite("bob@example.com", map[string]any{}), connect.CodeInvalidArgument, apperr.ReasonMetadataInvalid, "metadata.team")
		if err := invite("bob@example.com", map[string]any{"team": "blue"}); err != nil {
			t.Fatalf("Invite = %v", err)
		}
		// An existing account: the same answer, and a notice instead of a code.
		if err := invite("ann@example.com", map[string]any{"team": "blue"}); err != nil {
			t.Fatalf("Invite of an existing account = %v, want the same answer", err)
		}
		if m := e.outboxTo(t, dev, app, "ann@example.com"); codeRE.MatchString(m.GetSubject()) {
			t.Errorf("existing account got an invite code: %q", m.GetSubject())
		}
		code := e.outboxCode(t, dev, app, "bob@example.com")
		wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1000000)
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bob"}})
		register := func(c string) (*authv1.RegisterResponse, error) {
			return e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "bob@example.com", Password: "long-enough-pw", InviteCode: c, Metadata: md})
		}
		_, err := register(wrong)
		wantReason(t, "Register with a wrong code", err, connect.CodeInvalidArgument, apperr.ReasonInviteInvalid, "invite_code")
		res, err := register(code)
		if err != nil {
			t.Fatalf("Register = %v", err)
		}
		got := res.GetSession().GetUser().GetMetadata().AsMap()
		if got["team"] != "blue" || got["user_data"].(map[string]any)["name"] != "Bob" {
			t.Errorf("registered metadata = %v, want team blue and the name", got)
		}
		if c := jwtClaims(t, res.GetSession().GetAccessToken()); c["team"] != "blue" {
			t.Errorf("token claims = %v, want team", c)
		}
		_, err = register(code)
		wantReason(t, "Register twice", err, connect.CodeFailedPrecondition, apperr.ReasonInviteUsed)

		// The inviter is recorded; states show in the admin list.
		list, err := e.admin.ListInvitations(as(ctx, "", dev), &adminv1.ListInvitationsRequest{AppId: app})
		if err != nil || len(list.GetInvitations()) != 1 || list.GetInvitations()[0].GetState() != adminv1.InvitationState_INVITATION_STATE_ACCEPTED ||
			list.GetInvitations()[0].GetInviterId() != jwtClaims(t, ann)["sub"] {
			t.Errorf("ListInvitations = %v, %v; want bob's, accepted, from ann", list, err)
		}

		// Expired: 7 days by default.
		if err := invite("cy@example.com", map[string]any{"team": "red"}); err != nil {
			t.Fatal(err)
		}
		cyCode := e.outboxCode(t, dev, app, "cy@example.com")
		e.clock.Advance(7*24*time.Hour + time.Minute)
		dev = e.login(t, identity.ConsoleAppID, "dev@example.com", "dev-password-1")
		_, err = e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "cy@example.com", Password: "long-enough-pw", InviteCode: cyCode, Metadata: md})
		wantReason(t, "Register with an expired invitation", err, connect.CodeFailedPrecondition, apperr.ReasonInviteExpired)

		// Revoked by a developer.
		if _, err := e.admin.CreateInvitations(as(ctx, "", dev), &adminv1.CreateInvitationsRequest{AppId: app,
			Invitations: []*adminv1.InvitationInput{{Handle: "dee@example.com", Metadata: mustStruct(t, map[string]any{"team": "green"})}}}); err != nil {
			t.Fatal(err)
		}
		deeCode := e.outboxCode(t, dev, app, "dee@example.com")
		pending, err := e.admin.ListInvitations(as(ctx, "", dev), &adminv1.ListInvitationsRequest{AppId: app, State: adminv1.InvitationState_INVITATION_STATE_PENDING})
		if err != nil || len(pending.GetInvitations()) != 1 {
			t.Fatalf("pending invitations = %v, %v; want dee's", pending, err)
		}
		if _, err := e.admin.RevokeInvitation(as(ctx, "", dev), &adminv1.RevokeInvitationRequest{AppId: app, InvitationId: pending.GetInvitations()[0].GetId()}); err != nil {
			t.Fatal(err)
		}
		_, err = e.auth.Register(as(ctx, app, ""), &authv1.RegisterRequest{Handle: "dee@example.com", Password: "long-enough-pw", InviteCode: deeCode, Metadata: md})
		wantReason(t, "Register with a revoked invitation", err, connect.CodeFailedPrecondition, apperr.ReasonInviteRevoked)
		for _, h := range []string{"cy@example.com", "dee@example.com"} {
			if _, err := e.p.store.FindUserByEmail(ctx, app, h); err == nil {
				t.Errorf("a refused Register created %s", h)
			}
		}
	})
}

// enableInvites turns invitations on, with a required, non-editable
// invite field "team".
func (e *env) enableInvites(tb testing.TB, dev, app string) {
	tb.Helper()
	e.update(tb, dev, app, &adminv1.AppSettings{
		InvitesEnabled: true,
		InviteMetadataFields: []*authv1.MetadataField{
			{Path: "team", Name: "Team", Required: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
		},
	}, "settings.invites_enabled", "settings.invite_metadata_fields")
}

// TestSignupLink: the link arrives by real SMTP; a scanner's GET consumes
// nothing; the user's POST completes the signup once and redirects to the
// app's deep link.
func TestSignupLink(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t)
	e := newEnv(t, storetest.SQLite(t), withSMTP(mail.URL()))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	e.update(t, dev, app, &adminv1.AppSettings{SignupFlow: authv1.SignupFlow_SIGNUP_FLOW_LINK, RedirectUrls: []string{"fieldnotes://signed-up"}},
		"settings.signup_flow", "settings.redirect_urls")
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})
	signUp := func(handle, redirect string) error {
		_, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: handle, Password: "long-enough-pw", Metadata: md, RedirectUrl: redirect})
		return err
	}
	wantReason(t, "SignUp with an unlisted redirect", signUp("ann@example.com", "https://evil.example.com/"), connect.CodeInvalidArgument, apperr.ReasonRedirectNotAllowed, "redirect_url")
	if err := signUp("ann@example.com", "fieldnotes://signed-up"); err != nil {
		t.Fatal(err)
	}
	m := mail.WaitFor(t, "ann@example.com")
	link := linkIn(t, m.Text, e.url)
	if c := codeRE.FindStringSubmatch(m.Text); c == nil || !strings.Contains(m.HTML, "signup/confirm") {
		t.Errorf("the link mail should carry the code and the link in both parts: %+v", m)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 2 { // a mail scanner, then the person
		r, err := noFollow.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "<form method=\"post\"") {
			t.Fatalf("GET link = %d\n%s", r.StatusCode, body)
		}
	}
	if _, err := e.p.store.FindUserByEmail(ctx, app, "ann@example.com"); err == nil {
		t.Fatal("a GET of the link created the user")
	}
	u, _ := url.Parse(link)
	// post answers the status and Location of a POST of the link.
	post := func() (int, string) {
		r, err := noFollow.PostForm(link, u.Query())
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode, r.Header.Get("Location")
	}
	if code, loc := post(); code != http.StatusSeeOther || loc != "fieldnotes://signed-up" {
		t.Fatalf("POST link = %d to %q, want 303 to the deep link", code, loc)
	}
	if _, err := e.p.store.FindUserByEmail(ctx, app, "ann@example.com"); err != nil {
		t.Fatalf("after the POST: %v", err)
	}
	if code, _ := post(); code != http.StatusBadRequest {
		t.Errorf("second POST = %d, want 400 (the link works once)", code)
	}
	e.login(t, app, "ann@example.com", "long-enough-pw")

	// Without a redirect, the app's done page.
	if err := signUp("bob@example.com", ""); err != nil {
		t.Fatal(err)
	}
	link = linkIn(t, mail.WaitFor(t, "bob@example.com").Text, e.url)
	u, _ = url.Parse(link)
	r, err := noFollow.PostForm(link, u.Query())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "bob@example.com") {
		t.Errorf("POST link without redirect = %d\n%s", r.StatusCode, body)
	}
}

func linkIn(tb testing.TB, text, base string) string {
	tb.Helper()
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, base) && strings.Contains(f, "/signup/confirm?") {
			return f
		}
	}
	tb.Fatalf("no signup link to %s in:\n%s", base, text)
	return ""
}

// TestTemplates: a developer's template is what users receive; a broken
// one is refused by field; an empty one restores the default.
func TestTemplates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	upd := func(subject, text string) error {
		_, err := e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
			Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en", Subject: subject, Text: text, Html: "<p>{{.Code}}</p>"}})
		return err
	}
	if err := upd("{{.Nope}}", "x"); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("UpdateEmailTemplate with an unknown macro = %v, want InvalidArgument", err)
	}
	if err := upd("Welcome aboard {{.AppName}}: {{.Code}}", "Code {{.Code}} for {{.Handle}}"); err != nil {
		t.Fatalf("UpdateEmailTemplate = %v", err)
	}
	list, err := e.admin.ListEmailTemplates(as(ctx, "", dev), &adminv1.ListEmailTemplatesRequest{AppId: app})
	if err != nil || len(list.GetTemplates()) < 8 {
		t.Fatalf("ListEmailTemplates = %v, %v", list, err)
	}
	custom := 0
	for _, tm := range list.GetTemplates() {
		if tm.GetCustomized() {
			custom++
		}
	}
	if custom != 1 {
		t.Errorf("%d customized templates, want 1", custom)
	}
	pv, err := e.admin.PreviewEmailTemplate(as(ctx, "", dev), &adminv1.PreviewEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
		Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en"}})
	if err != nil || !strings.HasPrefix(pv.GetSubject(), "Welcome aboard Field Notes") {
		t.Errorf("PreviewEmailTemplate = %v, %v", pv, err)
	}
	md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})
	if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
		t.Fatal(err)
	}
	if m := e.outboxTo(t, dev, app, "ann@example.com"); !strings.HasPrefix(m.GetSubject(), "Welcome aboard Field Notes: ") || !strings.HasPrefix(m.GetText(), "Code ") {
		t.Errorf("signup mail = %q / %q, want the developer's template", m.GetSubject(), m.GetText())
	}
	_, err = e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
		Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "fr"}})
	wantReason(t, "UpdateEmailTemplate in a locale the app lacks", err, connect.CodeInvalidArgument, apperr.ReasonLocaleUnsupported, "template.locale")
	if _, err := e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
		Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en"}}); err != nil {
		t.Fatalf("restore = %v", err)
	}
	pv, err = e.admin.PreviewEmailTemplate(as(ctx, "", dev), &adminv1.PreviewEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
		Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, Locale: "en"}})
	if err != nil || strings.HasPrefix(pv.GetSubject(), "Welcome aboard") {
		t.Errorf("after restore, preview = %v, %v; want the default", pv.GetSubject(), err)
	}
}
