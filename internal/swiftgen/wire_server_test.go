package swiftgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/pquerna/otp/totp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// exchange is one call to the real server as the Swift client makes it:
// POST path with JSON, the Cosync-App-Id and bearer headers, and the answer.
type exchange struct {
	Name     string     `json:"name"`
	Path     string     `json:"path"`
	AppID    string     `json:"appId"`
	Bearer   string     `json:"bearer,omitempty"`
	Request  any        `json:"request"`
	Status   int        `json:"status"`
	Response any        `json:"response"`
	Error    *wantError `json:"error,omitempty"`
}

// wantError is what the Swift ConnectError must read from an error body.
type wantError struct {
	Code            string            `json:"code"`
	Reason          string            `json:"reason"`
	FieldViolations []string          `json:"fieldViolations,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// TestServerFixtures builds the server, runs the main flows against it
// over HTTP exactly as the Swift client would (Connect unary JSON), holds
// every request and response against the Swift model, and compares them
// with Tests/Fixtures/exchanges.json, which the Swift tests replay through
// a URLProtocol stub. The flows run twice, on two servers: values that
// differ between the runs (ids, tokens, codes, keys) and every timestamp
// and date become stable placeholders of the same JSON kind.
func TestServerFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	model, _ := cosyncModel(t)
	bin := filepath.Join(t.TempDir(), "cosync-auth")
	build := exec.Command("go", "build", "-o", bin, "./server")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./server: %v\n%s", err, out)
	}
	first := recordFlows(t, bin)
	second := recordFlows(t, bin)
	if len(first) != len(second) {
		t.Fatalf("the runs made %d and %d calls", len(first), len(second))
	}
	n := newNormalizer(model)
	for i := range first {
		a, b := &first[i], &second[i]
		a.AppID = n.str(a.AppID, b.AppID, "appId")
		a.Bearer = n.str(a.Bearer, b.Bearer, "accessToken")
		path := strings.Split(strings.TrimPrefix(a.Path, "/"), "/")
		in, out := n.methodTypes(path[0], path[1])
		if in == nil {
			t.Fatalf("%s: no such method in the Swift model", a.Path)
		}
		a.Request = n.walk(a.Request, b.Request, &Type{Kind: KindMessage, Message: in}, a.Name+".request")
		if a.Status == 200 {
			a.Response = n.walk(a.Response, b.Response, &Type{Kind: KindMessage, Message: out}, a.Name+".response")
			for _, e := range checkJSON(out, a.Response, a.Name+".response") {
				t.Error(e)
			}
		} else {
			a.Response = n.walk(a.Response, b.Response, nil, a.Name+".response")
			a.Error = readError(t, a.Name, a.Response)
		}
		for _, e := range checkJSON(in, a.Request, a.Name+".request") {
			t.Error(e)
		}
	}
	for _, e := range n.errs {
		t.Error(e)
	}
	checkGolden(t, filepath.Join(fixtureDir, "exchanges.json"), string(indent(t, first)))
}

// readError reads a Connect error body as the Swift ConnectError does and
// fails when it uses anything the Swift runtime does not read.
func readError(t *testing.T, name string, body any) *wantError {
	t.Helper()
	obj, _ := body.(map[string]any)
	code, _ := obj["code"].(string)
	if !connectCodes[code] {
		t.Errorf("%s: error code %q is not a Connect code", name, code)
	}
	out := &wantError{Code: code}
	details, _ := obj["details"].([]any)
	for _, d := range details {
		dm, _ := d.(map[string]any)
		typ, _ := dm["type"].(string)
		val, _ := dm["value"].(string)
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(val, "="))
		if err != nil {
			t.Errorf("%s: detail %s value is not base64: %v", name, typ, err)
			continue
		}
		switch typ {
		case "google.rpc.ErrorInfo":
			var info errdetails.ErrorInfo
			if err := proto.Unmarshal(raw, &info); err != nil {
				t.Errorf("%s: ErrorInfo: %v", name, err)
			}
			out.Reason, out.Metadata = info.GetReason(), info.GetMetadata()
		case "google.rpc.BadRequest":
			var br errdetails.BadRequest
			if err := proto.Unmarshal(raw, &br); err != nil {
				t.Errorf("%s: BadRequest: %v", name, err)
			}
			for _, v := range br.GetFieldViolations() {
				out.FieldViolations = append(out.FieldViolations, v.GetField())
			}
		case "google.rpc.RetryInfo":
		case "buf.validate.Violations":
			var vs validate.Violations
			if err := proto.Unmarshal(raw, &vs); err != nil {
				t.Errorf("%s: Violations: %v", name, err)
			}
			for _, v := range vs.GetViolations() {
				var names []string
				for _, e := range v.GetField().GetElements() {
					names = append(names, e.GetFieldName())
				}
				out.FieldViolations = append(out.FieldViolations, strings.Join(names, "."))
			}
		default:
			t.Errorf("%s: detail type %q is not one the Swift ConnectError reads", name, typ)
		}
	}
	// The protovalidate interceptor answers bad input with Violations and
	// no ErrorInfo; every other error must carry a reason.
	if out.Reason == "" && len(out.FieldViolations) == 0 {
		t.Errorf("%s: error without an ErrorInfo reason: %v", name, body)
	}
	return out
}

var connectCodes = map[string]bool{"canceled": true, "unknown": true, "invalid_argument": true,
	"deadline_exceeded": true, "not_found": true, "already_exists": true, "permission_denied": true,
	"resource_exhausted": true, "failed_precondition": true, "aborted": true, "out_of_range": true,
	"unimplemented": true, "internal": true, "unavailable": true, "data_loss": true, "unauthenticated": true}

// recorder makes calls to one running server and keeps them.
type recorder struct {
	t     *testing.T
	base  string
	calls []exchange
}

// call posts req as the Swift client does and decodes a 200 answer into
// resp. It returns the HTTP status.
func (r *recorder) call(name, path, appID, bearer string, req, resp proto.Message) int {
	r.t.Helper()
	status, reqJSON, body := r.post(path, appID, bearer, req)
	r.calls = append(r.calls, exchange{Name: name, Path: path, AppID: appID, Bearer: bearer,
		Request: decodeJSON(r.t, reqJSON), Status: status, Response: decodeJSON(r.t, body)})
	if status == 200 && resp != nil {
		if err := protojson.Unmarshal(body, resp); err != nil {
			r.t.Fatalf("%s: %v in %s", name, err, body)
		}
	}
	return status
}

// must is call for calls that must succeed.
func (r *recorder) must(name, path, appID, bearer string, req, resp proto.Message) {
	r.t.Helper()
	if status := r.call(name, path, appID, bearer, req, resp); status != 200 {
		r.t.Fatalf("%s: status %d: %v", name, status, r.calls[len(r.calls)-1].Response)
	}
}

func (r *recorder) post(path, appID, bearer string, req proto.Message) (int, []byte, []byte) {
	r.t.Helper()
	reqJSON, err := protojson.Marshal(req)
	if err != nil {
		r.t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, r.base+path, bytes.NewReader(reqJSON))
	if err != nil {
		r.t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Connect-Protocol-Version", "1")
	if appID != "" {
		hr.Header.Set("Cosync-App-Id", appID)
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultTransport.RoundTrip(hr)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	// The port differs per run; the fixtures say localhost:8080.
	body = bytes.ReplaceAll(body, []byte(r.base), []byte("http://localhost:8080"))
	return res.StatusCode, reqJSON, body
}

const (
	authPath  = "/cosync.auth.v1.AuthService/"
	adminPath = "/cosync.admin.v1.AdminService/"
	devEmail  = "dev@example.com"
	devPass   = "a long dev password"
	annEmail  = "ann@example.com"
	annPass   = "correct horse battery"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// recordFlows starts a server on a fresh SQLite data directory and runs
// the flows an app goes through.
func recordFlows(t *testing.T, bin string) []exchange {
	base := startServer(t, bin)
	r := &recorder{t: t, base: base}

	var dev authv1.LoginResponse
	r.must("console-login", authPath+"Login", "console", "", &authv1.LoginRequest{Handle: devEmail, Password: devPass}, &dev)
	devToken := dev.GetSession().GetAccessToken()

	var created adminv1.CreateAppResponse
	r.must("create-app", adminPath+"CreateApp", "", devToken, &adminv1.CreateAppRequest{
		Name: "Field Notes",
		Settings: &adminv1.AppSettings{
			Audience:         []string{"my-atlas-app-id"},
			TwoFactor:        authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP,
			UserNamesEnabled: true,
			SignupMetadataFields: []*authv1.MetadataField{{Path: "user_data.name", Name: "Name", Required: true,
				UserEditable: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING}},
		},
	}, &created)
	app := created.GetApp().GetId()
	r.must("get-app", adminPath+"GetApp", "", devToken, &adminv1.GetAppRequest{AppId: app}, nil)
	r.must("update-app", adminPath+"UpdateApp", "", devToken, &adminv1.UpdateAppRequest{
		AppId:      app,
		Settings:   &adminv1.AppSettings{TokenLifetime: durationpb.New(30 * time.Minute), EmailClaim: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"settings.token_lifetime", "settings.email_claim"}},
	}, nil)
	r.must("get-application", authPath+"GetApplication", app, "", &authv1.GetApplicationRequest{}, nil)

	meta, err := structpb.NewStruct(map[string]any{"user_data": map[string]any{"name": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	r.must("sign-up", authPath+"SignUp", app, "", &authv1.SignUpRequest{Handle: annEmail, Password: annPass, Metadata: meta}, nil)
	r.call("sign-up-invalid", authPath+"SignUp", app, "", &authv1.SignUpRequest{Handle: "not an email", Password: annPass}, nil)

	// Mail goes through a queue: wait until the code is in the outbox,
	// then record one listing.
	code := waitForCode(t, r, app, devToken)
	r.must("list-outbox", adminPath+"ListOutbox", "", devToken, &adminv1.ListOutboxRequest{AppId: app}, nil)

	var signedUp authv1.CompleteSignUpResponse
	r.must("complete-sign-up", authPath+"CompleteSignUp", app, "", &authv1.CompleteSignUpRequest{Handle: annEmail, Code: code}, &signedUp)
	ann := signedUp.GetSession()
	r.must("get-user", authPath+"GetUser", app, ann.GetAccessToken(), &authv1.GetUserRequest{}, nil)
	r.call("get-user-no-token", authPath+"GetUser", app, "", &authv1.GetUserRequest{}, nil)
	meta2, err := structpb.NewStruct(map[string]any{"user_data": map[string]any{"name": "Ann B."}})
	if err != nil {
		t.Fatal(err)
	}
	r.must("set-user-metadata", authPath+"SetUserMetadata", app, ann.GetAccessToken(), &authv1.SetUserMetadataRequest{Metadata: meta2}, nil)
	var refreshed authv1.RefreshSessionResponse
	r.must("refresh-session", authPath+"RefreshSession", app, "", &authv1.RefreshSessionRequest{RefreshToken: ann.GetRefreshToken()}, &refreshed)
	r.call("login-wrong-password", authPath+"Login", app, "", &authv1.LoginRequest{Handle: annEmail, Password: "not it"}, nil)

	var login authv1.LoginResponse
	r.must("login", authPath+"Login", app, "", &authv1.LoginRequest{Handle: annEmail, Password: annPass}, &login)
	token := login.GetSession().GetAccessToken()
	var begin authv1.BeginTotpEnrollmentResponse
	r.must("begin-totp-enrollment", authPath+"BeginTotpEnrollment", app, token, &authv1.BeginTotpEnrollmentRequest{}, &begin)
	totpCode, err := totp.GenerateCode(begin.GetSecret(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var confirmed authv1.ConfirmTotpEnrollmentResponse
	r.must("confirm-totp-enrollment", authPath+"ConfirmTotpEnrollment", app, token, &authv1.ConfirmTotpEnrollmentRequest{Code: totpCode}, &confirmed)
	var challenged authv1.LoginResponse
	r.must("login-challenge", authPath+"Login", app, "", &authv1.LoginRequest{Handle: annEmail, Password: annPass}, &challenged)
	if challenged.GetChallenge() == nil {
		t.Fatalf("Login after TOTP enrollment = %v, want a challenge", &challenged)
	}
	var completed authv1.CompleteLoginResponse
	r.must("complete-login", authPath+"CompleteLogin", app, "", &authv1.CompleteLoginRequest{
		LoginToken: challenged.GetChallenge().GetLoginToken(), Code: confirmed.GetRecoveryCodes()[0]}, &completed)

	r.must("list-apps", adminPath+"ListApps", "", devToken, &adminv1.ListAppsRequest{}, nil)
	r.must("list-signing-keys", adminPath+"ListSigningKeys", "", devToken, &adminv1.ListSigningKeysRequest{AppId: app}, nil)
	r.must("list-locales", adminPath+"ListLocales", "", devToken, &adminv1.ListLocalesRequest{AppId: app}, nil)
	r.must("list-email-templates", adminPath+"ListEmailTemplates", "", devToken, &adminv1.ListEmailTemplatesRequest{AppId: app, Locale: "en"}, nil)
	r.call("get-app-not-found", adminPath+"GetApp", "", devToken, &adminv1.GetAppRequest{AppId: "no-such-app"}, nil)
	r.must("logout", authPath+"Logout", app, completed.GetSession().GetAccessToken(), &authv1.LogoutRequest{}, nil)
	return r.calls
}

// waitForCode polls the outbox (unrecorded) until the signup code is there.
func waitForCode(t *testing.T, r *recorder, app, devToken string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, body := r.post(adminPath+"ListOutbox", "", devToken, &adminv1.ListOutboxRequest{AppId: app})
		var out adminv1.ListOutboxResponse
		if status == 200 && protojson.Unmarshal(body, &out) == nil {
			for _, m := range out.GetMessages() {
				if c := sixDigits.FindString(m.GetSubject() + " " + m.GetText()); c != "" {
					return c
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signup code in the outbox after 30s: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServer creates the operator and serves on a free port from a fresh
// data directory; the server stops when the test ends.
func startServer(t *testing.T, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COSYNC_") {
			env = append(env, kv)
		}
	}
	env = append(env, "COSYNC_DATA_DIR="+t.TempDir(), "COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_LOG_LEVEL=warn")

	create := exec.Command(bin, "developer", "create", "--email", devEmail)
	create.Env = append(env, "COSYNC_DEVELOPER_PASSWORD="+devPass)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("developer create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	serve := exec.CommandContext(ctx, bin, "serve")
	serve.Env = env
	var log lockedBuffer
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 60s: %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// normalizer turns two runs' values into one stable fixture.
type normalizer struct {
	model  *Model
	subst  map[string]any // first run's value → its placeholder
	counts map[string]int
	times  int
	errs   []string
}

func newNormalizer(m *Model) *normalizer {
	return &normalizer{model: m, subst: map[string]any{}, counts: map[string]int{}}
}

func (n *normalizer) methodTypes(service, method string) (in, out *Message) {
	for _, f := range n.model.Files {
		for _, s := range f.Services {
			if string(s.FullName) != service {
				continue
			}
			for _, m := range s.Methods {
				if m.Name == method {
					return m.Input, m.Output
				}
			}
		}
	}
	return nil, nil
}

var (
	dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	todayRE  = regexp.MustCompile(time.Now().UTC().Format(time.DateOnly))
)

// str normalizes one string: kept when both runs agree and it holds no
// date, else replaced by a placeholder named after the field.
func (n *normalizer) str(a, b, name string) string {
	if a == "" {
		return a
	}
	if p, ok := n.subst[a]; ok {
		if s, ok := p.(string); ok {
			return s
		}
	}
	if a == b && !todayRE.MatchString(a) {
		return a
	}
	var p string
	if dateOnly.MatchString(a) {
		n.counts["date"]++
		p = fmt.Sprintf("2026-01-%02d", n.counts["date"])
	} else {
		n.counts[name]++
		p = fmt.Sprintf("<%s %d>", name, n.counts[name])
	}
	n.subst[a] = p
	return p
}

// walk normalizes a (first run) against b (second run); t is the type
// the value has in the Swift model, nil where it has none (error bodies,
// Struct contents).
func (n *normalizer) walk(a, b any, t *Type, path string) any {
	name := path[strings.LastIndexAny(path, ".[")+1:]
	switch av := a.(type) {
	case map[string]any:
		bv, _ := b.(map[string]any)
		if len(av) != len(bv) {
			n.errs = append(n.errs, fmt.Sprintf("%s: the runs differ in keys: %v vs %v", path, sortedKeys(av), sortedKeys(bv)))
		}
		out := map[string]any{}
		for _, k := range sortedKeys(av) {
			v := av[k]
			var ft *Type
			if t != nil && t.Kind == KindMessage {
				if f := t.Message.FieldByJSON(k); f != nil {
					ft = &f.Type
					if f.Map() {
						out[k] = n.walkMap(v, bv[k], &f.Type, path+"."+k)
						continue
					}
				}
			}
			out[k] = n.walk(v, bv[k], ft, path+"."+k)
		}
		return out
	case []any:
		bv, _ := b.([]any)
		if len(av) != len(bv) {
			n.errs = append(n.errs, fmt.Sprintf("%s: the runs differ in length: %d vs %d", path, len(av), len(bv)))
			return a
		}
		out := make([]any, len(av))
		for i := range av {
			out[i] = n.walk(av[i], bv[i], t, path)
		}
		return out
	case string:
		bs, _ := b.(string)
		if t != nil {
			switch t.Kind {
			case KindTimestamp:
				// Each occurrence its own minute: whether two instants
				// coincide depends on the clock, not on the flow.
				p := time.Date(2026, 1, 1, 0, n.times, 0, 0, time.UTC).Format(time.RFC3339)
				n.times++
				return p
			case KindBytes:
				if av == bs {
					return av
				}
				if p, ok := n.subst[av]; ok {
					return p
				}
				n.counts[name]++
				p := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("<%s %d>", name, n.counts[name])))
				n.subst[av] = p
				return p
			case KindInt64, KindUInt64:
				if av != bs {
					n.errs = append(n.errs, fmt.Sprintf("%s: the runs differ: %s vs %s", path, av, bs))
				}
				return av
			}
		}
		return n.str(av, bs, name)
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) {
			n.errs = append(n.errs, fmt.Sprintf("%s: the runs differ: %v vs %v", path, a, b))
		}
		return a
	}
}

func (n *normalizer) walkMap(a, b any, vt *Type, path string) any {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	out := map[string]any{}
	for _, k := range sortedKeys(am) {
		out[k] = n.walk(am[k], bm[k], vt, path+"["+k+"]")
	}
	return out
}
