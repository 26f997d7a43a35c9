package cosync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	cosync "github.com/cosync/cosync-auth/sdk/go"
	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// The tests and examples run against a real CoSync Auth server: the
// binary built from this repository (or $COSYNC_SERVER_BIN), started by
// TestMain on a free port with SQLite in a temporary data directory.
var (
	// baseURL is where the server listens.
	baseURL string
	// appID names an application whose tokens carry the audience
	// "my-atlas-app-id" and the user's name at user_data.name, and where
	// ann@example.com signed up with the password "correct horse".
	appID string
	// dev is signed in to the console application as an operator.
	dev *cosync.Client
	// serverLog collects the server's output, shown when setup fails.
	serverLog lockedBuffer
)

const (
	annEmail    = "ann@example.com"
	annPassword = "correct horse"
	audience    = "my-atlas-app-id"
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// errNoServer means the server's sources are not beside this module (the
// module was fetched on its own) and no binary was given.
var errNoServer = errors.New("no CoSync Auth server: run the tests inside the repository, or set COSYNC_SERVER_BIN")

func runTests(m *testing.M) int {
	stop, err := startServer()
	if errors.Is(err, errNoServer) {
		fmt.Println("skipping the sdk/go tests:", err)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the server: %v\nserver log:\n%s", err, serverLog.String())
		stop()
		return 1
	}
	code := m.Run()
	stop()
	return code
}

// startServer builds and starts the server, bootstraps an operator and
// the example application; stop ends what it started, even after an error.
func startServer() (stop func(), err error) {
	var cleanups []func()
	stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	tmp, err := os.MkdirTemp("", "cosync-sdk-go-")
	if err != nil {
		return stop, err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(tmp) })

	bin := os.Getenv("COSYNC_SERVER_BIN")
	if bin == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			return stop, err
		}
		if _, err := os.Stat(filepath.Join(root, "server", "main.go")); err != nil {
			return stop, errNoServer
		}
		bin = filepath.Join(tmp, "cosync-auth")
		build := exec.Command("go", "build", "-o", bin, "./server")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return stop, fmt.Errorf("go build ./server: %v\n%s", err, out)
		}
	}

	addr, err := freeAddr()
	if err != nil {
		return stop, err
	}
	baseURL = "http://" + addr
	env := []string{
		"COSYNC_ADDR=" + addr, "COSYNC_PUBLIC_URL=" + baseURL,
		"COSYNC_DATA_DIR=" + filepath.Join(tmp, "var"), "COSYNC_LOG_LEVEL=warn",
		"COSYNC_DEVELOPER_PASSWORD=a long dev password",
	}
	for _, kv := range os.Environ() { // everything but settings meant for another server
		if !strings.HasPrefix(kv, "COSYNC_") && !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	create := exec.Command(bin, "developer", "create", "--email", "dev@example.com")
	create.Env, create.Stdout, create.Stderr = env, &serverLog, &serverLog
	if err := create.Run(); err != nil {
		return stop, fmt.Errorf("developer create: %w", err)
	}
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Stdout, srv.Stderr = env, &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		return stop, err
	}
	cleanups = append(cleanups, func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	if err := waitReady(baseURL + "/readyz"); err != nil {
		return stop, err
	}

	ctx := context.Background()
	dev = cosync.NewClient(baseURL, "console")
	if _, err := dev.Auth.Login(ctx, &authv1.LoginRequest{Handle: "dev@example.com", Password: "a long dev password"}); err != nil {
		return stop, fmt.Errorf("developer login: %w", err)
	}
	if appID, err = createApp(ctx, "Field Notes", authv1.SignupFlow_SIGNUP_FLOW_NONE); err != nil {
		return stop, err
	}
	if _, err := signUp(ctx, cosync.NewClient(baseURL, appID), annEmail, "Ann"); err != nil {
		return stop, err
	}
	return stop, nil
}

// createApp creates an application with the example's settings.
func createApp(ctx context.Context, name string, flow authv1.SignupFlow) (string, error) {
	res, err := dev.Admin.CreateApp(ctx, &adminv1.CreateAppRequest{Name: name, Settings: &adminv1.AppSettings{
		SignupEnabled: true,
		SignupFlow:    flow,
		Audience:      []string{audience},
		EmailClaim:    true,
		SignupMetadataFields: []*authv1.MetadataField{{
			Path: "user_data.name", Name: "Name", Required: true, UserEditable: true,
			Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING,
		}},
	}})
	if err != nil {
		return "", fmt.Errorf("CreateApp(%q): %w", name, err)
	}
	return res.GetApp().GetId(), nil
}

// signUp signs email up through c, in an application whose signup flow is
// NONE, and returns the session.
func signUp(ctx context.Context, c *cosync.Client, email, name string) (*authv1.Session, error) {
	md, err := structpb.NewStruct(map[string]any{"user_data": map[string]any{"name": name}})
	if err != nil {
		return nil, err
	}
	res, err := c.Auth.SignUp(ctx, &authv1.SignUpRequest{Handle: email, Password: annPassword, Metadata: md})
	if err != nil {
		return nil, fmt.Errorf("SignUp(%q): %w", email, err)
	}
	if res.GetSession() == nil {
		return nil, fmt.Errorf("SignUp(%q) = flow %v without a session", email, res.GetFlow())
	}
	return res.GetSession(), nil
}

// newApp creates an application for one test.
func newApp(tb testing.TB, flow authv1.SignupFlow) string {
	tb.Helper()
	id, err := createApp(tb.Context(), tb.Name(), flow)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// newUser signs a fresh user up in app (flow NONE) through c.
func newUser(tb testing.TB, c *cosync.Client, email string) *authv1.Session {
	tb.Helper()
	s, err := signUp(tb.Context(), c, email, "Test")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// mailedCode returns the six-digit code of the newest message the dev
// outbox holds for to in app.
func mailedCode(tb testing.TB, app, to string) string {
	tb.Helper()
	res, err := dev.Admin.ListOutbox(tb.Context(), &adminv1.ListOutboxRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListOutbox: %v", err)
	}
	for _, m := range res.GetMessages() {
		if m.GetTo() == to {
			if code := sixDigits.FindString(m.GetSubject() + " " + m.GetText()); code != "" {
				return code
			}
		}
	}
	tb.Fatalf("no code mailed to %s in %v", to, res.GetMessages())
	return ""
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls url until it answers 200, for up to a minute.
func waitReady(url string) error {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s never answered 200", url)
}

// countingTransport counts the requests to one path and, while gate is
// open (not nil and not closed), holds them until it closes.
type countingTransport struct {
	path string
	gate chan struct{}
	n    atomic.Int32
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == t.path {
		t.n.Add(1)
		if t.gate != nil {
			<-t.gate
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{now: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func mustStruct(tb testing.TB, m map[string]any) *structpb.Struct {
	tb.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func cloneSession(s *authv1.Session) *authv1.Session {
	return proto.CloneOf(s)
}
