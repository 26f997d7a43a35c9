package adminapi

import (
	"context"
	"time"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

func apiKeyProto(k identity.APIKey) *adminv1.ApiKey {
	return &adminv1.ApiKey{
		Id: k.ID, Name: k.Name, Role: memberRoles.Proto(k.Role), Prefix: identity.APIKeyPrefix + k.Prefix,
		CreatedAt: rpc.Timestamp(k.CreatedAt), LastUsedAt: rpc.Timestamp(k.LastUsedAt), ExpiresAt: rpc.Timestamp(k.ExpiresAt),
		CreatedBy: k.CreatedBy,
	}
}

func (h *Handler) CreateApiKey(ctx context.Context, req *adminv1.CreateApiKeyRequest) (*adminv1.CreateApiKeyResponse, error) {
	role, _ := memberRoles.Domain(req.GetRole()) // validated: admin or viewer
	var expires time.Time
	if req.GetExpiresAt() != nil {
		expires = req.GetExpiresAt().AsTime()
	}
	k, secret, err := h.con.CreateAPIKey(ctx, developer(ctx), req.GetAppId(), req.GetName(), role, expires)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.CreateApiKeyResponse{ApiKey: apiKeyProto(k), Secret: secret.Reveal()}, nil
}

func (h *Handler) ListApiKeys(ctx context.Context, req *adminv1.ListApiKeysRequest) (*adminv1.ListApiKeysResponse, error) {
	ks, err := h.con.ListAPIKeys(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.ListApiKeysResponse{}
	for _, k := range ks {
		out.ApiKeys = append(out.ApiKeys, apiKeyProto(k))
	}
	return out, nil
}

func (h *Handler) RevokeApiKey(ctx context.Context, req *adminv1.RevokeApiKeyRequest) (*adminv1.RevokeApiKeyResponse, error) {
	if err := h.con.RevokeAPIKey(ctx, developer(ctx), req.GetAppId(), req.GetApiKeyId()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &adminv1.RevokeApiKeyResponse{}, nil
}
