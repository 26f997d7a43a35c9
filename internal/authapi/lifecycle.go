package authapi

import (
	"context"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func (h *Handler) LoginAnonymous(ctx context.Context, _ *authv1.LoginAnonymousRequest) (*authv1.LoginAnonymousResponse, error) {
	s, err := h.svc.LoginAnonymous(ctx, rpc.CallerFrom(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.LoginAnonymousResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) ForgotPassword(ctx context.Context, req *authv1.ForgotPasswordRequest) (*authv1.ForgotPasswordResponse, error) {
	if err := h.svc.ForgotPassword(ctx, rpc.CallerFrom(ctx), req.GetHandle()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.ForgotPasswordResponse{}, nil
}

func (h *Handler) ResetPassword(ctx context.Context, req *authv1.ResetPasswordRequest) (*authv1.ResetPasswordResponse, error) {
	err := h.svc.ResetPassword(ctx, rpc.CallerFrom(ctx), req.GetHandle(), identity.Secret(req.GetCode()), identity.Secret(req.GetNewPassword()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.ResetPasswordResponse{}, nil
}

func (h *Handler) ChangePassword(ctx context.Context, req *authv1.ChangePasswordRequest) (*authv1.ChangePasswordResponse, error) {
	s, err := h.svc.ChangePassword(ctx, principal(ctx), identity.Secret(req.GetPassword()), identity.Secret(req.GetNewPassword()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.ChangePasswordResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) SetUserMetadata(ctx context.Context, req *authv1.SetUserMetadataRequest) (*authv1.SetUserMetadataResponse, error) {
	u, err := h.svc.SetUserMetadata(ctx, principal(ctx), rpc.MapOf(req.GetMetadata()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.SetUserMetadataResponse{User: rpc.User(u)}, nil
}

func (h *Handler) SetUserName(ctx context.Context, req *authv1.SetUserNameRequest) (*authv1.SetUserNameResponse, error) {
	u, err := h.svc.SetUserName(ctx, principal(ctx), req.GetUserName())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.SetUserNameResponse{User: rpc.User(u)}, nil
}

func (h *Handler) CheckUserName(ctx context.Context, req *authv1.CheckUserNameRequest) (*authv1.CheckUserNameResponse, error) {
	free, err := h.svc.CheckUserName(ctx, principal(ctx), req.GetUserName())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.CheckUserNameResponse{Available: free}, nil
}

func (h *Handler) SetLocale(ctx context.Context, req *authv1.SetLocaleRequest) (*authv1.SetLocaleResponse, error) {
	u, err := h.svc.SetLocale(ctx, principal(ctx), req.GetLocale())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.SetLocaleResponse{User: rpc.User(u)}, nil
}

func (h *Handler) Invite(ctx context.Context, req *authv1.InviteRequest) (*authv1.InviteResponse, error) {
	err := h.svc.Invite(ctx, principal(ctx), identity.InviteInput{Handle: req.GetHandle(), Metadata: rpc.MapOf(req.GetMetadata()), Locale: req.GetLocale()})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.InviteResponse{}, nil
}

func (h *Handler) Register(ctx context.Context, req *authv1.RegisterRequest) (*authv1.RegisterResponse, error) {
	s, err := h.svc.Register(ctx, rpc.CallerFrom(ctx), identity.RegisterInput{
		Handle: req.GetHandle(), Password: identity.Secret(req.GetPassword()), InviteCode: identity.Secret(req.GetInviteCode()),
		Metadata: rpc.MapOf(req.GetMetadata()), Locale: req.GetLocale(),
	})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.RegisterResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) DeleteAccount(ctx context.Context, req *authv1.DeleteAccountRequest) (*authv1.DeleteAccountResponse, error) {
	in := identity.DeleteAccountInput{Password: identity.Secret(req.GetPassword()), IDToken: identity.Secret(req.GetIdToken())}
	switch req.GetProvider() {
	case authv1.Provider_PROVIDER_APPLE:
		in.Provider = "apple"
	case authv1.Provider_PROVIDER_GOOGLE:
		in.Provider = "google"
	}
	if err := h.svc.DeleteAccount(ctx, principal(ctx), in); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.DeleteAccountResponse{}, nil
}
