// Package cosyncjwt serves the CosyncJWT REST API (`/api/appuser/…`) that
// apps built on the CosyncJWT Swift, Kotlin and React Native SDKs call, so
// they keep working unchanged against CoSync Auth.
//
// It is a transport, like authapi: it reads CosyncJWT's wire (lenient form
// or JSON bodies, `app-token` / `access-token` headers, MD5-hex passwords),
// calls one identity flow, and writes the reply in the shapes those SDKs
// parse. Every rule — rate limits, lockout, enumeration safety, audit,
// password storage — is the flow's. docs/cosyncjwt.md lists the endpoints
// and what differs.
package cosyncjwt

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/rpc"
)

// Flows are the identity flows the facade translates onto.
// *identity.Service satisfies it.
type Flows interface {
	Application(ctx context.Context, c identity.Caller) (identity.App, error)
	Login(ctx context.Context, c identity.Caller, handle string, pw identity.Secret) (identity.LoginResult, error)
	CompleteLogin(ctx context.Context, c identity.Caller, loginToken, code identity.Secret) (identity.SessionTokens, error)
	LoginAnonymous(ctx context.Context, c identity.Caller) (identity.SessionTokens, error)
	SocialLogin(ctx context.Context, c identity.Caller, in identity.SocialLoginInput) (identity.SocialLoginResult, error)
	Identities(ctx context.Context, p identity.Principal) ([]identity.LinkedIdentity, error)
	SignUp(ctx context.Context, c identity.Caller, in identity.SignUpInput) (identity.SignUpResult, error)
	CompleteSignUp(ctx context.Context, c identity.Caller, handle string, code identity.Secret) (identity.SessionTokens, error)
	Invite(ctx context.Context, p identity.Principal, in identity.InviteInput) error
	Register(ctx context.Context, c identity.Caller, in identity.RegisterInput) (identity.SessionTokens, error)
	GetUser(ctx context.Context, p identity.Principal) (identity.User, error)
	ForgotPassword(ctx context.Context, c identity.Caller, handle string) error
	ResetPassword(ctx context.Context, c identity.Caller, handle string, code, newPassword identity.Secret) error
	ChangePassword(ctx context.Context, p identity.Principal, current, next identity.Secret) (identity.SessionTokens, error)
	SetPhone(ctx context.Context, p identity.Principal, phone string) error
	VerifyPhone(ctx context.Context, p identity.Principal, code identity.Secret) (identity.User, error)
	SetSmsTwoFactor(ctx context.Context, p identity.Principal, enabled bool) (identity.User, error)
	BeginTotpEnrollment(ctx context.Context, p identity.Principal) (identity.TotpEnrollment, error)
	SetUserMetadata(ctx context.Context, p identity.Principal, md map[string]any) (identity.User, error)
	SetUserName(ctx context.Context, p identity.Principal, name string) (identity.User, error)
	CheckUserName(ctx context.Context, p identity.Principal, name string) (bool, error)
	SetLocale(ctx context.Context, p identity.Principal, locale string) (identity.User, error)
	DeleteAccount(ctx context.Context, p identity.Principal, in identity.DeleteAccountInput) error
	Now() time.Time
}

// Store finds the app an app token names and the session an access-token
// names. *store.Store satisfies it.
type Store interface {
	FindAppByCosyncJWTToken(ctx context.Context, hash string) (identity.App, error)
	GetSession(ctx context.Context, appID, id string) (identity.Session, error)
}

// MAC signs access-tokens; otp.Hasher under the server pepper satisfies it.
type MAC interface {
	Hash(purpose, subject, code string) string
	Equal(hash, purpose, subject, code string) bool
}

// Handler serves /api/appuser/ (and the `//api/appuser/` paths older Swift
// SDKs send). It is safe for concurrent use.
type Handler struct {
	flows      Flows
	store      Store
	mac        MAC
	log        *slog.Logger
	trustProxy bool
}

// New returns the facade. log nil discards; trustProxy takes the client
// IP from X-Forwarded-For as the Connect edge does.
func New(flows Flows, st Store, mac MAC, log *slog.Logger, trustProxy bool) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{flows: flows, store: st, mac: mac, log: log, trustProxy: trustProxy}
}

// Prefix is the path the facade serves; Match tells a server whether a
// request is for it, doubled slash included (Go's ServeMux would redirect
// `//api/…`, which a POST client does not follow).
const Prefix = "/api/appuser/"

// Match reports whether r is a facade request.
func Match(r *http.Request) bool {
	return strings.HasPrefix(strings.TrimLeft(r.URL.Path, "/"), Prefix[1:])
}

// call is one request as the facade sees it.
type call struct {
	r      *http.Request
	f      fields
	ip     string
	app    identity.App
	user   *identity.Principal // from access-token, when one was sent and checked
	method string
}

func (c *call) caller() identity.Caller {
	return identity.Caller{AppID: c.app.ID, IP: c.ip, Prehashed: true}
}

type endpoint struct {
	method string
	// auth: app (app-token, or the app of an access-token: the React SDK
	// sends only that after login), user (access-token required).
	user bool
	fn   func(h *Handler, ctx context.Context, c *call) (any, error)
}

// ServeHTTP answers one CosyncJWT call, routed by the path's last segment.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := strings.TrimPrefix(strings.TrimLeft(r.URL.Path, "/"), Prefix[1:])
	ep, ok := endpoints[name]
	if name == "completeSignup" && r.Method == http.MethodGet {
		h.signupLink(w, r)
		return
	}
	if !ok || r.Method != ep.method {
		writeJSON(w, http.StatusNotFound, fail(codeInternal, "no such CosyncJWT call: "+r.Method+" "+name))
		return
	}
	c := &call{r: r, ip: h.clientIP(r), method: name}
	if ep.method == http.MethodPost {
		f, err := readFields(r)
		if err != nil {
			writeError(ctx, h.log, w, fail(codeInvalidData, "the body is neither a form nor a JSON object"))
			return
		}
		c.f = f
	} else {
		c.f = parseForm(r.URL.RawQuery)
	}
	if err := h.authenticate(ctx, c, ep.user); err != nil {
		writeError(ctx, h.log, w, err)
		return
	}
	out, err := ep.fn(h, ctx, c)
	if err != nil {
		writeError(ctx, h.log, w, err)
		return
	}
	if out == nil {
		writeTrue(w)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// authenticate settles the app and, where sent, the user. `app-token`
// wins over `access-token` when both come, as on CosyncJWT, except for
// calls that need a user.
func (h *Handler) authenticate(ctx context.Context, c *call, needUser bool) error {
	appToken := strings.TrimSpace(c.r.Header.Get("app-token"))
	access := strings.TrimSpace(c.r.Header.Get("access-token"))
	if needUser || (appToken == "" && access != "") {
		if access == "" {
			return fail(codeInvalidAccessToken, "send the access-token header")
		}
		p, app, err := h.verifyAccess(ctx, access, c.ip)
		if err != nil {
			return err
		}
		c.user, c.app = &p, app
		return h.checkApp(c.app)
	}
	if appToken == "" {
		return fail(codeInvalidAppToken, "send the app-token header")
	}
	a, err := h.store.FindAppByCosyncJWTToken(ctx, identity.CosyncJWTTokenHash(appToken))
	if apperr.Is(err, apperr.NotFound) {
		return fail(codeInvalidAppToken, "the app token is not valid")
	}
	if err != nil {
		return err
	}
	c.app = a
	return h.checkApp(a)
}

// checkApp refuses apps not set up for CosyncJWT clients: their passwords
// are not kept over the MD5 these clients send.
func (h *Handler) checkApp(a identity.App) error {
	if a.Settings.Status == identity.AppSuspended {
		return fail(codeAppSuspended, "this application is suspended")
	}
	if !a.Settings.CosyncJWT.MD5PrehashedPasswords {
		return fail(codeInvalidAppToken, "this application is not set up for CosyncJWT clients (md5_prehashed_passwords is off)")
	}
	return nil
}

// appOf loads an app by id through the Application flow.
func (h *Handler) appOf(ctx context.Context, appID, ip string) (identity.App, error) {
	a, err := h.flows.Application(ctx, identity.Caller{AppID: appID, IP: ip})
	if apperr.Is(err, apperr.NotFound) {
		return identity.App{}, fail(codeInvalidAccessToken, "the access token is not valid")
	}
	return a, err
}

// clientIP is the caller's IP by the same rule as the Connect edge.
func (h *Handler) clientIP(r *http.Request) string {
	return rpc.ClientIP(connect.Peer{Addr: r.RemoteAddr}, r.Header, h.trustProxy)
}

// need returns the named fields, or 403 missingParameter naming the first
// absent one.
func need(f fields, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(f.get(n)) == "" {
			return fail(codeMissingParameter, "missing parameter "+n)
		}
	}
	return nil
}
