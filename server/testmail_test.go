package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/notify/smtptest"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestSendTestEmail (dev outbox): the chosen template, the app's own
// version included, is rendered with sample values and kept for the
// calling developer or `to`; bad kinds and locales, viewers, strangers and
// an API key without `to` are refused; the per-app hourly limit holds and
// every send is audited.
func TestSendTestEmail(t *testing.T) {
	t.Parallel()
	eachAudited(t, func(t *testing.T, e *env, audit *auditSeen) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		viewer := e.member(t, app, "viewer@example.com", identity.RoleViewer)
		stranger := e.developer(t, "stranger@example.com")
		send := func(tok string, req *adminv1.SendTestEmailRequest) error {
			req.AppId = app
			_, err := e.admin.SendTestEmail(as(ctx, "", tok), req)
			return err
		}

		// Over curl JSON, to the caller's own address.
		r := e.adminJSON(t, dev, "SendTestEmail", `{"app_id":"`+app+`","kind":"TEMPLATE_KIND_WELCOME"}`)
		if r.status != http.StatusOK || string(r.body) != "{}" {
			t.Fatalf("SendTestEmail over JSON = %d %s, want 200 {}", r.status, r.body)
		}
		if m := e.outboxTo(t, dev, app, "dev@example.com"); m.GetSubject() != "[Test] Welcome to Field Notes" || !strings.Contains(m.GetText(), "jane@example.com") {
			t.Errorf("test welcome mail = %q / %q, want the welcome subject marked [Test] and the sample handle", m.GetSubject(), m.GetText())
		}
		// The app's own template, to another address.
		if _, err := e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: &adminv1.EmailTemplate{
			Kind: adminv1.TemplateKind_TEMPLATE_KIND_PASSWORD_RESET, Locale: "en", Subject: "Reset for {{.AppName}}", Text: "Code {{.Code}}"}}); err != nil {
			t.Fatal(err)
		}
		if err := send(dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_PASSWORD_RESET, To: "qa@example.com", Locale: "en"}); err != nil {
			t.Fatalf("SendTestEmail(reset, to qa) = %v", err)
		}
		if m := e.outboxTo(t, dev, app, "qa@example.com"); m.GetSubject() != "[Test] Reset for Field Notes" || m.GetText() != "Code 123456" {
			t.Errorf("test reset mail = %q / %q, want the app's own template with sample values", m.GetSubject(), m.GetText())
		}

		for _, tc := range []struct {
			name   string
			tok    string
			req    *adminv1.SendTestEmailRequest
			code   connect.Code
			reason apperr.Reason
			field  string
		}{
			{"the SMS template", dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_SMS}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "kind"},
			{"no kind", dev, &adminv1.SendTestEmailRequest{}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "kind"},
			{"a locale the app lacks", dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME, Locale: "fr"}, connect.CodeInvalidArgument, apperr.ReasonLocaleUnsupported, "locale"},
			{"a bad to", dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME, To: "qa..x@example.com"}, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "to"},
			{"a viewer", viewer, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME}, connect.CodePermissionDenied, apperr.ReasonPermissionDenied, ""},
			{"a stranger", stranger, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME}, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
		} {
			err := send(tc.tok, tc.req)
			if tc.field != "" {
				wantReason(t, "SendTestEmail("+tc.name+")", err, tc.code, tc.reason, tc.field)
			} else {
				wantReason(t, "SendTestEmail("+tc.name+")", err, tc.code, tc.reason)
			}
		}

		// An API key has no address of its own.
		key, err := e.admin.CreateApiKey(as(ctx, "", dev), &adminv1.CreateApiKeyRequest{AppId: app, Name: "ci", Role: adminv1.MemberRole_MEMBER_ROLE_ADMIN})
		if err != nil {
			t.Fatal(err)
		}
		err = send(key.GetSecret(), &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME})
		wantReason(t, "SendTestEmail by an API key without to", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "to")
		if err := send(key.GetSecret(), &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME, To: "ops@example.com"}); err != nil {
			t.Errorf("SendTestEmail by an API key with to = %v", err)
		}
		if n := audit.count("app.email.test", key.GetApiKey().GetId()); n != 1 {
			t.Errorf("test sends audited for the API key = %d, want 1", n)
		}

		// The app's hourly limit: three sent above (two by the developer,
		// one by the key), refusals counted nothing.
		for i := 3; i < identity.LimitTestSendApp.Limit; i++ {
			if err := send(dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_INVITE, To: "qa@example.com"}); err != nil {
				t.Fatalf("test send %d = %v", i+1, err)
			}
		}
		err = send(dev, &adminv1.SendTestEmailRequest{Kind: adminv1.TemplateKind_TEMPLATE_KIND_INVITE, To: "qa@example.com"})
		wantReason(t, "SendTestEmail past the app's hourly limit", err, connect.CodeResourceExhausted, apperr.ReasonRateLimited)
		if n := audit.count("app.email.test", jwtClaims(t, dev)["sub"].(string)); n != identity.LimitTestSendApp.Limit-1 {
			t.Errorf("test sends audited for the developer = %d, want %d", n, identity.LimitTestSendApp.Limit-1)
		}
	})
}

// TestSendTestEmailSMTP: with real mail configured the test mail goes out
// over SMTP at once; a mail server that is down answers MAIL_UNAVAILABLE.
func TestSendTestEmailSMTP(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t)
	e := newEnv(t, storetest.SQLite(t), withSMTP(mail.URL()))
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev)
	ctx := as(context.Background(), "", dev)
	if _, err := e.admin.SendTestEmail(ctx, &adminv1.SendTestEmailRequest{AppId: app, Kind: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE}); err != nil {
		t.Fatalf("SendTestEmail = %v", err)
	}
	got := mail.WaitFor(t, "dev@example.com")
	if !strings.HasPrefix(got.Subject, "[Test] ") || !strings.Contains(got.Text, "123456") || got.From != "test@example.com" {
		t.Errorf("SMTP test mail = from %q, %q / %q; want the server's sender, [Test] and the sample code", got.From, got.Subject, got.Text)
	}
	mail.Stop()
	_, err := e.admin.SendTestEmail(ctx, &adminv1.SendTestEmailRequest{AppId: app, Kind: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME})
	wantReason(t, "SendTestEmail with the mail server down", err, connect.CodeUnavailable, apperr.ReasonMailUnavailable)
}
