package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
	"github.com/cosync/cosync-auth/internal/templates"
)

var inviteStates = rpc.NewEnum(map[string]adminv1.InvitationState{
	identity.InvitePending: adminv1.InvitationState_INVITATION_STATE_PENDING, identity.InviteAccepted: adminv1.InvitationState_INVITATION_STATE_ACCEPTED,
	identity.InviteExpired: adminv1.InvitationState_INVITATION_STATE_EXPIRED, identity.InviteRevoked: adminv1.InvitationState_INVITATION_STATE_REVOKED,
})

func (h *Handler) invitation(iv identity.Invitation) *adminv1.Invitation {
	return &adminv1.Invitation{
		Id: iv.ID, Handle: iv.Handle, Metadata: rpc.Struct(iv.Metadata), State: inviteStates.Proto(iv.State(h.svc.Now())),
		InviterId: iv.InviterID, CreatedAt: rpc.Timestamp(iv.CreatedAt), ExpiresAt: rpc.Timestamp(iv.ExpiresAt), AcceptedAt: rpc.Timestamp(iv.AcceptedAt),
	}
}

func (h *Handler) CreateInvitations(ctx context.Context, req *adminv1.CreateInvitationsRequest) (*adminv1.CreateInvitationsResponse, error) {
	var ivs []identity.Invitation
	var err error
	if req.GetCsv() != "" {
		ivs, err = h.svc.CreateInvitationsCSV(ctx, developer(ctx), req.GetAppId(), req.GetCsv(), req.GetLocale())
	} else {
		ins := make([]identity.InviteInput, len(req.GetInvitations()))
		for i, in := range req.GetInvitations() {
			ins[i] = identity.InviteInput{Handle: in.GetHandle(), Metadata: rpc.MapOf(in.GetMetadata()), Locale: req.GetLocale()}
		}
		ivs, err = h.svc.CreateInvitations(ctx, developer(ctx), req.GetAppId(), ins)
	}
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.CreateInvitationsResponse{}
	for _, iv := range ivs {
		out.Invitations = append(out.Invitations, h.invitation(iv))
	}
	return out, nil
}

func (h *Handler) ListInvitations(ctx context.Context, req *adminv1.ListInvitationsRequest) (*adminv1.ListInvitationsResponse, error) {
	state, _ := inviteStates.Domain(req.GetState()) // UNSPECIFIED: every state
	limit := pageSize(req.GetPageSize())
	ivs, err := h.svc.ListInvitations(ctx, developer(ctx), req.GetAppId(), state, req.GetPageToken(), limit+1)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListInvitationsResponse{}
	ivs, out.NextPageToken = page(ivs, limit, func(iv identity.Invitation) string { return iv.ID })
	for _, iv := range ivs {
		out.Invitations = append(out.Invitations, h.invitation(iv))
	}
	return out, nil
}

func (h *Handler) ResendInvitation(ctx context.Context, req *adminv1.ResendInvitationRequest) (*adminv1.ResendInvitationResponse, error) {
	iv, err := h.svc.ResendInvitation(ctx, developer(ctx), req.GetAppId(), req.GetInvitationId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.ResendInvitationResponse{Invitation: h.invitation(iv)}, nil
}

func (h *Handler) RevokeInvitation(ctx context.Context, req *adminv1.RevokeInvitationRequest) (*adminv1.RevokeInvitationResponse, error) {
	if err := h.svc.RevokeInvitation(ctx, developer(ctx), req.GetAppId(), req.GetInvitationId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RevokeInvitationResponse{}, nil
}

var templateKinds = rpc.NewEnum(map[templates.Kind]adminv1.TemplateKind{
	templates.KindSignupCode: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_CODE, templates.KindSignupLink: adminv1.TemplateKind_TEMPLATE_KIND_SIGNUP_LINK,
	templates.KindLinkLanding: adminv1.TemplateKind_TEMPLATE_KIND_LINK_LANDING, templates.KindWelcome: adminv1.TemplateKind_TEMPLATE_KIND_WELCOME,
	templates.KindPasswordReset: adminv1.TemplateKind_TEMPLATE_KIND_PASSWORD_RESET, templates.KindInvite: adminv1.TemplateKind_TEMPLATE_KIND_INVITE,
	templates.KindTOTPQR: adminv1.TemplateKind_TEMPLATE_KIND_TOTP_QR, templates.KindSMS: adminv1.TemplateKind_TEMPLATE_KIND_SMS,
	templates.KindAccountExists: adminv1.TemplateKind_TEMPLATE_KIND_ACCOUNT_EXISTS,
})

func templateOf(t *adminv1.EmailTemplate) (templates.Template, error) {
	k, ok := templateKinds.Domain(t.GetKind())
	if !ok {
		return templates.Template{}, apperr.Field("template.kind", "must name a template kind")
	}
	return templates.Template{Kind: k, Locale: t.GetLocale(), Subject: t.GetSubject(), HTML: t.GetHtml(), Text: t.GetText()}, nil
}

func templateProto(v console.TemplateView) *adminv1.EmailTemplate {
	return &adminv1.EmailTemplate{Kind: templateKinds.Proto(v.Kind), Locale: v.Locale, Subject: v.Subject, Html: v.HTML, Text: v.Text, Customized: v.Customized}
}

func (h *Handler) ListEmailTemplates(ctx context.Context, req *adminv1.ListEmailTemplatesRequest) (*adminv1.ListEmailTemplatesResponse, error) {
	views, err := h.con.ListTemplates(ctx, developer(ctx), req.GetAppId(), req.GetLocale())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListEmailTemplatesResponse{}
	for _, v := range views {
		out.Templates = append(out.Templates, templateProto(v))
	}
	return out, nil
}

func (h *Handler) UpdateEmailTemplate(ctx context.Context, req *adminv1.UpdateEmailTemplateRequest) (*adminv1.UpdateEmailTemplateResponse, error) {
	t, err := templateOf(req.GetTemplate())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	v, err := h.con.UpdateTemplate(ctx, developer(ctx), req.GetAppId(), t)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.UpdateEmailTemplateResponse{Template: templateProto(v)}, nil
}

func (h *Handler) PreviewEmailTemplate(ctx context.Context, req *adminv1.PreviewEmailTemplateRequest) (*adminv1.PreviewEmailTemplateResponse, error) {
	t, err := templateOf(req.GetTemplate())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	r, err := h.con.PreviewTemplate(ctx, developer(ctx), req.GetAppId(), t)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.PreviewEmailTemplateResponse{Subject: r.Subject, Html: r.HTML, Text: r.Text}, nil
}

func (h *Handler) ListLocales(ctx context.Context, req *adminv1.ListLocalesRequest) (*adminv1.ListLocalesResponse, error) {
	available, enabled, err := h.con.Locales(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.ListLocalesResponse{Available: available, Enabled: enabled}, nil
}
