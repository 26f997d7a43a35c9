package cosync

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

type claimsKey struct{}

// ClaimsFromContext returns the claims Verifier.Middleware verified for
// the request whose context is ctx, and false when there are none.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// ContextWithClaims returns a copy of ctx carrying c, as Middleware does;
// useful to test handlers that read ClaimsFromContext.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Middleware returns a handler that verifies the request's
// `Authorization: Bearer` token and calls next with the claims in the
// request context (read them with ClaimsFromContext). It answers 401 with
// a WWW-Authenticate header (RFC 6750) when the token is missing, invalid
// or expired, and 503 when the JWKS cannot be fetched, without calling
// next.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cosync"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		claims, err := v.Verify(r.Context(), token)
		switch {
		case errors.Is(err, ErrExpiredToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="cosync", error="invalid_token", error_description="the token has expired"`)
			http.Error(w, "the token has expired", http.StatusUnauthorized)
			return
		case errors.Is(err, ErrInvalidToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="cosync", error="invalid_token", error_description="the token is not valid"`)
			http.Error(w, "the token is not valid", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "cannot verify tokens now", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), claims)))
	})
}

// bearer returns the token of an Authorization header value.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
