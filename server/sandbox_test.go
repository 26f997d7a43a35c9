package main

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestTemplateSandboxOverAPI sends issue 11's doubling templates to the
// Admin API: saving and previewing answer InvalidArgument naming the part,
// nothing is saved, and signup mail still goes out with the default.
func TestTemplateSandboxOverAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev)
		double := func(start string) string {
			return `{{$a := ` + start + `}}` + strings.Repeat(`{{$a = printf "%s%s" $a $a}}`, 30) + `{{len $a}}`
		}
		attacks := []struct {
			name  string
			tmpl  *adminv1.EmailTemplate
			field string
		}{
			{"issue 11", &adminv1.EmailTemplate{Subject: "Code", Text: double(`printf "%01000000d" 0`)}, "template.text"},
			{"no width", &adminv1.EmailTemplate{Subject: "Code", Text: "{{.Code}}", Html: "<p>" + double(`printf "%064d" 0`) + "</p>"}, "template.html"},
			{"print", &adminv1.EmailTemplate{Subject: `{{$a := print .Handle .Handle}}` + strings.Repeat(`{{$a = print $a $a $a $a}}`, 12), Text: "{{.Code}}"}, "template.subject"},
			{"call", &adminv1.EmailTemplate{Subject: "Code", Text: "{{call .Code}}"}, "template.text"},
		}
		for _, a := range attacks {
			a.tmpl.Kind, a.tmpl.Locale = adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, "en"
			_, err := e.admin.UpdateEmailTemplate(as(ctx, "", dev), &adminv1.UpdateEmailTemplateRequest{AppId: app, Template: a.tmpl})
			wantReason(t, "UpdateEmailTemplate("+a.name+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, a.field)
			_, err = e.admin.PreviewEmailTemplate(as(ctx, "", dev), &adminv1.PreviewEmailTemplateRequest{AppId: app, Template: a.tmpl})
			wantReason(t, "PreviewEmailTemplate("+a.name+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, a.field)
		}
		list, err := e.admin.ListEmailTemplates(as(ctx, "", dev), &adminv1.ListEmailTemplatesRequest{AppId: app})
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range list.GetTemplates() {
			if tm.GetCustomized() {
				t.Errorf("template %v was saved", tm.GetKind())
			}
		}
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Ann"}})
		if _, err := e.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "ann@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatalf("SignUp = %v", err)
		}
		if c := e.outboxCode(t, dev, app, "ann@example.com"); c == "" {
			t.Error("no signup code mailed")
		}
	})
}

// TestAppSenderDomains: an app's email_from must be on a domain the
// operator allows, with no characters that disguise it, on create and on
// update; a refused update changes nothing.
func TestAppSenderDomains(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, func(c *config.Config) { c.MailFromDomains = []string{"example.com"} })
		dev := e.developer(t, "dev@example.com")
		ctx := as(context.Background(), "", dev)
		bad := []string{
			`"Google Security" <no-reply@accounts.google.com>`, // the issue's
			"Notes <no-reply@example.com.evil.example>",
			"Notes <no-reply@example.com>\r\nBcc: all@evil.example",
			"Notes\u202e <no-reply@example.com>",
			`"security@bank.example" <no-reply@example.com>`,
		}
		for _, from := range bad {
			_, err := e.admin.CreateApp(ctx, &adminv1.CreateAppRequest{Name: "Notes", Settings: &adminv1.AppSettings{EmailFrom: from}})
			wantReason(t, "CreateApp(email_from "+from+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.email_from")
		}
		const good = "Field Notes <hello@example.com>"
		res, err := e.admin.CreateApp(ctx, &adminv1.CreateAppRequest{Name: "Notes", Settings: &adminv1.AppSettings{EmailFrom: good}})
		if err != nil {
			t.Fatalf("CreateApp(email_from %q) = %v", good, err)
		}
		app := res.GetApp().GetId()
		for _, from := range bad {
			_, err := e.admin.UpdateApp(ctx, &adminv1.UpdateAppRequest{AppId: app, Settings: &adminv1.AppSettings{EmailFrom: from},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.email_from"}}})
			wantReason(t, "UpdateApp(email_from "+from+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, "settings.email_from")
		}
		got, err := e.admin.GetApp(ctx, &adminv1.GetAppRequest{AppId: app})
		if err != nil || got.GetApp().GetSettings().GetEmailFrom() != good {
			t.Errorf("after refused updates, email_from = %q (%v), want %q", got.GetApp().GetSettings().GetEmailFrom(), err, good)
		}
		e.update(t, dev, app, &adminv1.AppSettings{}, "settings.email_from") // back to the server's sender
	})
}

// TestReservedMetadataPathsOverAPI: a metadata field at a claim a verifier
// trusts is refused on create and update, for signup and invite fields.
func TestReservedMetadataPathsOverAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	ctx := as(context.Background(), "", dev)
	app := e.appWithNameField(t, dev)
	str := authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING
	for _, path := range []string{"email_verified", "role", "scope", "cnf", "groups", "email.work", "Roles"} {
		fields := []*authv1.MetadataField{{Path: "user_data.team", Type: str}, {Path: path, Type: str}}
		for _, list := range []string{"signup_metadata_fields", "invite_metadata_fields"} {
			s := &adminv1.AppSettings{SignupMetadataFields: fields}
			if list == "invite_metadata_fields" {
				s = &adminv1.AppSettings{InviteMetadataFields: fields}
			}
			want := "settings." + list + "[1].path"
			_, err := e.admin.CreateApp(ctx, &adminv1.CreateAppRequest{Name: "Claims", Settings: s})
			wantReason(t, "CreateApp("+list+" "+path+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, want)
			_, err = e.admin.UpdateApp(ctx, &adminv1.UpdateAppRequest{AppId: app, Settings: s,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings." + list}}})
			wantReason(t, "UpdateApp("+list+" "+path+")", err, connect.CodeInvalidArgument, apperr.ReasonInvalidArgument, want)
		}
	}
}
