// Package authapi serves cosync.auth.v1.AuthService: each method converts
// the request to domain values, calls one identity.Service method and maps
// the result (or error) back. RPCs of later releases answer Unimplemented.
package authapi

import (
	"context"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// NeedUser lists the procedures that take a bearer token: true when
// required, false when optional.
var NeedUser = map[string]bool{
	authv1connect.AuthServiceSignUpProcedure:                false,
	authv1connect.AuthServiceLogoutProcedure:                true,
	authv1connect.AuthServiceChangePasswordProcedure:        true,
	authv1connect.AuthServiceGetUserProcedure:               true,
	authv1connect.AuthServiceSetUserMetadataProcedure:       true,
	authv1connect.AuthServiceSetUserNameProcedure:           true,
	authv1connect.AuthServiceCheckUserNameProcedure:         true,
	authv1connect.AuthServiceSetLocaleProcedure:             true,
	authv1connect.AuthServiceSetPhoneProcedure:              true,
	authv1connect.AuthServiceVerifyPhoneProcedure:           true,
	authv1connect.AuthServiceBeginTotpEnrollmentProcedure:   true,
	authv1connect.AuthServiceConfirmTotpEnrollmentProcedure: true,
	authv1connect.AuthServiceDisableTwoFactorProcedure:      true,
	authv1connect.AuthServiceSetSmsTwoFactorProcedure:       true,
	authv1connect.AuthServiceInviteProcedure:                true,
	authv1connect.AuthServiceDeleteAccountProcedure:         true,
	authv1connect.AuthServiceLinkIdentityProcedure:          true,
	authv1connect.AuthServiceUnlinkIdentityProcedure:        true,
}

// Handler implements authv1connect.AuthServiceHandler.
type Handler struct {
	authv1connect.UnimplementedAuthServiceHandler
	svc *identity.Service
	log *slog.Logger
}

var _ authv1connect.AuthServiceHandler = (*Handler)(nil)

// New returns the AuthService handler over svc.
func New(svc *identity.Service, log *slog.Logger) *Handler {
	return &Handler{svc: svc, log: log}
}

// Mount returns the path and HTTP handler of the service with the
// interceptors every AuthService call passes: caller and bearer first, then
// protovalidate (so bad input never reaches the domain).
func Mount(h *Handler, auth rpc.Authenticator, trustProxy bool, opts ...connect.HandlerOption) (string, http.Handler) {
	all := append([]connect.HandlerOption{connect.WithInterceptors(rpc.UserAuth(auth, h.log, trustProxy, NeedUser))}, opts...)
	return authv1connect.NewAuthServiceHandler(h, all...)
}

func (h *Handler) fail(ctx context.Context, err error) error { return rpc.Error(ctx, h.log, err) }

// principal returns the verified user; the interceptor guarantees it for
// procedures marked required in NeedUser.
func principal(ctx context.Context) identity.Principal {
	p, _ := rpc.PrincipalFrom(ctx)
	return p
}

func (h *Handler) GetApplication(ctx context.Context, _ *authv1.GetApplicationRequest) (*authv1.GetApplicationResponse, error) {
	a, err := h.svc.Application(ctx, rpc.CallerFrom(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	st := a.Settings
	return &authv1.GetApplicationResponse{Application: &authv1.Application{
		Id:                    a.ID,
		Name:                  a.Name,
		SignupEnabled:         st.SignupEnabled,
		SignupFlow:            rpc.SignupFlow(st.SignupFlow),
		InvitesEnabled:        st.InvitesEnabled,
		AnonymousLoginEnabled: st.AnonymousLoginEnabled,
		UserNamesEnabled:      st.UserNamesEnabled,
		TwoFactor:             rpc.TwoFactor(st.TwoFactor),
		AppleEnabled:          st.Apple.Enabled,
		GoogleEnabled:         st.Google.Enabled,
		PasswordPolicy:        rpc.PasswordPolicy(st.PasswordPolicy),
		SignupMetadataFields:  rpc.MetadataFields(st.SignupMetadataFields),
		InviteMetadataFields:  rpc.MetadataFields(st.InviteMetadataFields),
		Locales:               st.Locales,
		JwksUrl:               identity.JWKSURL(h.svc.PublicURL(), a.ID),
		Issuer:                identity.Issuer(h.svc.PublicURL(), a.ID),
	}}, nil
}

func (h *Handler) SignUp(ctx context.Context, req *authv1.SignUpRequest) (*authv1.SignUpResponse, error) {
	in := identity.SignUpInput{
		Handle:      req.GetHandle(),
		Password:    identity.Secret(req.GetPassword()),
		Metadata:    rpc.MapOf(req.GetMetadata()),
		Locale:      req.GetLocale(),
		RedirectURL: req.GetRedirectUrl(),
	}
	if p, ok := rpc.PrincipalFrom(ctx); ok {
		in.Anonymous = &p
	}
	res, err := h.svc.SignUp(ctx, rpc.CallerFrom(ctx), in)
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	out := &authv1.SignUpResponse{Flow: rpc.SignupFlow(res.Flow)}
	if res.Session != nil {
		out.Session = rpc.Session(*res.Session)
	}
	return out, nil
}

func (h *Handler) CompleteSignUp(ctx context.Context, req *authv1.CompleteSignUpRequest) (*authv1.CompleteSignUpResponse, error) {
	s, err := h.svc.CompleteSignUp(ctx, rpc.CallerFrom(ctx), req.GetHandle(), identity.Secret(req.GetCode()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.CompleteSignUpResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) Login(ctx context.Context, req *authv1.LoginRequest) (*authv1.LoginResponse, error) {
	res, err := h.svc.Login(ctx, rpc.CallerFrom(ctx), req.GetHandle(), identity.Secret(req.GetPassword()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	if res.Challenge != nil {
		return &authv1.LoginResponse{Result: &authv1.LoginResponse_Challenge{Challenge: rpc.Challenge(*res.Challenge)}}, nil
	}
	return &authv1.LoginResponse{Result: &authv1.LoginResponse_Session{Session: rpc.Session(*res.Session)}}, nil
}

func (h *Handler) RefreshSession(ctx context.Context, req *authv1.RefreshSessionRequest) (*authv1.RefreshSessionResponse, error) {
	s, err := h.svc.RefreshSession(ctx, rpc.CallerFrom(ctx), identity.Secret(req.GetRefreshToken()))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.RefreshSessionResponse{Session: rpc.Session(s)}, nil
}

func (h *Handler) Logout(ctx context.Context, req *authv1.LogoutRequest) (*authv1.LogoutResponse, error) {
	if err := h.svc.Logout(ctx, principal(ctx), req.GetAll()); err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.LogoutResponse{}, nil
}

func (h *Handler) GetUser(ctx context.Context, _ *authv1.GetUserRequest) (*authv1.GetUserResponse, error) {
	u, ids, err := h.svc.CurrentUser(ctx, principal(ctx))
	if err != nil {
		return nil, h.fail(ctx, err)
	}
	return &authv1.GetUserResponse{User: userWith(u, ids)}, nil
}
