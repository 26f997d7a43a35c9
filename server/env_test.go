package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1/adminv1connect"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running server over real HTTP (HTTP/1.1 and h2c) with clients.
type env struct {
	url   string
	p     *parts
	clock *clock
	auth  authv1connect.AuthServiceClient
	admin adminv1connect.AdminServiceClient
	http  *http.Client
}

type callKey int

const (
	appKey callKey = iota
	bearerKey
)

// as returns ctx whose calls name app and carry bearer (either may be "").
func as(ctx context.Context, app, bearer string) context.Context {
	return context.WithValue(context.WithValue(ctx, appKey, app), bearerKey, bearer)
}

func headers() connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			if app, _ := ctx.Value(appKey).(string); app != "" {
				req.Header().Set("Cosync-App-Id", app)
			}
			if tok, _ := ctx.Value(bearerKey).(string); tok != "" {
				req.Header().Set("Authorization", "Bearer "+tok)
			}
			return next(ctx, req)
		}
	}
}

type envOption func(*config.Config)

func withSMTP(url string) envOption { return func(c *config.Config) { c.SMTPURL = url } }

// newEnv starts a server over st. Argon2 runs with small parameters so the
// suite stays fast; everything else is as in production.
func newEnv(tb testing.TB, st *store.Store, opts ...envOption) *env {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg := config.Config{
		Addr: srv.Listener.Addr().String(), PublicURL: "http://" + srv.Listener.Addr().String(),
		DataDir: tb.TempDir(), Signer: "local", MasterKey: base64.StdEncoding.EncodeToString(key),
		MailFrom: "Test <test@example.com>", CORSOrigins: []string{"*"}, LogLevel: "debug", LogFormat: "json",
		ShutdownWait: time.Second, Argon2MemoryKiB: 1024, Argon2Iterations: 1, Argon2Parallelism: 1, HashConcurrency: 4,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxExpensiveCalls: 64,
	}
	for _, o := range opts {
		o(&cfg)
	}
	clk := &clock{t: time.Now().UTC()}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = newLogger(cfg, testWriter{tb})
	}
	p, err := assemble(context.Background(), cfg, log, st, clk.Now)
	if err != nil {
		tb.Fatalf("assemble: %v", err)
	}
	srv.Config.Handler = handler(p)
	configureServer(srv.Config, cfg, log)
	srv.Start()
	tb.Cleanup(srv.Close)
	// The send queue's worker, as serve runs it.
	qctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.queue.Run(qctx) }()
	listened := make(chan struct{})
	go func() { defer close(listened); p.store.Listen(qctx) }()
	tb.Cleanup(func() { stop(); <-done; <-listened })
	hc := &http.Client{Timeout: 30 * time.Second}
	o := connect.WithInterceptors(headers())
	return &env{
		url: srv.URL, p: p, clock: clk, http: hc,
		auth:  authv1connect.NewAuthServiceClient(hc, srv.URL, o),
		admin: adminv1connect.NewAdminServiceClient(hc, srv.URL, o),
	}
}

// flush delivers what the requests so far queued, as the running worker
// would, so a test reads the fake Twilio or the SMTP server right after.
func (e *env) flush(tb testing.TB) {
	tb.Helper()
	if _, err := e.p.queue.Pass(context.Background()); err != nil {
		tb.Fatalf("queue pass: %v", err)
	}
}

// deliveries lists app's send queue in state through the Admin API.
func (e *env) deliveries(tb testing.TB, dev, app string, state adminv1.DeliveryState) []*adminv1.Delivery {
	tb.Helper()
	res, err := e.admin.ListDeliveries(as(context.Background(), "", dev), &adminv1.ListDeliveriesRequest{AppId: app, State: state})
	if err != nil {
		tb.Fatalf("ListDeliveries = %v", err)
	}
	return res.GetDeliveries()
}

// findDelivery returns the newest delivery to to, or nil.
func findDelivery(ds []*adminv1.Delivery, to string) *adminv1.Delivery {
	for _, d := range ds { // newest first
		if d.GetTo() == to {
			return d
		}
	}
	return nil
}

// wantFailedDelivery checks, as the developer sees it, that the newest
// delivery to to waits for a retry after a failed attempt, its error kept.
func (e *env) wantFailedDelivery(tb testing.TB, dev, app, to string) {
	tb.Helper()
	d := findDelivery(e.deliveries(tb, dev, app, adminv1.DeliveryState_DELIVERY_STATE_PENDING), to)
	if d == nil || d.GetAttempts() < 1 || d.GetLastError() == "" || d.GetNextAttemptAt() == nil {
		tb.Errorf("pending delivery to %s = %v; want a failed attempt with its error and a next attempt", to, d)
	}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.tb.Log(string(b)); return len(b), nil }

// developer makes a developer (a member of no app yet) and returns their
// console access token.
func (e *env) developer(tb testing.TB, email string) string {
	return e.newDeveloper(tb, email, false)
}

// operator makes an operator (an owner of the console app) and returns
// their console access token.
func (e *env) operator(tb testing.TB, email string) string {
	return e.newDeveloper(tb, email, true)
}

func (e *env) newDeveloper(tb testing.TB, email string, operator bool) string {
	tb.Helper()
	ctx := context.Background()
	if _, err := e.p.svc.CreateDeveloper(ctx, email, "dev-password-1", operator); err != nil {
		tb.Fatalf("CreateDeveloper(%q) = %v", email, err)
	}
	return e.login(tb, identity.ConsoleAppID, email, "dev-password-1")
}

// login signs in to app and returns the access token.
func (e *env) login(tb testing.TB, app, handle, password string) string {
	tb.Helper()
	res, err := e.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: handle, Password: password})
	if err != nil {
		tb.Fatalf("Login(%q) = %v", handle, err)
	}
	return res.GetSession().GetAccessToken()
}

// appWithNameField creates an app whose signup requires user_data.name.
func (e *env) appWithNameField(tb testing.TB, dev string, audience ...string) string {
	tb.Helper()
	res, err := e.admin.CreateApp(as(context.Background(), "", dev), &adminv1.CreateAppRequest{
		Name: "Field Notes",
		Settings: &adminv1.AppSettings{
			Audience: audience,
			SignupMetadataFields: []*authv1.MetadataField{
				{Path: "user_data.name", Name: "Name", Required: true, UserEditable: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
				{Path: "user_data.age", Name: "Age", Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_NUMBER},
			},
		},
	})
	if err != nil {
		tb.Fatalf("CreateApp = %v", err)
	}
	return res.GetApp().GetId()
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// outboxCode returns the code in the newest outbox mail to `to`.
func (e *env) outboxCode(tb testing.TB, dev, app, to string) string {
	tb.Helper()
	res, err := e.admin.ListOutbox(as(context.Background(), "", dev), &adminv1.ListOutboxRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListOutbox = %v", err)
	}
	for _, m := range res.GetMessages() {
		if m.GetTo() == identity.NormalizeEmail(to) {
			if c := codeRE.FindStringSubmatch(m.GetText()); c != nil {
				return c[1]
			}
		}
	}
	tb.Fatalf("no code mailed to %s in %d outbox messages", to, len(res.GetMessages()))
	return ""
}

// signUp signs a user up through the code flow and returns their session.
func (e *env) signUp(tb testing.TB, dev, app, email string) *authv1.Session {
	tb.Helper()
	ctx := as(context.Background(), app, "")
	md := mustStruct(tb, map[string]any{"user_data": map[string]any{"name": "Ann"}})
	if _, err := e.auth.SignUp(ctx, &authv1.SignUpRequest{Handle: email, Password: "long-enough-pw", Metadata: md}); err != nil {
		tb.Fatalf("SignUp(%q) = %v", email, err)
	}
	res, err := e.auth.CompleteSignUp(ctx, &authv1.CompleteSignUpRequest{Handle: email, Code: e.outboxCode(tb, dev, app, email)})
	if err != nil {
		tb.Fatalf("CompleteSignUp(%q) = %v", email, err)
	}
	return res.GetSession()
}

// reason returns a Connect error's code and ErrorInfo reason.
func reason(err error) (connect.Code, apperr.Reason) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0, ""
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if info, ok := v.(*errdetails.ErrorInfo); ok {
				return ce.Code(), apperr.Reason(info.GetReason())
			}
		}
	}
	return ce.Code(), ""
}

// fields returns the field paths an error names, from BadRequest or
// protovalidate details.
func fields(err error) []string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	var out []string
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		switch m := v.(type) {
		case *errdetails.BadRequest:
			for _, f := range m.GetFieldViolations() {
				out = append(out, f.GetField())
			}
		case *validate.Violations:
			for _, vi := range m.GetViolations() {
				var names []string
				for _, el := range vi.GetField().GetElements() {
					names = append(names, el.GetFieldName())
				}
				out = append(out, strings.Join(names, "."))
			}
		}
	}
	return out
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, s *store.Store) { fn(t, newEnv(t, s)) })
}

func mustStruct(tb testing.TB, m map[string]any) *structpb.Struct {
	tb.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func sqliteStore(tb testing.TB) *store.Store { return storetest.SQLite(tb) }

// update changes an app's settings through UpdateApp with the given mask paths.
func (e *env) update(tb testing.TB, dev, app string, st *adminv1.AppSettings, paths ...string) {
	tb.Helper()
	_, err := e.admin.UpdateApp(as(context.Background(), "", dev), &adminv1.UpdateAppRequest{
		AppId: app, Settings: st, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	if err != nil {
		tb.Fatalf("UpdateApp(%v) = %v", paths, err)
	}
}

// outboxTo returns the newest outbox mail to `to`.
func (e *env) outboxTo(tb testing.TB, dev, app, to string) *adminv1.OutboxMessage {
	tb.Helper()
	res, err := e.admin.ListOutbox(as(context.Background(), "", dev), &adminv1.ListOutboxRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListOutbox = %v", err)
	}
	for _, m := range res.GetMessages() {
		if m.GetTo() == to {
			return m
		}
	}
	tb.Fatalf("no mail to %s in the outbox", to)
	return nil
}

// wantReason fails tb unless err has code and reason (and names field, if given).
func wantReason(tb testing.TB, what string, err error, code connect.Code, r apperr.Reason, field ...string) {
	tb.Helper()
	c, got := reason(err)
	if c != code || got != r {
		tb.Errorf("%s = %v (%v %q), want %v %q", what, err, c, got, code, r)
		return
	}
	for _, f := range field {
		if !slices.Contains(fields(err), f) {
			tb.Errorf("%s names fields %v, want %q", what, fields(err), f)
		}
	}
}

// withArgon2 sets the password hashing parameters (the suite default is
// small, for speed), so a test can change them between two servers.
func withArgon2(memoryKiB, iterations int) envOption {
	return func(c *config.Config) { c.Argon2MemoryKiB, c.Argon2Iterations = memoryKiB, iterations }
}

// withMasterKey sets the master key, so two servers can share one database.
func withMasterKey(base64Key string) envOption {
	return func(c *config.Config) { c.MasterKey = base64Key }
}
