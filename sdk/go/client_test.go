package cosync_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	cosync "github.com/cosync/cosync-auth/sdk/go"
	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"
)

// TestSignUpLoginLogout walks the code signup flow, a login and a logout,
// checking the session the Client keeps at each step.
func TestSignUpLoginLogout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	app := newApp(t, authv1.SignupFlow_SIGNUP_FLOW_CODE)
	const email = "bo@example.com"
	c := cosync.NewClient(baseURL, app)

	md := map[string]any{"user_data": map[string]any{"name": "Bo"}}
	res, err := c.Auth.SignUp(ctx, &authv1.SignUpRequest{Handle: email, Password: annPassword, Metadata: mustStruct(t, md)})
	if err != nil || res.GetFlow() != authv1.SignupFlow_SIGNUP_FLOW_CODE {
		t.Fatalf("SignUp = %v, %v; want flow CODE", res, err)
	}
	if s, _ := c.Session(ctx); s != nil {
		t.Fatalf("Session after SignUp (code flow) = %v, want nil", s)
	}
	if _, err := c.Auth.CompleteSignUp(ctx, &authv1.CompleteSignUpRequest{Handle: email, Code: mailedCode(t, app, email)}); err != nil {
		t.Fatalf("CompleteSignUp: %v", err)
	}
	s, err := c.Session(ctx)
	if err != nil || s.GetUser().GetEmail() != email || s.GetAccessToken() == "" {
		t.Fatalf("Session after CompleteSignUp = %v, %v; want %s's", s, err, email)
	}
	user, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{})
	if err != nil || user.GetUser().GetId() != s.GetUser().GetId() {
		t.Fatalf("GetUser = %v, %v; want user %s", user, err, s.GetUser().GetId())
	}

	// Another device logs in; its own Client holds its own session.
	other := cosync.NewClient(baseURL, app)
	login, err := other.Auth.Login(ctx, &authv1.LoginRequest{Handle: email, Password: annPassword})
	if err != nil || login.GetSession() == nil {
		t.Fatalf("Login = %v, %v; want a session", login, err)
	}
	if _, err := other.Auth.Logout(ctx, &authv1.LogoutRequest{}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if s, _ := other.Session(ctx); s != nil {
		t.Errorf("Session after Logout = %v, want nil", s)
	}
	_, err = other.Auth.GetUser(ctx, &authv1.GetUserRequest{})
	if got := cosync.ReasonOf(err); got != authv1.ErrorReason_ERROR_REASON_TOKEN_MISSING {
		t.Errorf("GetUser after Logout: ReasonOf(%v) = %v, want TOKEN_MISSING", err, got)
	}
	// The first device is still signed in.
	if _, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{}); err != nil {
		t.Errorf("GetUser on the first device after the other logged out: %v", err)
	}
}

// TestReasonOf reads reasons and field violations from real errors, over
// both protocols the Client can speak.
func TestReasonOf(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, proto := range []struct {
		name string
		opts []connect.ClientOption
	}{{"proto", nil}, {"json", []connect.ClientOption{connect.WithProtoJSON()}}} {
		auth := cosync.NewClient(baseURL, appID, cosync.WithConnectOptions(proto.opts...)).Auth
		tests := []struct {
			name   string
			call   func() error
			reason authv1.ErrorReason
			field  string
		}{
			{"wrong password", func() error {
				_, err := auth.Login(ctx, &authv1.LoginRequest{Handle: "nobody@example.com", Password: "nope"})
				return err
			}, authv1.ErrorReason_ERROR_REASON_INVALID_CREDENTIALS, ""},
			{"bad refresh token", func() error {
				_, err := auth.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: "made-up"})
				return err
			}, authv1.ErrorReason_ERROR_REASON_REFRESH_TOKEN_INVALID, ""},
			{"weak password", func() error {
				_, err := auth.SignUp(ctx, &authv1.SignUpRequest{Handle: "weak@example.com", Password: "short",
					Metadata: mustStruct(t, map[string]any{"user_data": map[string]any{"name": "W"}})})
				return err
			}, authv1.ErrorReason_ERROR_REASON_PASSWORD_POLICY, "password"},
		}
		for _, tt := range tests {
			t.Run(proto.name+"/"+tt.name, func(t *testing.T) {
				err := tt.call()
				if got := cosync.ReasonOf(err); got != tt.reason {
					t.Errorf("ReasonOf(%v) = %v, want %v", err, got, tt.reason)
				}
				if tt.field != "" {
					fv := cosync.FieldViolations(err)
					if len(fv) == 0 || fv[0].Field != tt.field {
						t.Errorf("FieldViolations(%v) = %v, want field %q", err, fv, tt.field)
					}
				}
			})
		}
	}
	if got := cosync.ReasonOf(nil); got != authv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Errorf("ReasonOf(nil) = %v, want UNSPECIFIED", got)
	}
	if got := cosync.ReasonOf(context.Canceled); got != authv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Errorf("ReasonOf(context.Canceled) = %v, want UNSPECIFIED", got)
	}
}

// TestRefreshSingleFlight makes many calls wait on a session about to
// expire: exactly one RefreshSession reaches the server, every call
// succeeds with the new token, and the rotated session is saved.
func TestRefreshSingleFlight(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	app := newApp(t, authv1.SignupFlow_SIGNUP_FLOW_NONE)
	refreshes := &countingTransport{path: authv1connect.AuthServiceRefreshSessionProcedure, gate: make(chan struct{})}
	store := &recordingStore{}
	clock := newTestClock(time.Now())
	c := cosync.NewClient(baseURL, app,
		cosync.WithHTTPClient(&http.Client{Transport: refreshes}),
		cosync.WithSessionStore(store),
		cosync.WithClock(clock.Now),
		cosync.WithRefreshBefore(time.Minute))
	old := newUser(t, c, "flight@example.com")

	// Pretend the access token expires in 30 seconds: inside the one-minute
	// margin, so the next calls must refresh first.
	aging := cloneSession(old)
	aging.ExpiresAt = timestamppb.New(clock.Now().Add(30 * time.Second))
	if err := c.SetSession(ctx, aging); err != nil {
		t.Fatal(err)
	}

	const callers = 50
	var started, done sync.WaitGroup
	errs := make(chan error, callers)
	started.Add(callers)
	done.Add(callers)
	for range callers {
		go func() {
			defer done.Done()
			started.Done()
			_, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{})
			errs <- err
		}()
	}
	started.Wait()
	close(refreshes.gate) // let the one refresh through
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GetUser while refreshing: %v", err)
		}
	}
	if n := refreshes.n.Load(); n != 1 {
		t.Errorf("%d callers caused %d RefreshSession calls, want 1", callers, n)
	}
	now, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The access token may come out the same when minted within the same
	// second; the refresh token always rotates.
	if now.GetRefreshToken() == old.GetRefreshToken() {
		t.Errorf("Session after refresh kept the old refresh token")
	}
	if saved := store.last(); saved.GetRefreshToken() != now.GetRefreshToken() {
		t.Errorf("store holds refresh token %q, want the rotated %q", saved.GetRefreshToken(), now.GetRefreshToken())
	}
	// The fresh session needs no refresh.
	if _, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{}); err != nil {
		t.Fatal(err)
	}
	if n := refreshes.n.Load(); n != 1 {
		t.Errorf("RefreshSession calls after a call with a fresh token = %d, want 1", n)
	}
}

// TestRefreshAfterRevocation: when the session is revoked, the
// refresh fails for good, the Client forgets the session, and the error
// tells why.
func TestRefreshAfterRevocation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	app := newApp(t, authv1.SignupFlow_SIGNUP_FLOW_NONE)
	clock := newTestClock(time.Now())
	store := &recordingStore{}
	c := cosync.NewClient(baseURL, app, cosync.WithClock(clock.Now), cosync.WithSessionStore(store))
	s := newUser(t, c, "revoked@example.com")
	// The user signs out everywhere from another device.
	other := cosync.NewClient(baseURL, app)
	if _, err := other.Auth.Login(ctx, &authv1.LoginRequest{Handle: "revoked@example.com", Password: annPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Auth.Logout(ctx, &authv1.LogoutRequest{All: true}); err != nil {
		t.Fatalf("Logout(all): %v", err)
	}
	clock.Set(s.GetExpiresAt().AsTime()) // the access token has expired

	_, err := c.Auth.GetUser(ctx, &authv1.GetUserRequest{})
	if got := cosync.ReasonOf(err); got != authv1.ErrorReason_ERROR_REASON_SESSION_REVOKED {
		t.Errorf("GetUser after revocation: ReasonOf(%v) = %v, want SESSION_REVOKED", err, got)
	}
	if got, _ := c.Session(ctx); got != nil {
		t.Errorf("Session after a refused refresh = %v, want nil", got)
	}
	if store.last() != nil {
		t.Errorf("store still holds the ended session")
	}
	// Signing in again works although the old session failed.
	if _, err := c.Auth.Login(ctx, &authv1.LoginRequest{Handle: "revoked@example.com", Password: annPassword}); err != nil {
		t.Errorf("Login after the session ended: %v", err)
	}
}

// TestSessionStoreLoad: a Client started with a saved session uses it.
func TestSessionStoreLoad(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	app := newApp(t, authv1.SignupFlow_SIGNUP_FLOW_NONE)
	first := cosync.NewClient(baseURL, app)
	s := newUser(t, first, "stored@example.com")

	store := &cosync.MemoryStore{}
	if err := store.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	second := cosync.NewClient(baseURL, app, cosync.WithSessionStore(store))
	res, err := second.Auth.GetUser(ctx, &authv1.GetUserRequest{})
	if err != nil || res.GetUser().GetId() != s.GetUser().GetId() {
		t.Errorf("GetUser with a stored session = %v, %v; want user %s", res, err, s.GetUser().GetId())
	}
}

// recordingStore is a SessionStore that remembers what it saved.
type recordingStore struct {
	cosync.MemoryStore
	mu    sync.Mutex
	saves int
}

func (r *recordingStore) Save(ctx context.Context, s *authv1.Session) error {
	r.mu.Lock()
	r.saves++
	r.mu.Unlock()
	return r.MemoryStore.Save(ctx, s)
}

func (r *recordingStore) last() *authv1.Session {
	s, _ := r.MemoryStore.Load(context.Background())
	return s
}

// TestAnonymousUpgrade: SignUp carries an anonymous session's bearer, so
// the anonymous user becomes the email account and keeps its id.
func TestAnonymousUpgrade(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	res, err := dev.Admin.CreateApp(ctx, &adminv1.CreateAppRequest{Name: t.Name(), Settings: &adminv1.AppSettings{
		SignupEnabled: true, SignupFlow: authv1.SignupFlow_SIGNUP_FLOW_NONE, AnonymousLoginEnabled: true,
	}})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	c := cosync.NewClient(baseURL, res.GetApp().GetId())
	anon, err := c.Auth.LoginAnonymous(ctx, &authv1.LoginAnonymousRequest{})
	if err != nil || !anon.GetSession().GetUser().GetAnonymous() {
		t.Fatalf("LoginAnonymous = %v, %v; want an anonymous session", anon, err)
	}
	up, err := c.Auth.SignUp(ctx, &authv1.SignUpRequest{Handle: "cy@example.com", Password: annPassword})
	if err != nil {
		t.Fatalf("SignUp as the anonymous user: %v", err)
	}
	if got, want := up.GetSession().GetUser().GetId(), anon.GetSession().GetUser().GetId(); got != want {
		t.Errorf("SignUp as the anonymous user made user %q, want the same id %q", got, want)
	}
	if s, _ := c.Session(ctx); s.GetUser().GetEmail() != "cy@example.com" || s.GetUser().GetAnonymous() {
		t.Errorf("Session after the upgrade = %v, want cy@example.com's", s.GetUser())
	}
}
