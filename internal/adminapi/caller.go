package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
)

func (h *Handler) GetCaller(ctx context.Context, _ *adminv1.GetCallerRequest) (*adminv1.GetCallerResponse, error) {
	c, err := h.svc.Caller(ctx, developer(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.GetCallerResponse{
		DeveloperSignupEnabled: c.DeveloperSignupEnabled, DeveloperTwoFactorRequired: c.DeveloperTwoFactorRequired,
	}
	if c.APIKeyID != "" {
		out.ApiKeyId, out.AppId, out.Role = c.APIKeyID, c.KeyAppID, memberRoles.Proto(c.KeyRole)
	} else {
		out.DeveloperId, out.Email, out.Operator = c.ID, c.Email, c.Operator
	}
	return out, nil
}
