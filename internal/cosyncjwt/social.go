package cosyncjwt

import (
	"context"
	"strings"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
)

// The social calls of CosyncJWTSwift: 1.1.22's socialLogin and
// socialSignup name the provider in a field; 1.1.21's appleLogin,
// googleLogin, appleSignup and googleSignup name it in the path. All six
// are one flow here, identity's SocialLogin, which signs in the person the
// ID token names and signs them up on first use. The SDKs send no nonce,
// so a token that carries one is refused (613), as a replay would be.

func (h *Handler) socialLogin(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, "", false)
}

func (h *Handler) socialSignup(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, "", true)
}

func (h *Handler) appleLogin(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, identity.Apple, false)
}

func (h *Handler) googleLogin(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, identity.Google, false)
}

func (h *Handler) appleSignup(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, identity.Apple, true)
}

func (h *Handler) googleSignup(ctx context.Context, c *call) (any, error) {
	return h.social(ctx, c, identity.Google, true)
}

// social signs in (signup: up) with the ID token in `token` from provider
// p, or from the `provider` field when p is "".
//
// CosyncJWT's login answered 603 for a person without an account, and the
// app then asked for the signup fields and called the signup. SocialLogin
// signs such a person up at once where the app needs no signup fields;
// where it needs some (or signup is off), a login reads 603, as before,
// and the signup that follows carries them.
func (h *Handler) social(ctx context.Context, c *call, p identity.Provider, signup bool) (any, error) {
	required := []string{"token"}
	if p == "" {
		required = append(required, "provider")
	}
	if signup {
		required = append(required, "handle")
	}
	if err := need(c.f, required...); err != nil {
		return nil, err
	}
	if p == "" {
		var err error
		if p, err = identity.ParseProvider(c.f.get("provider")); err != nil {
			return nil, fail(codeInvalidData, "provider must be apple or google")
		}
	}
	in := identity.SocialLoginInput{Provider: p, IDToken: identity.Secret(strings.TrimSpace(c.f.get("token")))}
	if signup {
		md, err := metaData(c.f)
		if err != nil {
			return nil, err
		}
		in.Metadata, in.Locale = md, strings.ToLower(strings.TrimSpace(c.f.get("locale")))
	}
	res, err := h.flows.SocialLogin(ctx, c.caller(), in)
	switch r := apperr.ReasonOf(err); {
	case r == apperr.ReasonProviderDisabled && p == identity.Apple:
		return nil, fail(codeAppleNotSupported, "Sign in with Apple is not enabled for this application")
	case r == apperr.ReasonProviderDisabled:
		return nil, fail(codeGoogleNotSupported, "Sign in with Google is not enabled for this application")
	case r == apperr.ReasonNonceInvalid:
		return nil, fail(codeInvalidSocialToken, "the ID token is not valid: it was used before or carries a nonce")
	case !signup && (r == apperr.ReasonMetadataInvalid || r == apperr.ReasonSignupDisabled):
		return nil, fail(codeAccountDoesNotExist, "no account for this "+p.Title()+" ID; sign up")
	case r == apperr.ReasonAccountExists:
		return nil, fail(codeEmailAccountExists, "an account with this email exists; sign in with the password")
	case err != nil:
		return nil, err
	}
	if res.Challenge != nil {
		return map[string]string{"login-token": res.Challenge.LoginToken.Reveal()}, nil
	}
	return h.session(*res.Session, false)
}

// deleteSocialAccount deletes the user after a fresh ID token (`token`) of
// one of their linked identities. Swift 1.1.21 names the provider in
// `loginProvider`; 1.1.22 does not, so each linked provider is tried.
func (h *Handler) deleteSocialAccount(ctx context.Context, c *call) error {
	var providers []identity.Provider
	if name := strings.TrimSpace(c.f.get("loginProvider")); name != "" {
		p, err := identity.ParseProvider(name)
		if err != nil {
			return fail(codeInvalidData, "loginProvider must be apple or google")
		}
		providers = append(providers, p)
	} else {
		ids, err := h.flows.Identities(ctx, *c.user)
		if err != nil {
			return err
		}
		for _, li := range ids {
			providers = append(providers, li.Provider)
		}
	}
	err := error(fail(codeInvalidSocialToken, "this account has no Apple or Google sign-in"))
	for _, p := range providers {
		err = h.flows.DeleteAccount(ctx, *c.user, identity.DeleteAccountInput{Provider: string(p), IDToken: identity.Secret(strings.TrimSpace(c.f.get("token")))})
		if apperr.ReasonOf(err) != apperr.ReasonIDTokenInvalid {
			break
		}
	}
	switch apperr.ReasonOf(err) {
	case apperr.ReasonProviderDisabled, apperr.ReasonNonceInvalid:
		return fail(codeInvalidSocialToken, "the ID token is not valid")
	}
	return err
}
