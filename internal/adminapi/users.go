package adminapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
	"github.com/cosync/cosync-auth/internal/social"
)

var providers = rpc.NewEnum(map[social.Provider]authv1.Provider{
	social.Apple: authv1.Provider_PROVIDER_APPLE, social.Google: authv1.Provider_PROVIDER_GOOGLE,
})

// appUser converts a user with their linked identities.
func appUser(u identity.User, ids []identity.LinkedIdentity) *authv1.User {
	out := rpc.User(u)
	for _, li := range ids {
		out.Identities = append(out.Identities, &authv1.LinkedIdentity{
			Provider: providers.Proto(li.Provider), Subject: li.Subject, Email: li.Email, LinkedAt: rpc.Timestamp(li.CreatedAt),
		})
	}
	return out
}

func (h *Handler) ListUsers(ctx context.Context, req *adminv1.ListUsersRequest) (*adminv1.ListUsersResponse, error) {
	var bounds [4]time.Time
	for i, b := range []struct {
		field string
		ts    *timestamppb.Timestamp
	}{
		{"created_after", req.GetCreatedAfter()}, {"created_before", req.GetCreatedBefore()},
		{"last_login_after", req.GetLastLoginAfter()}, {"last_login_before", req.GetLastLoginBefore()},
	} {
		if b.ts == nil {
			continue // unset: an open bound
		}
		if err := b.ts.CheckValid(); err != nil {
			return nil, h.fail(ctx, apperr.Field(b.field, "must be a time between the years 1 and 9999"))
		}
		bounds[i] = b.ts.AsTime()
	}
	f := identity.UserFilter{
		Query: req.GetQuery(), Status: rpc.UserStatusOf(req.GetStatus()), Anonymous: req.Anonymous,
		Provider: req.GetProvider(), TwoFactor: rpc.TwoFactorOf(req.GetTwoFactor()),
		CreatedAfter: bounds[0], CreatedBefore: bounds[1], LastLoginAfter: bounds[2], LastLoginBefore: bounds[3],
	}
	page, err := h.svc.ListUsers(ctx, developer(ctx), req.GetAppId(), f, req.GetPageToken(), pageSize(req.GetPageSize()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListUsersResponse{NextPageToken: page.NextPageToken, TotalSize: int64(page.Total)}
	for _, u := range page.Users {
		out.Users = append(out.Users, rpc.User(u))
	}
	return out, nil
}

func (h *Handler) GetUser(ctx context.Context, req *adminv1.GetUserRequest) (*adminv1.GetUserResponse, error) {
	u, err := h.svc.GetAppUser(ctx, developer(ctx), req.GetAppId(), req.GetUserId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.GetUserResponse{User: appUser(u.User, u.Identities)}
	for _, s := range u.Sessions {
		out.Sessions = append(out.Sessions, &adminv1.UserSession{
			Id: s.ID, CreatedAt: rpc.Timestamp(s.CreatedAt), LastUsedAt: rpc.Timestamp(s.LastUsedAt), ExpiresAt: rpc.Timestamp(s.ExpiresAt),
			Ip: s.IP, UserAgent: s.UserAgent, Method: s.Method,
		})
	}
	return out, nil
}

func (h *Handler) CreateUser(ctx context.Context, req *adminv1.CreateUserRequest) (*adminv1.CreateUserResponse, error) {
	u, err := h.svc.CreateAppUser(ctx, developer(ctx), req.GetAppId(), identity.NewAppUser{
		Email: req.GetHandle(), Password: identity.Secret(req.GetPassword()), Metadata: rpc.MapOf(req.GetMetadata()),
		Locale: req.GetLocale(), SendSetPassword: req.GetSendSetPassword(),
	})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.CreateUserResponse{User: rpc.User(u)}, nil
}

func (h *Handler) UpdateUser(ctx context.Context, req *adminv1.UpdateUserRequest) (*adminv1.UpdateUserResponse, error) {
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, h.fail(ctx, apperr.Field("update_mask", "must name status, metadata or both"))
	}
	var ch identity.AppUserChange
	for _, p := range paths {
		switch p {
		case "status":
			ch.SetStatus, ch.Status = true, rpc.UserStatusOf(req.GetStatus())
		case "metadata":
			ch.SetMetadata, ch.Metadata = true, rpc.MapOf(req.GetMetadata())
		default:
			return nil, h.fail(ctx, apperr.Field("update_mask", "path "+p+" cannot be changed; use status or metadata"))
		}
	}
	u, err := h.svc.UpdateAppUser(ctx, developer(ctx), req.GetAppId(), req.GetUserId(), ch)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.UpdateUserResponse{User: rpc.User(u)}, nil
}

func (h *Handler) DeleteUser(ctx context.Context, req *adminv1.DeleteUserRequest) (*adminv1.DeleteUserResponse, error) {
	if err := h.svc.DeleteAppUser(ctx, developer(ctx), req.GetAppId(), req.GetUserId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.DeleteUserResponse{}, nil
}

func (h *Handler) RevokeUserSessions(ctx context.Context, req *adminv1.RevokeUserSessionsRequest) (*adminv1.RevokeUserSessionsResponse, error) {
	if _, err := h.svc.RevokeUserSessions(ctx, developer(ctx), req.GetAppId(), req.GetUserId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RevokeUserSessionsResponse{}, nil
}

func (h *Handler) RevokeUserSession(ctx context.Context, req *adminv1.RevokeUserSessionRequest) (*adminv1.RevokeUserSessionResponse, error) {
	if err := h.svc.RevokeUserSession(ctx, developer(ctx), req.GetAppId(), req.GetUserId(), req.GetSessionId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RevokeUserSessionResponse{}, nil
}

func (h *Handler) SendPasswordReset(ctx context.Context, req *adminv1.SendPasswordResetRequest) (*adminv1.SendPasswordResetResponse, error) {
	if err := h.svc.SendPasswordReset(ctx, developer(ctx), req.GetAppId(), req.GetUserId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.SendPasswordResetResponse{}, nil
}
