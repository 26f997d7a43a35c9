package gen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGoTrue answers the endpoints the Supabase driver uses with the JSON
// Supabase Auth sends (internal/api: AccessTokenResponse with its user,
// apierrors.HTTPError, JwksResponse), and keeps count of what it was sent.
// A request not as GoTrue's clients send it is noted in bad.
type fakeGoTrue struct {
	unconfirmed bool             // signups answer the user alone, as without autoconfirm
	rejectLogin bool             // every password grant fails, as with a wrong password
	keys        []map[string]any // the JWKS

	mu        sync.Mutex
	users     map[string]string // email → password
	access    map[string]string // access token → email
	refresh   map[string]int    // refresh token → times presented
	issued    int
	logins    int // password grants answered with tokens
	refreshes int // refresh grants answered with tokens
	getUsers  int
	bad       []string
}

func newFakeGoTrue(tb testing.TB, f *fakeGoTrue) *httptest.Server {
	tb.Helper()
	f.users, f.access, f.refresh = map[string]string{}, map[string]string{}, map[string]int{}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return srv
}

// rsaJWK is a public key as GoTrue's JWKS lists it (jwk.Key with use and
// key_ops set by conf.JwtKeysDecoder).
var rsaJWK = map[string]any{"alg": "RS256", "e": "AQAB", "key_ops": []string{"verify"}, "kid": "f03375c641d47a53", "kty": "RSA", "n": "wh6kPMw5rZdh18Vtu1O7", "use": "sig"}

func (f *fakeGoTrue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	route := r.Method + " " + r.URL.Path
	switch route {
	case "POST /signup":
		var p struct{ Email, Password string }
		if !f.body(r, &p) || p.Email == "" || p.Password == "" {
			break
		}
		if _, ok := f.users[p.Email]; ok {
			fail(w, http.StatusUnprocessableEntity, "user_already_exists", "User already registered")
			return
		}
		f.users[p.Email] = p.Password
		if f.unconfirmed {
			reply(w, user(p.Email))
			return
		}
		reply(w, f.tokens(p.Email))
		return
	case "POST /token":
		switch r.URL.Query().Get("grant_type") {
		case "password":
			var p struct{ Email, Password string }
			if !f.body(r, &p) {
				break
			}
			if pw, ok := f.users[p.Email]; !ok || pw != p.Password || f.rejectLogin {
				fail(w, http.StatusBadRequest, "invalid_credentials", "Invalid login credentials")
				return
			}
			f.logins++
			reply(w, f.tokens(p.Email))
			return
		case "refresh_token":
			var p struct {
				RefreshToken string `json:"refresh_token"`
			}
			if !f.body(r, &p) {
				break
			}
			n, ok := f.refresh[p.RefreshToken]
			if !ok {
				fail(w, http.StatusBadRequest, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
				return
			}
			f.refresh[p.RefreshToken] = n + 1
			if n > 0 {
				f.bad = append(f.bad, "refresh token presented twice: "+p.RefreshToken)
				fail(w, http.StatusBadRequest, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
				return
			}
			f.refreshes++
			reply(w, f.tokens(""))
			return
		}
		f.bad = append(f.bad, "grant_type "+r.URL.Query().Get("grant_type"))
		fail(w, http.StatusBadRequest, "invalid_credentials", "unsupported_grant_type")
		return
	case "GET /.well-known/jwks.json":
		reply(w, map[string]any{"keys": f.keys})
		return
	case "GET /user":
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			f.bad = append(f.bad, "GET /user without a bearer")
			fail(w, http.StatusUnauthorized, "no_authorization", "This endpoint requires a valid Bearer token")
			return
		}
		email, ok := f.access[tok]
		if !ok {
			f.bad = append(f.bad, "GET /user with a token never issued")
			fail(w, http.StatusForbidden, "bad_jwt", "invalid JWT: unable to parse or verify signature")
			return
		}
		f.getUsers++
		reply(w, user(email))
		return
	default:
		f.bad = append(f.bad, "unexpected "+route)
	}
	fail(w, http.StatusBadRequest, "bad_json", "Could not parse request body as JSON")
}

// body decodes r's JSON body into p, noting a body not sent as JSON (as
// Supabase's own clients send it) or with fields p lacks.
func (f *fakeGoTrue) body(r *http.Request, p any) bool {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.bad = append(f.bad, r.URL.Path+": Content-Type "+ct)
		return false
	}
	if err := d.Decode(p); err != nil {
		f.bad = append(f.bad, r.URL.Path+": "+err.Error())
		return false
	}
	return true
}

// tokens issues an access token for email and a refresh token, in GoTrue's
// legacy refresh-token form (12 of [a-z0-9]).
func (f *fakeGoTrue) tokens(email string) map[string]any {
	f.issued++
	at, rt := fmt.Sprintf("eyJ.access-%d.sig", f.issued), fmt.Sprintf("rt%010d", f.issued)
	f.access[at], f.refresh[rt] = email, 0
	return map[string]any{
		"access_token": at, "token_type": "bearer", "expires_in": 3600, "expires_at": time.Now().Add(time.Hour).Unix(),
		"refresh_token": rt, "user": user(email),
	}
}

func user(email string) map[string]any {
	return map[string]any{
		"id": "61b6d5fe-bd67-4ba7-abad-a7f97ed609d8", "aud": "authenticated", "role": "authenticated", "email": email,
		"app_metadata": map[string]any{"provider": "email", "providers": []string{"email"}}, "is_anonymous": false,
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": status, "error_code": code, "msg": msg})
}

// TestSupabase runs every scenario against a fake GoTrue and checks both
// sides: what the server was sent (the grant types and bodies it takes, a
// bearer it issued, each refresh token once) and what the run reports.
func TestSupabase(t *testing.T) {
	t.Parallel()
	f := &fakeGoTrue{keys: []map[string]any{rsaJWK}}
	srv := newFakeGoTrue(t, f)
	const workers = 3
	ctx := context.Background()
	s, err := NewSupabase(ctx, Config{URL: srv.URL, Workers: workers, Duration: 200 * time.Millisecond, PID: os.Getpid()})
	if err != nil {
		t.Fatalf("NewSupabase = %v", err)
	}
	if got := s.Algorithms(); !slices.Equal(got, []string{"RS256"}) {
		t.Errorf("Algorithms() = %v, want [RS256]", got)
	}
	results, err := s.Run(ctx)
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bad) > 0 {
		t.Errorf("the server was sent what GoTrue does not take: %q", f.bad[:min(5, len(f.bad))])
	}
	if len(results) != len(Scenarios) {
		t.Fatalf("Run gave %d results, want one per scenario (%d)", len(results), len(Scenarios))
	}
	var cpu time.Duration
	for i, res := range results {
		if res.Scenario != Scenarios[i] {
			t.Errorf("result %d is %q, want %q", i, res.Scenario, Scenarios[i])
		}
		if res.Requests == 0 || res.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (first: %s); want some and none", res.Scenario, res.Requests, res.Errors, res.FirstError)
		}
		if res.P50 <= 0 || res.P99 < res.P50 {
			t.Errorf("%s: p50 %v, p99 %v; want 0 < p50 <= p99", res.Scenario, res.P50, res.P99)
		}
		if res.PeakRSS <= 0 {
			t.Errorf("%s: peak RSS %d, want this process's", res.Scenario, res.PeakRSS)
		}
		cpu += res.CPUPerRequest * time.Duration(res.Requests)
		// What the server answered, less what the client gave up on at
		// the deadline (one request a worker at most).
		served := map[string]int{"login": f.logins, "refresh": f.refreshes, "getuser": f.getUsers}
		if n, ok := served[res.Scenario]; ok && (int64(n) < res.Requests || int64(n) > res.Requests+workers) {
			t.Errorf("%s: the server answered %d, the run reports %d", res.Scenario, n, res.Requests)
		}
	}
	if cpu <= 0 {
		t.Errorf("the server's CPU (this process) was never measured")
	}
}

// TestSupabaseFailures checks that a server that does not answer as meant
// stops a scenario with a reason, or counts its errors.
func TestSupabaseFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fake     *fakeGoTrue
		scenario string
		wantErr  string // in Scenario's error
		wantCode string // in the result's first error, with no request answered
	}{
		{"signup without autoconfirm", &fakeGoTrue{unconfirmed: true, keys: []map[string]any{rsaJWK}}, "getuser", "GOTRUE_MAILER_AUTOCONFIRM", ""},
		{"JWKS without keys", &fakeGoTrue{}, "jwks", "GOTRUE_JWT_KEYS", ""},
		{"login refused", &fakeGoTrue{rejectLogin: true, keys: []map[string]any{rsaJWK}}, "login", "", "invalid_credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeGoTrue(t, tc.fake)
			s, err := NewSupabase(context.Background(), Config{URL: srv.URL, Workers: 2, Duration: 100 * time.Millisecond})
			if err != nil {
				t.Fatalf("NewSupabase = %v", err)
			}
			res, err := s.Scenario(context.Background(), tc.scenario)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Scenario(%q) = %v, want an error naming %s", tc.scenario, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Scenario(%q) = %v", tc.scenario, err)
			}
			if res.Requests != 0 || res.Errors == 0 || !strings.Contains(res.FirstError, tc.wantCode) {
				t.Errorf("Scenario(%q): %d requests, %d errors (first: %s); want none answered and the errors naming %s",
					tc.scenario, res.Requests, res.Errors, res.FirstError, tc.wantCode)
			}
		})
	}
}

func TestNewSupabaseUnknownScenario(t *testing.T) {
	t.Parallel()
	srv := newFakeGoTrue(t, &fakeGoTrue{})
	if _, err := NewSupabase(context.Background(), Config{URL: srv.URL, Scenarios: []string{"login", "logout"}}); err == nil {
		t.Errorf("NewSupabase with scenario logout = nil, want an error")
	}
}
