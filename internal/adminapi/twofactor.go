package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/rpc"
)

func (h *Handler) ResetUserTwoFactor(ctx context.Context, req *adminv1.ResetUserTwoFactorRequest) (*adminv1.ResetUserTwoFactorResponse, error) {
	u, err := h.svc.ResetUserTwoFactor(ctx, developer(ctx), req.GetAppId(), req.GetUserId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.ResetUserTwoFactorResponse{User: rpc.User(u)}, nil
}

func (h *Handler) SendTestSms(ctx context.Context, req *adminv1.SendTestSmsRequest) (*adminv1.SendTestSmsResponse, error) {
	giveBack, err := h.svc.TakeTestSend(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if err := h.svc.SendTestSMS(ctx, developer(ctx), req.GetAppId(), req.GetPhone()); err != nil {
		giveBack()
		return nil, h.fail(ctx, err)
	}
	return &adminv1.SendTestSmsResponse{}, nil
}
