package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/console"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

// withVaultSigner runs the server on the Vault signer with srv's root
// token and no master key: nothing secret outside Vault.
func withVaultSigner(srv *vaulttest.Server) envOption {
	return func(c *config.Config) {
		c.Signer, c.VaultAddr, c.VaultToken, c.VaultTransitMount, c.MasterKey = "vault", srv.Addr, srv.Token, "transit", ""
	}
}

// withMasterKeyOf sets the master key, as a deployment keeps it across restarts.
func withMasterKeyOf(key []byte) envOption {
	return func(c *config.Config) { c.MasterKey = base64.StdEncoding.EncodeToString(key) }
}

// signerEnv starts a server over st on the named signer ("local", or
// "vault" on a fresh Vault dev server).
func signerEnv(t *testing.T, st *store.Store, signer string, opts ...envOption) *env {
	t.Helper()
	if signer == "vault" {
		opts = append([]envOption{withVaultSigner(vaulttest.Start(t))}, opts...)
	}
	return closeVault(t, newEnv(t, st, opts...))
}

// closeVault stops the env's Vault token renewal at the end of the test.
func closeVault(tb testing.TB, e *env) *env {
	if e.p.vault != nil {
		tb.Cleanup(e.p.vault.Close)
	}
	return e
}

// noneFlowApp creates an app whose users sign up without a code.
func (e *env) noneFlowApp(tb testing.TB, dev string, st *adminv1.AppSettings) string {
	tb.Helper()
	if st == nil {
		st = &adminv1.AppSettings{}
	}
	st.SignupFlow = authv1.SignupFlow_SIGNUP_FLOW_NONE
	st.Audience = []string{"my-backend"}
	res, err := e.admin.CreateApp(as(context.Background(), "", dev), &adminv1.CreateAppRequest{Name: "Keys", Settings: st})
	if err != nil {
		tb.Fatalf("CreateApp = %v", err)
	}
	return res.GetApp().GetId()
}

// signUpNone signs a user up in a none-flow app and returns the session.
func (e *env) signUpNone(tb testing.TB, app, email string) *authv1.Session {
	tb.Helper()
	res, err := e.auth.SignUp(as(context.Background(), app, ""), &authv1.SignUpRequest{Handle: email, Password: "long-enough-pw"})
	if err != nil {
		tb.Fatalf("SignUp(%q) = %v", email, err)
	}
	return res.GetSession()
}

// outsideVerify checks raw's signature with go-jose against the JWKS the
// server publishes for app (over HTTP, as a consumer fetches it), and its
// issuer and audience; it returns the token's kid.
func (e *env) outsideVerify(tb testing.TB, app, raw string) (string, error) {
	tb.Helper()
	resp, err := e.http.Get(e.url + "/apps/" + app + "/.well-known/jwks.json")
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		tb.Fatalf("JWKS %s: %v", body, err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		tb.Fatalf("ParseSigned = %v", err)
	}
	kid := tok.Headers[0].KeyID
	found := set.Key(kid)
	if len(found) != 1 {
		return kid, fmt.Errorf("kid %q is not among the %d keys of the JWKS", kid, len(set.Keys))
	}
	var c josejwt.Claims
	if err := tok.Claims(found[0].Key, &c); err != nil {
		return kid, err
	}
	if c.Issuer != e.p.cfg.PublicURL+"/apps/"+app || !c.Audience.Contains("my-backend") {
		return kid, fmt.Errorf("claims iss %q aud %v", c.Issuer, c.Audience)
	}
	return kid, nil
}

func (e *env) keyList(tb testing.TB, dev, app string) []*adminv1.SigningKey {
	tb.Helper()
	res, err := e.admin.ListSigningKeys(as(context.Background(), "", dev), &adminv1.ListSigningKeysRequest{AppId: app})
	if err != nil {
		tb.Fatalf("ListSigningKeys = %v", err)
	}
	return res.GetKeys()
}

func kidOf(tb testing.TB, raw string) string {
	tb.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		tb.Fatalf("ParseSigned = %v", err)
	}
	return tok.Headers[0].KeyID
}

// TestVaultSignIn: with COSYNC_SIGNER=vault a user signs in, and a JOSE
// library that is not ours verifies the token with the published JWKS.
// The database holds no private key.
func TestVaultSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		e := signerEnv(t, st, "vault")
		dev := e.developer(t, "dev@example.com")
		app := e.noneFlowApp(t, dev, nil)
		sess := e.signUpNone(t, app, "ann@example.com")
		kid, err := e.outsideVerify(t, app, sess.GetAccessToken())
		if err != nil {
			t.Fatalf("outside verify: %v", err)
		}
		if _, err := e.auth.GetUser(as(ctx, app, sess.GetAccessToken()), &authv1.GetUserRequest{}); err != nil {
			t.Errorf("GetUser = %v", err)
		}
		recs, err := st.ListSigningKeys(ctx, app)
		if err != nil || len(recs) != 1 {
			t.Fatalf("ListSigningKeys = %v, %v", recs, err)
		}
		if r := recs[0]; r.KID != kid || r.Backend != keys.BackendVault || r.BackendRef != "cosync-auth-app-"+app+":1" || r.SealedPrivateKey != nil {
			t.Errorf("stored key = %+v; want the token's kid, in Vault, no private key", r)
		}
		if code, err := getStatus(e.http, e.url+"/readyz"); err != nil || code != http.StatusOK {
			t.Errorf("GET /readyz = %v, %v; want 200", code, err)
		}
	})
}

// TestKeyRotation, on both signers and both databases: a rotated key's
// tokens keep verifying (here and outside) until its retirement, which
// drops it from the JWKS.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	for _, signer := range []string{"local", "vault"} {
		t.Run(signer, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				t.Parallel()
				ctx := context.Background()
				e := signerEnv(t, st, signer)
				dev := e.developer(t, "dev@example.com")
				app := e.noneFlowApp(t, dev, nil)
				old := e.signUpNone(t, app, "ann@example.com").GetAccessToken()
				oldKid := kidOf(t, old)

				e.clock.Advance(time.Minute)
				rotatedAt := e.clock.Now()
				res, err := e.admin.RotateSigningKey(as(ctx, "", dev), &adminv1.RotateSigningKeyRequest{AppId: app})
				if err != nil {
					t.Fatalf("RotateSigningKey = %v", err)
				}
				newKid := res.GetKey().GetKid()
				if newKid == oldKid || res.GetKey().GetState() != adminv1.KeyState_KEY_STATE_ACTIVE || !strings.Contains(res.GetKey().GetPublicKeyPem(), "PUBLIC KEY") {
					t.Fatalf("RotateSigningKey = %v; want a new active key", res.GetKey())
				}
				ks := e.keyList(t, dev, app)
				retireAt := rotatedAt.Add(2 * time.Hour) // token lifetime 1h + 1h
				if len(ks) != 2 || ks[0].GetKid() != newKid || ks[1].GetKid() != oldKid ||
					ks[1].GetState() != adminv1.KeyState_KEY_STATE_VERIFYING ||
					!ks[1].GetDeactivatedAt().AsTime().Equal(rotatedAt.Truncate(time.Microsecond)) ||
					!ks[1].GetRetireAt().AsTime().Equal(retireAt.Truncate(time.Microsecond)) {
					t.Fatalf("ListSigningKeys = %v; want the new key active, the old verifying until %v", ks, retireAt)
				}

				// The old token still works, here and outside; new tokens use the new key.
				if _, err := e.auth.GetUser(as(ctx, app, old), &authv1.GetUserRequest{}); err != nil {
					t.Errorf("GetUser(old token) after rotation = %v", err)
				}
				if _, err := e.outsideVerify(t, app, old); err != nil {
					t.Errorf("outside verify (old token) after rotation: %v", err)
				}
				fresh := e.login(t, app, "ann@example.com", "long-enough-pw")
				if kid, err := e.outsideVerify(t, app, fresh); err != nil || kid != newKid {
					t.Errorf("outside verify (new token) = %q, %v; want kid %q", kid, err, newKid)
				}

				// Past the old token's expiry the key is still published.
				e.clock.Advance(time.Hour + time.Minute)
				dev = e.login(t, identity.ConsoleAppID, "dev@example.com", "dev-password-1")
				if _, err := e.outsideVerify(t, app, old); err != nil {
					t.Errorf("outside verify (old token) before retirement: %v", err)
				}
				// At its retirement it leaves the JWKS: its tokens no longer verify anywhere.
				e.clock.Advance(time.Hour)
				if _, err := e.outsideVerify(t, app, old); err == nil {
					t.Errorf("old token verifies after its key retired")
				}
				if _, err := e.auth.GetUser(as(ctx, app, old), &authv1.GetUserRequest{}); err == nil {
					t.Errorf("GetUser(old token) after retirement = nil error")
				}
				if ks := e.keyList(t, dev, app); ks[1].GetState() != adminv1.KeyState_KEY_STATE_RETIRED {
					t.Errorf("ListSigningKeys after retire_at: old key %v, want retired", ks[1].GetState())
				}
				// The upkeep pass records it, dropping a local private key.
				up, err := e.p.console.MaintainKeys(ctx)
				if err != nil || len(up.Retired) != 1 || up.Retired[0].KID != oldKid {
					t.Fatalf("MaintainKeys = %+v, %v; want %s retired", up, err, oldKid)
				}
				recs, _ := st.ListSigningKeys(ctx, app)
				if recs[1].State != keys.StateRetired || recs[1].SealedPrivateKey != nil {
					t.Errorf("stored old key = %v with %d sealed bytes; want retired, none", recs[1].State, len(recs[1].SealedPrivateKey))
				}
				if kid, err := e.outsideVerify(t, app, e.login(t, app, "ann@example.com", "long-enough-pw")); err != nil || kid != newKid {
					t.Errorf("after retirement: login token kid %q, %v", kid, err)
				}
			})
		})
	}
}

// TestRotateSigningKeyRefusals: bad or unauthorized rotations fail with the
// right code and change nothing.
func TestRotateSigningKeyRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, sqliteStore(t))
	dev := e.developer(t, "dev@example.com")
	other := e.developer(t, "other@example.com")
	app := e.noneFlowApp(t, dev, nil)
	viewer, err := e.p.svc.CreateDeveloper(ctx, "viewer@example.com", "dev-password-1", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.store.PutMember(ctx, identity.Member{AppID: app, DeveloperID: viewer.ID, Role: identity.RoleViewer, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	viewerTok := e.login(t, identity.ConsoleAppID, "viewer@example.com", "dev-password-1")
	before := e.keyList(t, dev, app)

	tests := []struct {
		name   string
		bearer string
		appID  string
		code   connect.Code
		reason apperr.Reason
		field  string
	}{
		{"no app id", dev, "", connect.CodeInvalidArgument, "", "app_id"},
		{"app id too long", dev, strings.Repeat("a", 65), connect.CodeInvalidArgument, "", "app_id"},
		{"unknown app", dev, "nope", connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
		{"another developer's app", other, app, connect.CodeNotFound, apperr.ReasonAppNotFound, ""},
		{"a viewer", viewerTok, app, connect.CodePermissionDenied, apperr.ReasonPermissionDenied, ""},
		{"no token", "", app, connect.CodeUnauthenticated, apperr.ReasonTokenMissing, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.admin.RotateSigningKey(as(ctx, "", tc.bearer), &adminv1.RotateSigningKeyRequest{AppId: tc.appID})
			code, r := reason(err)
			if code != tc.code || (tc.reason != "" && r != tc.reason) {
				t.Errorf("RotateSigningKey = %v (%v %q), want %v %q", err, code, r, tc.code, tc.reason)
			}
			if tc.field != "" && !strings.Contains(strings.Join(fields(err), ","), tc.field) {
				t.Errorf("RotateSigningKey names fields %v, want %s", fields(err), tc.field)
			}
		})
	}
	if after := e.keyList(t, dev, app); len(after) != 1 || after[0].GetKid() != before[0].GetKid() {
		t.Errorf("keys after refused rotations = %v, want %v unchanged", after, before)
	}
}

// TestRotateConcurrently: rotations at once never leave two active keys,
// and every key a winner made is in the list.
func TestRotateConcurrently(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.noneFlowApp(t, dev, nil)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, raced := map[string]bool{}, 0
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				res, err := e.admin.RotateSigningKey(as(ctx, "", dev), &adminv1.RotateSigningKeyRequest{AppId: app})
				mu.Lock()
				defer mu.Unlock()
				switch code, r := reason(err); {
				case err == nil:
					won[res.GetKey().GetKid()] = true
				case code == connect.CodeFailedPrecondition && r == "FAILED_PRECONDITION":
					raced++
				default:
					t.Errorf("RotateSigningKey = %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		ks := e.keyList(t, dev, app)
		active := 0
		for _, k := range ks {
			if k.GetState() == adminv1.KeyState_KEY_STATE_ACTIVE {
				active++
				if !won[k.GetKid()] {
					t.Errorf("active key %s was not returned to a winner", k.GetKid())
				}
			}
		}
		if len(won) == 0 || active != 1 || len(ks) != 1+len(won) || len(won)+raced != n {
			t.Errorf("%d won, %d raced; %d keys, %d active; want ≥1 winner, one active, the first key plus the winners'", len(won), raced, len(ks), active)
		}
		if _, err := e.outsideVerify(t, app, e.signUpNone(t, app, "ann@example.com").GetAccessToken()); err != nil {
			t.Errorf("sign-in after concurrent rotations: %v", err)
		}
	})
}

// TestScheduledRotation: an app with key_rotation.interval gets a new key
// once the interval has passed, once even when replicas run upkeep together.
func TestScheduledRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		a, b := newEnv(t, st), newEnv(t, st) // two replicas
		dev := a.developer(t, "dev@example.com")
		app := a.noneFlowApp(t, dev, &adminv1.AppSettings{KeyRotation: &adminv1.KeyRotation{Interval: durationpb.New(24 * time.Hour)}})
		manual := a.noneFlowApp(t, dev, nil)
		if up, err := a.p.console.MaintainKeys(ctx); err != nil || len(up.Rotated) != 0 {
			t.Fatalf("MaintainKeys (fresh keys) = %+v, %v; want nothing rotated", up, err)
		}
		a.clock.Advance(25 * time.Hour)
		b.clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		ups := make([]console.KeyUpkeep, 2)
		for i, e := range []*env{a, b} {
			wg.Go(func() {
				var err error
				if ups[i], err = e.p.console.MaintainKeys(ctx); err != nil {
					t.Errorf("MaintainKeys = %v", err)
				}
			})
		}
		wg.Wait()
		dev = a.login(t, identity.ConsoleAppID, "dev@example.com", "dev-password-1")
		if n := len(ups[0].Rotated) + len(ups[1].Rotated); n != 1 || (ups[0].Rotated[app] != console.RotateScheduled && ups[1].Rotated[app] != console.RotateScheduled) {
			t.Errorf("two replicas' upkeep rotated %v and %v; want %s once, as scheduled", ups[0].Rotated, ups[1].Rotated, app)
		}
		if ks := a.keyList(t, dev, app); len(ks) != 2 {
			t.Errorf("scheduled app has %d keys, want 2", len(ks))
		}
		if ks := a.keyList(t, dev, manual); len(ks) != 1 {
			t.Errorf("app without an interval has %d keys, want 1", len(ks))
		}
		if up, err := a.p.console.MaintainKeys(ctx); err != nil || len(up.Rotated) != 0 {
			t.Errorf("MaintainKeys right after = %+v, %v; want nothing rotated", up, err)
		}
	})
}

// TestVaultOutage: Vault sealed or stopped mid-test makes token-issuing
// calls fail fast with Unavailable (SIGNER_UNAVAILABLE) and /readyz 503,
// changing nothing; when Vault is back everything works again by itself.
func TestVaultOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.StartPersistent(t)
	e := closeVault(t, newEnv(t, sqliteStore(t), withVaultSigner(srv)))
	dev := e.developer(t, "dev@example.com")
	app := e.noneFlowApp(t, dev, nil)
	refresh := e.signUpNone(t, app, "ann@example.com").GetRefreshToken()

	ready := func() int {
		r, err := e.http.Get(e.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	works := func(what string) {
		t.Helper()
		if tok := e.login(t, app, "ann@example.com", "long-enough-pw"); tok == "" {
			t.Errorf("%s: no token", what)
		}
		res, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
		if err != nil {
			t.Fatalf("%s: RefreshSession = %v", what, err)
		}
		refresh = res.GetSession().GetRefreshToken()
		if got := ready(); got != http.StatusOK {
			t.Errorf("%s: /readyz = %d, want 200", what, got)
		}
	}
	down := func(what string) {
		t.Helper()
		// That the signer fails by refusal rather than by waiting out its
		// timeout is checked in internal/keys (TestVaultOutage), without a clock.
		_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
		if code, r := reason(err); code != connect.CodeUnavailable || r != apperr.ReasonSignerUnavailable {
			t.Errorf("%s: Login = %v, want Unavailable SIGNER_UNAVAILABLE", what, err)
		}
		_, err = e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
		if code, r := reason(err); code != connect.CodeUnavailable || r != apperr.ReasonSignerUnavailable {
			t.Errorf("%s: RefreshSession = %v, want Unavailable SIGNER_UNAVAILABLE", what, err)
		}
		_, err = e.admin.CreateApp(as(ctx, "", dev), &adminv1.CreateAppRequest{Name: "During outage"})
		if code, r := reason(err); code != connect.CodeUnavailable || r != apperr.ReasonSignerUnavailable {
			t.Errorf("%s: CreateApp = %v, want Unavailable SIGNER_UNAVAILABLE", what, err)
		}
		if got := ready(); got != http.StatusServiceUnavailable {
			t.Errorf("%s: /readyz = %d, want 503", what, got)
		}
	}
	countApps := func() int {
		list, err := e.admin.ListApps(as(ctx, "", dev), &adminv1.ListAppsRequest{})
		if err != nil {
			t.Fatalf("ListApps = %v", err)
		}
		return len(list.GetApps())
	}
	appsBefore := countApps()

	works("up")
	srv.Seal(t)
	down("sealed")
	srv.Unseal(t)
	works("unsealed") // the refresh token refused while sealed still works: nothing was spent
	srv.Stop(t)
	down("stopped")
	srv.Restart(t)
	works("restarted")
	if n := countApps(); n != appsBefore {
		t.Errorf("%d apps after the outages, want %d: a failed CreateApp left one", n, appsBefore)
	}
}

// TestVaultLoginBurst: 200 logins at once through the batching signer all
// get correct, distinct signatures. (On Postgres: SQLite serializes the 200
// write transactions, and a burst this size outwaits its busy timeout.)
func TestVaultLoginBurst(t *testing.T) {
	t.Parallel()
	const users, each = 20, 10 // below the per-handle login limit
	// The whole burst is admitted (the gate's shedding has its own test):
	// this one is about the signer under concurrent load.
	e := closeVault(t, newEnv(t, storetest.Postgres(t), withVaultSigner(vaulttest.Start(t)),
		func(c *config.Config) { c.TrustProxy, c.MaxExpensiveCalls = true, users*each }))
	dev := e.developer(t, "dev@example.com")
	app := e.noneFlowApp(t, dev, nil)
	for u := range users {
		e.signUpNone(t, app, fmt.Sprintf("user%d@example.com", u))
	}
	type result struct {
		token string
		err   error
	}
	results := make([]result, users*each)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start
			body := fmt.Sprintf(`{"handle":"user%d@example.com","password":"long-enough-pw"}`, i%users)
			req, _ := http.NewRequest(http.MethodPost, e.url+"/cosync.auth.v1.AuthService/Login", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Cosync-App-Id", app)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/250, i%250)) // below the per-IP limit
			resp, err := e.http.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer resp.Body.Close()
			var out struct {
				Session struct {
					AccessToken string `json:"accessToken"`
				} `json:"session"`
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
				results[i].err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
				return
			}
			results[i].token = out.Session.AccessToken
		})
	}
	close(start)
	wg.Wait()
	sigs := map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("login %d: %v", i, r.err)
		}
		if _, err := e.outsideVerify(t, app, r.token); err != nil {
			t.Fatalf("login %d: outside verify: %v", i, err)
		}
		sigs[r.token[strings.LastIndexByte(r.token, '.')+1:]] = true
	}
	if len(sigs) != len(results) {
		t.Errorf("%d distinct signatures for %d logins", len(sigs), len(results))
	}
}

// TestMoveLocalToVault: a deployment on the local signer switches to Vault.
// At start every app gets a Vault key and its local key keeps verifying, so
// tokens out there stay valid; codes mailed before the move still work; and
// `secrets rekey` moves what the master key sealed into Transit, after
// which the master key can go.
func TestMoveLocalToVault(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		master := make([]byte, 32)
		rand.Read(master)
		before := newEnv(t, st, withMasterKeyOf(master))
		dev := before.developer(t, "dev@example.com")
		app := before.appWithNameField(t, dev, "my-backend")
		ann := before.signUp(t, dev, app, "ann@example.com").GetAccessToken()
		localKid := kidOf(t, ann)
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "Bob"}})
		if _, err := before.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "bob@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatal(err)
		}
		bobCode := before.outboxCode(t, dev, app, "bob@example.com")
		// Secrets the master key seals: a TOTP secret, a Twilio auth token.
		tfa := before.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP,
			&adminv1.TwilioSettings{AccountSid: "AC" + strings.Repeat("0", 32), AuthToken: "twilioToken1234abcd", FromNumber: "+15005550006"})
		totpSecret, _ := before.enrollTOTP(t, tfa, before.signUp(t, dev, tfa, "tess@example.com").GetAccessToken())

		// The same database and public URL, now on Vault; the master key is
		// still at hand.
		srv := vaulttest.Start(t)
		sameURL := func(c *config.Config) { c.PublicURL = before.p.cfg.PublicURL }
		after := closeVault(t, newEnv(t, st, withVaultSigner(srv), withMasterKeyOf(master), sameURL))
		upkeepKeys(ctx, after.p) // what serve does at start
		ks := after.keyList(t, dev, app)
		if len(ks) != 2 || ks[1].GetKid() != localKid || ks[1].GetState() != adminv1.KeyState_KEY_STATE_VERIFYING || ks[0].GetState() != adminv1.KeyState_KEY_STATE_ACTIVE {
			t.Fatalf("keys after the move = %v; want a new active key, the local one verifying", ks)
		}
		recs, _ := st.ListSigningKeys(ctx, app)
		if recs[0].Backend != keys.BackendVault {
			t.Errorf("active key backend = %q, want vault", recs[0].Backend)
		}
		if _, err := after.outsideVerify(t, app, ann); err != nil {
			t.Errorf("a token from before the move: %v", err)
		}
		if _, err := after.auth.GetUser(as(ctx, app, ann), &authv1.GetUserRequest{}); err != nil {
			t.Errorf("GetUser(token from before the move) = %v", err)
		}
		res, err := after.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "bob@example.com", Code: bobCode})
		if err != nil {
			t.Fatalf("CompleteSignUp with a code mailed before the move = %v", err)
		}
		if kid, err := after.outsideVerify(t, app, res.GetSession().GetAccessToken()); err != nil || kid != ks[0].GetKid() {
			t.Errorf("token after the move: kid %q, %v; want the Vault key %q", kid, err, ks[0].GetKid())
		}

		// secrets rekey: every sealed value now opens with Transit alone.
		out, err := secrets.Rekey(ctx, after.p.box, after.p.transit, st.SealedColumns())
		if err != nil {
			t.Fatalf("Rekey = %v", err)
		}
		t.Logf("rekey: %+v", out)
		for _, col := range st.SealedColumns() {
			page, err := col.Page(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page {
				if !bytes.HasPrefix(s.Ciphertext, []byte("vault:v")) {
					t.Errorf("%s %s is not sealed by Transit after rekey", col.Name, s.Ref)
				}
			}
		}

		if a, err := st.GetApp(ctx, tfa); err != nil {
			t.Fatal(err)
		} else if tok, err := after.p.transit.Open(ctx, a.Settings.Twilio.AuthTokenSealed, identity.TwilioTokenAssociatedData(tfa)); err != nil || string(tok) != "twilioToken1234abcd" {
			t.Errorf("Twilio token after rekey: Transit opens %q, %v", tok, err)
		}

		// Without the master key the deployment still runs: codes, second
		// factors, old tokens, new tokens.
		vaultOnly := closeVault(t, newEnv(t, st, withVaultSigner(srv), sameURL))
		if vaultOnly.p.local != nil {
			t.Fatalf("a master key was made under Vault")
		}
		if _, err := vaultOnly.auth.SignUp(as(ctx, app, ""), &authv1.SignUpRequest{Handle: "cy@example.com", Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatal(err)
		}
		if _, err := vaultOnly.auth.CompleteSignUp(as(ctx, app, ""), &authv1.CompleteSignUpRequest{Handle: "cy@example.com", Code: vaultOnly.outboxCode(t, dev, app, "cy@example.com")}); err != nil {
			t.Errorf("signup code under Vault alone = %v", err)
		}
		if _, err := vaultOnly.outsideVerify(t, app, ann); err != nil {
			t.Errorf("token from before the move, Vault alone: %v", err)
		}
		vaultOnly.clock.Advance(2 * time.Minute) // past the step the enrollment spent
		ch := vaultOnly.challenge(t, tfa, "tess@example.com")
		if _, err := vaultOnly.completeLogin(tfa, ch.GetLoginToken(), totpAt(t, totpSecret, vaultOnly.clock.Now())); err != nil {
			t.Errorf("TOTP login with a secret enrolled before the move, Vault alone: %v", err)
		}
	})
}

// TestVaultAppRole runs the server logged in with AppRole under a policy
// that allows only what it needs.
func TestVaultAppRole(t *testing.T) {
	t.Parallel()
	srv := vaulttest.Start(t)
	roleID, secretID := srv.AppRole(t, "cosync-auth", `
path "transit/keys/cosync-auth-*"         { capabilities = ["create", "read", "update"] }
path "transit/keys/cosync-auth-*/rotate"  { capabilities = ["update"] }
path "transit/sign/cosync-auth-app-*"     { capabilities = ["update"] }
path "transit/encrypt/cosync-auth-secrets" { capabilities = ["update"] }
path "transit/decrypt/cosync-auth-secrets" { capabilities = ["update"] }
`, time.Hour)
	e := closeVault(t, newEnv(t, sqliteStore(t), func(c *config.Config) {
		c.Signer, c.VaultAddr, c.VaultRoleID, c.VaultSecretID, c.VaultTransitMount, c.MasterKey = "vault", srv.Addr, roleID, secretID, "transit", ""
	}))
	dev := e.developer(t, "dev@example.com")
	app := e.noneFlowApp(t, dev, nil)
	if _, err := e.outsideVerify(t, app, e.signUpNone(t, app, "ann@example.com").GetAccessToken()); err != nil {
		t.Errorf("outside verify: %v", err)
	}
	if _, err := e.admin.RotateSigningKey(as(context.Background(), "", dev), &adminv1.RotateSigningKeyRequest{AppId: app}); err != nil {
		t.Errorf("RotateSigningKey = %v", err)
	}
	if code, err := getStatus(e.http, e.url+"/readyz"); err != nil || code != http.StatusOK {
		t.Errorf("GET /readyz = %v, %v; want 200", code, err)
	}
}

// TestCLIKeysRotate drives `keys rotate` and `secrets rekey` as the binary would.
func TestCLIKeysRotate(t *testing.T) {
	srv := vaulttest.Start(t)
	for _, signer := range []string{"local", "vault"} {
		t.Run(signer, func(t *testing.T) {
			extra := []string{"COSYNC_SIGNER=" + signer}
			if signer == "vault" {
				extra = append(extra, "VAULT_ADDR="+srv.Addr, "VAULT_TOKEN="+srv.Token)
			}
			cliEnv(t, extra...)
			tests := []struct {
				name    string
				args    []string
				wantOut string
				wantErr string
			}{
				{"no subcommand", []string{"keys"}, "", "usage: cosync-auth keys rotate --app ID"},
				{"no app", []string{"keys", "rotate"}, "", "--app is required"},
				{"unknown app", []string{"keys", "rotate", "--app", "nope"}, "", "no application with that id"},
				{"rotate", []string{"keys", "rotate", "--app", "console"}, "app console now signs with key", ""},
				{"rekey", []string{"secrets", "rekey"}, "signing_keys.sealed_private_key:", ""},
				{"rekey usage", []string{"secrets"}, "", "usage: cosync-auth secrets rekey"},
			}
			for _, tc := range tests {
				out, _, err := runCLI(t, tc.args...)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Errorf("%s: run(%q) = %v, want an error with %q", tc.name, tc.args, err, tc.wantErr)
					}
					continue
				}
				if err != nil || !strings.Contains(out, tc.wantOut) {
					t.Errorf("%s: run(%q) = %q, %v; want %q", tc.name, tc.args, out, err, tc.wantOut)
				}
				if tc.name == "rotate" && !strings.Contains(out, "("+signer+")") {
					t.Errorf("rotate output %q does not name the %s backend", out, signer)
				}
			}
		})
	}
}

// TestREADMEVault runs the README's "Production keys with Vault" commands,
// as written, against the built binary and a real Vault dev server.
func TestREADMEVault(t *testing.T) {
	vaultBin := vaulttest.Binary(t)
	for _, tool := range []string{"bash", "curl", "jq", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the Vault walkthrough needs %s: %v", tool, err)
		}
	}
	blocks := func(section string) string {
		var b strings.Builder
		for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readmeSection(t, section), -1) {
			b.WriteString(m[1])
		}
		return b.String()
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "cosync-auth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr, vaultAddr := freeAddr(t), freeAddr(t)
	base := "http://" + addr
	rewrite := strings.NewReplacer("http://localhost:8080", base, "127.0.0.1:8200", vaultAddr).Replace
	env := append(os.Environ(), "PATH="+filepath.Dir(vaultBin)+":"+os.Getenv("PATH"), "HOME="+dir,
		"COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_LOG_LEVEL=warn", "COSYNC_DATA_DIR="+filepath.Join(dir, "var"))
	// background runs a README block the way a reader leaves it running in a
	// terminal; Cleanup stops its whole process group.
	background := func(name, script string) *lockedBuffer {
		var log lockedBuffer
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &log, &log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
		return &log
	}
	vaultLog := background("vault", rewrite(blocks("vault-start")))
	waitHTTP(t, "http://"+vaultAddr+"/v1/sys/health", vaultLog)
	serverLog := background("server", rewrite(blocks("vault-serve")))
	waitReady(t, base, serverLog)

	script := rewrite(blocks("vault-walkthrough"))
	if !strings.Contains(script, "RotateSigningKey") || !strings.Contains(script, "jwtVerify") {
		t.Fatalf("the Vault walkthrough looks incomplete:\n%s", script)
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Vault walkthrough failed: %v\n%s\nserver log:\n%s", err, out, serverLog.String())
	}
	kids := regexp.MustCompile(`verified, kid (\S+)`).FindAllStringSubmatch(string(out), -1)
	if len(kids) != 3 || kids[0][1] != kids[1][1] || kids[2][1] == kids[0][1] {
		t.Errorf("want three verifications: the first token before and after rotation (one kid), the new token with another kid:\n%s", out)
	}
	for _, want := range []string{"exportable: false\n", `"state":"KEY_STATE_ACTIVE"`, `"state":"KEY_STATE_VERIFYING","retireAt":`, "versions: 2\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Vault walkthrough output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "var", "master.key")); err == nil {
		t.Errorf("a master key was created under the Vault signer")
	}
}
