package authapi

import (
	"context"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
	"github.com/cosync/cosync-auth/internal/social"
)

func (h *Handler) SocialLogin(ctx context.Context, req *authv1.SocialLoginRequest) (*authv1.SocialLoginResponse, error) {
	p, err := providerOf(req.GetProvider())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	res, err := h.svc.SocialLogin(ctx, rpc.CallerFrom(ctx), identity.SocialLoginInput{
		Provider:   p,
		IDToken:    identity.Secret(req.GetIdToken()),
		Nonce:      identity.Secret(req.GetNonce()),
		GivenName:  req.GetGivenName(),
		FamilyName: req.GetFamilyName(),
		Metadata:   rpc.MapOf(req.GetMetadata()),
		Locale:     req.GetLocale(),
	})
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if res.Challenge != nil {
		return &authv1.SocialLoginResponse{Result: &authv1.SocialLoginResponse_Challenge{Challenge: rpc.Challenge(*res.Challenge)}}, nil
	}
	sess := rpc.Session(*res.Session)
	sess.User.Identities = linkedIdentities(res.Identities)
	return &authv1.SocialLoginResponse{Result: &authv1.SocialLoginResponse_Session{Session: sess}}, nil
}

func (h *Handler) LinkIdentity(ctx context.Context, req *authv1.LinkIdentityRequest) (*authv1.LinkIdentityResponse, error) {
	p, err := providerOf(req.GetProvider())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	u, ids, err := h.svc.LinkIdentity(ctx, principal(ctx), p, identity.Secret(req.GetIdToken()), identity.Secret(req.GetNonce()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.LinkIdentityResponse{User: userWith(u, ids)}, nil
}

func (h *Handler) UnlinkIdentity(ctx context.Context, req *authv1.UnlinkIdentityRequest) (*authv1.UnlinkIdentityResponse, error) {
	p, err := providerOf(req.GetProvider())
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	u, ids, err := h.svc.UnlinkIdentity(ctx, principal(ctx), p)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.UnlinkIdentityResponse{User: userWith(u, ids)}, nil
}

// providerOf converts the API's provider; protovalidate has already refused
// UNSPECIFIED and unknown values, so the error is for callers that skip it.
func providerOf(p authv1.Provider) (social.Provider, error) {
	switch p {
	case authv1.Provider_PROVIDER_APPLE:
		return social.Apple, nil
	case authv1.Provider_PROVIDER_GOOGLE:
		return social.Google, nil
	}
	return "", apperr.Field("provider", "must be PROVIDER_APPLE or PROVIDER_GOOGLE")
}

// providerEnum converts a provider back.
func providerEnum(p social.Provider) authv1.Provider {
	switch p {
	case social.Apple:
		return authv1.Provider_PROVIDER_APPLE
	case social.Google:
		return authv1.Provider_PROVIDER_GOOGLE
	}
	return authv1.Provider_PROVIDER_UNSPECIFIED
}

func linkedIdentities(ids []identity.LinkedIdentity) []*authv1.LinkedIdentity {
	out := make([]*authv1.LinkedIdentity, len(ids))
	for i, li := range ids {
		out[i] = &authv1.LinkedIdentity{
			Provider: providerEnum(li.Provider),
			Subject:  li.Subject,
			Email:    li.Email,
			LinkedAt: rpc.Timestamp(li.CreatedAt),
		}
	}
	return out
}

// userWith converts a user with their linked identities.
func userWith(u identity.User, ids []identity.LinkedIdentity) *authv1.User {
	out := rpc.User(u)
	out.Identities = linkedIdentities(ids)
	return out
}
