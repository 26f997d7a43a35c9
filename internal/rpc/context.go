package rpc

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/internal/identity"
)

// AppIDHeader names the application on every AuthService call.
const AppIDHeader = "Cosync-App-Id"

type ctxKey int

const (
	callerKey ctxKey = iota
	principalKey
	developerKey
)

// WithCaller returns ctx carrying the caller.
func WithCaller(ctx context.Context, c identity.Caller) context.Context {
	return context.WithValue(ctx, callerKey, c)
}

// CallerFrom returns the caller the interceptor stored.
func CallerFrom(ctx context.Context) identity.Caller {
	c, _ := ctx.Value(callerKey).(identity.Caller)
	return c
}

// PrincipalFrom returns the signed-in user the interceptor verified, if any.
func PrincipalFrom(ctx context.Context) (identity.Principal, bool) {
	p, ok := ctx.Value(principalKey).(identity.Principal)
	return p, ok
}

// DeveloperFrom returns the signed-in developer the interceptor verified.
func DeveloperFrom(ctx context.Context) (identity.Developer, bool) {
	d, ok := ctx.Value(developerKey).(identity.Developer)
	return d, ok
}

// ClientIP returns the peer's IP. With trustProxy (one trusted proxy in
// front, COSYNC_TRUST_PROXY) it is the last X-Forwarded-For entry: the one
// that proxy appended. Earlier entries are whatever the client sent, and
// trusting them would let a client pick its IP and dodge per-IP limits.
func ClientIP(peer connect.Peer, h http.Header, trustProxy bool) string {
	if trustProxy {
		if xff := strings.Join(h.Values("X-Forwarded-For"), ","); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(peer.Addr)
	if err != nil {
		return peer.Addr
	}
	return host
}

// BearerToken returns the token of an `Authorization: Bearer` header.
func BearerToken(h http.Header) identity.Secret {
	v := h.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return identity.Secret(strings.TrimSpace(v[7:]))
	}
	return ""
}

// Authenticator verifies bearer tokens; identity.Service implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, appID string, raw identity.Secret, ip string) (identity.Principal, error)
	AuthenticateDeveloper(ctx context.Context, raw identity.Secret, ip string) (identity.Developer, error)
}

// UserAuth is the AuthService interceptor: it records the caller (app id
// header, client IP) and, for procedures in needUser (true: required,
// false: optional), verifies the bearer token into a Principal.
func UserAuth(auth Authenticator, log *slog.Logger, trustProxy bool, needUser map[string]bool) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			c := identity.Caller{
				AppID: strings.TrimSpace(req.Header().Get(AppIDHeader)),
				IP:    ClientIP(req.Peer(), req.Header(), trustProxy),
				// The domain keeps its first identity.MaxUserAgent characters.
				UserAgent: req.Header().Get("User-Agent"),
			}
			ctx = WithCaller(ctx, c)
			required, listed := needUser[req.Spec().Procedure]
			if raw := BearerToken(req.Header()); listed && (required || raw != "") {
				p, err := auth.Authenticate(ctx, c.AppID, raw, c.IP)
				if err != nil {
					return nil, Error(ctx, log, err)
				}
				ctx = context.WithValue(ctx, principalKey, p)
			}
			return next(ctx, req)
		}
	}
}

// DeveloperAuth is the AdminService interceptor: every call needs a
// developer's console access token or an API key (`Bearer csk_…`), which
// auth tells apart (identity.Service.AuthenticateDeveloper); the handlers
// read the identity.Developer it stores with DeveloperFrom.
func DeveloperAuth(auth Authenticator, log *slog.Logger, trustProxy bool) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			ip := ClientIP(req.Peer(), req.Header(), trustProxy)
			d, err := auth.AuthenticateDeveloper(ctx, BearerToken(req.Header()), ip)
			if err != nil {
				return nil, Error(ctx, log, err)
			}
			ctx = context.WithValue(ctx, developerKey, d)
			return next(ctx, req)
		}
	}
}
