package cosync

import (
	"context"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"
)

// AppIDHeader is the header that names the application on every call.
const AppIDHeader = "Cosync-App-Id"

// Client calls CoSync Auth for one application. It sends the application
// id on every call; it keeps the session that Login, CompleteLogin,
// LoginAnonymous, SocialLogin, CompleteSignUp, SignUp (flow NONE),
// Register, ChangePassword and RefreshSession return, sends its access
// token as the bearer of every call that takes one, and refreshes it
// before it expires — one RefreshSession at a time however many calls wait.
// Logout and DeleteAccount forget it. A call that sets its own
// Authorization header (with an interceptor given to WithConnectOptions,
// say for an API key) keeps it.
//
// A Client is safe for concurrent use.
type Client struct {
	// Auth calls the AuthService (app users).
	Auth authv1connect.AuthServiceClient
	// Admin calls the AdminService. Its bearer is the session's access
	// token, so sign in first to the built-in "console" application as a
	// developer: NewClient(baseURL, "console").
	Admin adminv1connect.AdminServiceClient

	appID    string
	sessions *sessionHolder
}

// NewClient returns a Client for the application appID of the CoSync Auth
// server at baseURL (such as "https://auth.example.com"). It makes no
// request until called.
func NewClient(baseURL, appID string, opts ...ClientOption) *Client {
	cfg := clientConfig{
		store:         &MemoryStore{},
		refreshBefore: time.Minute,
		now:           time.Now,
	}
	for _, o := range opts {
		o.applyClient(&cfg)
	}
	if cfg.httpClient == nil {
		cfg.httpClient = defaultHTTPClient()
	}
	baseURL = strings.TrimRight(baseURL, "/")
	c := &Client{appID: appID}
	// Refreshes go through their own client with the app id only, so that
	// refreshing never waits on itself.
	plain := authv1connect.NewAuthServiceClient(cfg.httpClient, baseURL, append([]connect.ClientOption{
		connect.WithInterceptors(appIDInterceptor(appID)),
	}, cfg.connectOpts...)...)
	c.sessions = newSessionHolder(cfg, func(ctx context.Context, refresh string) (*authv1.Session, error) {
		res, err := plain.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: refresh})
		return res.GetSession(), err
	})
	withSession := append([]connect.ClientOption{
		connect.WithInterceptors(appIDInterceptor(appID), sessionInterceptor{c.sessions}),
	}, cfg.connectOpts...)
	c.Auth = authv1connect.NewAuthServiceClient(cfg.httpClient, baseURL, withSession...)
	c.Admin = adminv1connect.NewAdminServiceClient(cfg.httpClient, baseURL, withSession...)
	return c
}

// AppID returns the application id the Client sends.
func (c *Client) AppID() string { return c.appID }

// Session returns the session the Client holds, or nil when signed out,
// as it is: possibly expired. It loads it from the SessionStore on first
// use.
func (c *Client) Session(ctx context.Context) (*authv1.Session, error) {
	return c.sessions.current(ctx)
}

// SetSession replaces the session the Client holds, and saves it in the
// SessionStore; nil signs out locally (without telling the server: call
// Auth.Logout for that).
func (c *Client) SetSession(ctx context.Context, s *authv1.Session) error {
	return c.sessions.set(ctx, s)
}

// AccessToken returns a valid access token for the held session,
// refreshing it first if it expires within the refresh margin (see
// WithRefreshBefore), or "" when signed out. Give it to services that
// trust CoSync Auth tokens, such as MongoDB Atlas App Services.
//
// When the refresh is refused for good (the session was revoked or the
// refresh token reused or expired), the Client forgets the session and
// returns the error; ReasonOf tells why.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.sessions.accessToken(ctx)
}

func appIDInterceptor(appID string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set(AppIDHeader, appID)
			return next(ctx, req)
		}
	}
}

// noBearer lists the procedures that start a session or need none: they
// must work while the held session is expired or revoked, so they never
// trigger a refresh. SignUp is handled apart.
var noBearer = map[string]bool{
	authv1connect.AuthServiceGetApplicationProcedure: true,
	authv1connect.AuthServiceLoginProcedure:          true,
	authv1connect.AuthServiceCompleteLoginProcedure:  true,
	authv1connect.AuthServiceLoginAnonymousProcedure: true,
	authv1connect.AuthServiceSocialLoginProcedure:    true,
	authv1connect.AuthServiceRefreshSessionProcedure: true,
	authv1connect.AuthServiceForgotPasswordProcedure: true,
	authv1connect.AuthServiceResetPasswordProcedure:  true,
	authv1connect.AuthServiceCompleteSignUpProcedure: true,
	authv1connect.AuthServiceRegisterProcedure:       true,
}

// endsSession lists the procedures after whose success the server no
// longer honours the session.
var endsSession = map[string]bool{
	authv1connect.AuthServiceLogoutProcedure:        true,
	authv1connect.AuthServiceDeleteAccountProcedure: true,
}

// sessionInterceptor adds the bearer and keeps the sessions responses carry.
type sessionInterceptor struct{ h *sessionHolder }

func (i sessionInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		proc := req.Spec().Procedure
		if req.Header().Get("Authorization") == "" && i.wantsBearer(ctx, proc) {
			tok, err := i.h.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			if tok != "" {
				req.Header().Set("Authorization", "Bearer "+tok)
			}
		}
		res, err := next(ctx, req)
		if err != nil {
			return nil, err
		}
		if endsSession[proc] {
			err = i.h.set(ctx, nil)
		} else if m, ok := res.Any().(interface{ GetSession() *authv1.Session }); ok && m.GetSession() != nil {
			err = i.h.set(ctx, m.GetSession())
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// wantsBearer reports whether proc should carry the held session's token.
// SignUp carries it only for an anonymous user, whom it turns into an
// email account with the same id.
func (i sessionInterceptor) wantsBearer(ctx context.Context, proc string) bool {
	if proc == authv1connect.AuthServiceSignUpProcedure {
		s, err := i.h.current(ctx)
		return err == nil && s.GetUser().GetAnonymous()
	}
	return !noBearer[proc]
}

func (sessionInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (sessionInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

var _ connect.Interceptor = sessionInterceptor{}
