package adminapi

import (
	"context"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
)

func (h *Handler) GetIntegrationSnippets(ctx context.Context, req *adminv1.GetIntegrationSnippetsRequest) (*adminv1.GetIntegrationSnippetsResponse, error) {
	in, err := h.con.IntegrationSnippets(ctx, developer(ctx), req.GetAppId())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &adminv1.GetIntegrationSnippetsResponse{JwksUrl: in.JWKSURL, Issuer: in.Issuer, OpenidConfigurationUrl: in.OpenIDConfigurationURL}
	for _, s := range in.Snippets {
		out.Snippets = append(out.Snippets, &adminv1.Snippet{
			Consumer: s.Consumer, Format: s.Format, Content: s.Content, Title: s.Title, Instructions: s.Instructions,
		})
	}
	return out, nil
}
