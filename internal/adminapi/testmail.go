package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
)

func (h *Handler) SendTestEmail(ctx context.Context, req *adminv1.SendTestEmailRequest) (*adminv1.SendTestEmailResponse, error) {
	kind, ok := templateKinds.Domain(req.GetKind())
	if !ok {
		return nil, h.fail(ctx, apperr.Field("kind", "must name a template kind"))
	}
	giveBack, err := h.svc.TakeTestSend(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if err := h.con.SendTestEmail(ctx, developer(ctx), req.GetAppId(), kind, req.GetLocale(), req.GetTo()); err != nil {
		giveBack()
		return nil, h.fail(ctx, err)
	}
	return &adminv1.SendTestEmailResponse{}, nil
}
