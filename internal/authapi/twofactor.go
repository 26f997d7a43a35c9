package authapi

import (
	"context"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func (h *Handler) CompleteLogin(ctx context.Context, req *authv1.CompleteLoginRequest) (*authv1.CompleteLoginResponse, error) {
	s, err := h.svc.CompleteLogin(ctx, rpc.CallerFrom(ctx), identity.Secret(req.GetLoginToken()), identity.Secret(req.GetCode()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.CompleteLoginResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) SetPhone(ctx context.Context, req *authv1.SetPhoneRequest) (*authv1.SetPhoneResponse, error) {
	if err := h.svc.SetPhone(ctx, principal(ctx), req.GetPhone()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.SetPhoneResponse{}, nil
}

func (h *Handler) VerifyPhone(ctx context.Context, req *authv1.VerifyPhoneRequest) (*authv1.VerifyPhoneResponse, error) {
	u, err := h.svc.VerifyPhone(ctx, principal(ctx), identity.Secret(req.GetCode()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.VerifyPhoneResponse{User: rpc.User(u)}, nil
}

func (h *Handler) BeginTotpEnrollment(ctx context.Context, _ *authv1.BeginTotpEnrollmentRequest) (*authv1.BeginTotpEnrollmentResponse, error) {
	e, err := h.svc.BeginTotpEnrollment(ctx, principal(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.BeginTotpEnrollmentResponse{Secret: e.Secret.Reveal(), Uri: e.URI.Reveal(), QrPng: e.QRPNG}, nil
}

func (h *Handler) ConfirmTotpEnrollment(ctx context.Context, req *authv1.ConfirmTotpEnrollmentRequest) (*authv1.ConfirmTotpEnrollmentResponse, error) {
	codes, u, err := h.svc.ConfirmTotpEnrollment(ctx, principal(ctx), identity.Secret(req.GetCode()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &authv1.ConfirmTotpEnrollmentResponse{User: rpc.User(u)}
	for _, c := range codes {
		out.RecoveryCodes = append(out.RecoveryCodes, c.Reveal())
	}
	return out, nil
}

func (h *Handler) DisableTwoFactor(ctx context.Context, req *authv1.DisableTwoFactorRequest) (*authv1.DisableTwoFactorResponse, error) {
	u, err := h.svc.DisableTwoFactor(ctx, principal(ctx), identity.Secret(req.GetPassword()), identity.Secret(req.GetCode()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.DisableTwoFactorResponse{User: rpc.User(u)}, nil
}

func (h *Handler) SetSmsTwoFactor(ctx context.Context, req *authv1.SetSmsTwoFactorRequest) (*authv1.SetSmsTwoFactorResponse, error) {
	u, err := h.svc.SetSmsTwoFactor(ctx, principal(ctx), req.GetEnabled())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.SetSmsTwoFactorResponse{User: rpc.User(u)}, nil
}
