package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func memberProto(m identity.Teammate) *adminv1.Member {
	return &adminv1.Member{
		DeveloperId: m.DeveloperID, Email: m.Email, Role: memberRoles.Proto(m.Role),
		AddedAt: rpc.Timestamp(m.CreatedAt), Pending: m.Pending,
	}
}

func (h *Handler) ListMembers(ctx context.Context, req *adminv1.ListMembersRequest) (*adminv1.ListMembersResponse, error) {
	ms, err := h.con.ListMembers(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListMembersResponse{}
	for _, m := range ms {
		out.Members = append(out.Members, memberProto(m))
	}
	return out, nil
}

func (h *Handler) AddMember(ctx context.Context, req *adminv1.AddMemberRequest) (*adminv1.AddMemberResponse, error) {
	role, _ := memberRoles.Domain(req.GetRole()) // validated: defined, not unspecified
	m, invited, err := h.con.AddMember(ctx, developer(ctx), req.GetAppId(), req.GetEmail(), role)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.AddMemberResponse{Member: memberProto(m), Invited: invited}, nil
}

func (h *Handler) RemoveMember(ctx context.Context, req *adminv1.RemoveMemberRequest) (*adminv1.RemoveMemberResponse, error) {
	if err := h.con.RemoveMember(ctx, developer(ctx), req.GetAppId(), req.GetDeveloperId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RemoveMemberResponse{}, nil
}
