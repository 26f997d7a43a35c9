package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func pendingSignupProto(p identity.PendingSignup) *adminv1.PendingSignup {
	return &adminv1.PendingSignup{
		Id: p.ID, Handle: p.Handle, Metadata: rpc.Struct(p.Metadata),
		CreatedAt: rpc.Timestamp(p.CreatedAt), ExpiresAt: rpc.Timestamp(p.ExpiresAt),
	}
}

func (h *Handler) ListPendingSignups(ctx context.Context, req *adminv1.ListPendingSignupsRequest) (*adminv1.ListPendingSignupsResponse, error) {
	limit := pageSize(req.GetPageSize())
	ps, err := h.svc.ListPendingSignups(ctx, developer(ctx), req.GetAppId(), req.GetPageToken(), limit+1)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListPendingSignupsResponse{}
	ps, out.NextPageToken = page(ps, limit, func(p identity.PendingSignup) string { return p.ID })
	for _, p := range ps {
		out.PendingSignups = append(out.PendingSignups, pendingSignupProto(p))
	}
	return out, nil
}

func (h *Handler) DeletePendingSignup(ctx context.Context, req *adminv1.DeletePendingSignupRequest) (*adminv1.DeletePendingSignupResponse, error) {
	if err := h.svc.DeletePendingSignup(ctx, developer(ctx), req.GetAppId(), req.GetPendingSignupId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.DeletePendingSignupResponse{}, nil
}

func (h *Handler) ResendPendingSignup(ctx context.Context, req *adminv1.ResendPendingSignupRequest) (*adminv1.ResendPendingSignupResponse, error) {
	p, err := h.svc.ResendPendingSignup(ctx, developer(ctx), req.GetAppId(), req.GetPendingSignupId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.ResendPendingSignupResponse{PendingSignup: pendingSignupProto(p)}, nil
}
