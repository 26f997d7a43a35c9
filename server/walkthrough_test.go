package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
	"github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1/authv1connect"
)

// TestWalkthrough is the README's walkthrough: a developer creates an app
// with a required metadata field, a user signs up with the mailed code, and
// a verifier that is not ours checks the token against the app's JWKS.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		app := e.appWithNameField(t, dev, "atlas-app-id")

		got, err := e.auth.GetApplication(as(ctx, app, ""), &authv1.GetApplicationRequest{})
		if err != nil {
			t.Fatalf("GetApplication = %v", err)
		}
		if a := got.GetApplication(); a.GetSignupFlow() != authv1.SignupFlow_SIGNUP_FLOW_CODE || len(a.GetSignupMetadataFields()) != 2 || a.GetJwksUrl() != e.url+"/apps/"+app+"/.well-known/jwks.json" {
			t.Fatalf("GetApplication = %v", a)
		}

		sess := e.signUp(t, dev, app, "Ann@Example.com")
		user, err := e.auth.GetUser(as(ctx, app, sess.GetAccessToken()), &authv1.GetUserRequest{})
		if err != nil {
			t.Fatalf("GetUser = %v", err)
		}
		if u := user.GetUser(); u.GetEmail() != "ann@example.com" || u.GetMetadata().AsMap()["user_data"].(map[string]any)["name"] != "Ann" {
			t.Fatalf("GetUser = %v", u)
		}

		// The outside verifier: go-jose with the JWKS fetched over HTTP.
		resp, err := e.http.Get(e.url + "/apps/" + app + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		jwksETag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || jwksETag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("JWKS status %d, headers %v", resp.StatusCode, resp.Header)
		}
		var jwks jose.JSONWebKeySet
		if err := json.Unmarshal(body, &jwks); err != nil {
			t.Fatalf("JWKS %s: %v", body, err)
		}
		raw := sess.GetAccessToken()
		if len(raw) >= 2048 {
			t.Errorf("token is %d characters, want < 2048", len(raw))
		}
		tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		kid := tok.Headers[0].KeyID
		keys := jwks.Key(kid)
		if len(keys) != 1 {
			t.Fatalf("JWKS has %d keys with kid %q", len(keys), kid)
		}
		var std josejwt.Claims
		var custom struct {
			SID      string         `json:"sid"`
			Email    string         `json:"email"`
			UserData map[string]any `json:"user_data"`
		}
		if err := tok.Claims(keys[0].Key, &std, &custom); err != nil {
			t.Fatalf("signature does not verify against the JWKS: %v", err)
		}
		if err := std.ValidateWithLeeway(josejwt.Expected{
			Issuer: e.url + "/apps/" + app, AnyAudience: josejwt.Audience{"atlas-app-id"}, Subject: user.GetUser().GetId(), Time: e.clock.Now(),
		}, 0); err != nil {
			t.Fatalf("claims: %v", err)
		}
		if life := std.Expiry.Time().Sub(std.IssuedAt.Time()); life != time.Hour {
			t.Errorf("exp - iat = %v, want the app's 1h token lifetime", life)
		}
		if custom.Email != "ann@example.com" || custom.UserData["name"] != "Ann" || custom.SID == "" {
			t.Errorf("custom claims = %+v", custom)
		}

		// The signing key the admin API lists is the one in the JWKS.
		ks, err := e.admin.ListSigningKeys(as(ctx, "", dev), &adminv1.ListSigningKeysRequest{AppId: app})
		if err != nil {
			t.Fatalf("ListSigningKeys = %v", err)
		}
		if k := ks.GetKeys(); len(k) != 1 || k[0].GetKid() != kid || !strings.Contains(k[0].GetPublicKeyPem(), "BEGIN PUBLIC KEY") ||
			k[0].GetJwk().AsMap()["kid"] != kid || k[0].GetState() != adminv1.KeyState_KEY_STATE_ACTIVE {
			t.Errorf("ListSigningKeys = %v, want one active key %q with PEM and JWK", k, kid)
		}

		// The OpenID configuration agrees with the token, and revalidation works.
		resp, err = e.http.Get(e.url + "/apps/" + app + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var oidc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&oidc)
		resp.Body.Close()
		if oidc.Issuer != std.Issuer || oidc.JWKSURI != e.url+"/apps/"+app+"/.well-known/jwks.json" {
			t.Errorf("openid-configuration = %+v", oidc)
		}
		req, _ := http.NewRequest(http.MethodGet, e.url+"/apps/"+app+"/.well-known/jwks.json", nil)
		req.Header.Set("If-None-Match", jwksETag)
		if code, err := statusOf(e.http, req); err != nil || code != http.StatusNotModified {
			t.Errorf("JWKS with If-None-Match = %v, %v; want 304", code, err)
		}
		if code, err := getStatus(e.http, e.url+"/apps/nope/.well-known/jwks.json"); err != nil || code != http.StatusNotFound {
			t.Errorf("JWKS of an unknown app = %v, %v; want 404", code, err)
		}
	})
}

// TestProtocols checks that one port serves Connect, gRPC and gRPC-Web over
// HTTP/1.1 and h2c, plus gRPC health, /healthz and /readyz.
func TestProtocols(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	// Plain HTTP/2 without TLS (prior knowledge), as gRPC clients speak it.
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}}
	for name, opts := range map[string][]connect.ClientOption{
		"grpc":     {connect.WithGRPC()},
		"grpc-web": {connect.WithGRPCWeb()},
		"connect":  {connect.WithProtoJSON()},
	} {
		c := authv1connect.NewAuthServiceClient(h2c, e.url, append(opts, connect.WithInterceptors(headers()))...)
		res, err := c.GetApplication(as(context.Background(), "console", ""), &authv1.GetApplicationRequest{})
		if err != nil || res.GetApplication().GetId() != "console" {
			t.Errorf("%s over h2c: GetApplication = %v, %v", name, res, err)
		}
	}
	hc := grpchealth.NewClient(h2c, e.url, connect.WithGRPC())
	if res, err := hc.Check(context.Background(), &grpchealth.CheckRequest{Service: authv1connect.AuthServiceName}); err != nil || res.Status != grpchealth.StatusServing {
		t.Errorf("grpc health = %v, %v", res, err)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if code, err := getStatus(e.http, e.url+path); err != nil || code != want {
			t.Errorf("GET %s = %v, %v; want %d", path, code, err, want)
		}
	}
	// Readiness follows the database.
	if err := e.p.store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, err := getStatus(e.http, e.url+"/readyz"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the database closed = %v, %v; want 503", code, err)
	}
}

// statusOf sends req and returns the answer's status, the body read and closed.
func statusOf(c *http.Client, req *http.Request) (int, error) {
	r, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	_, err = io.Copy(io.Discard, r.Body)
	return r.StatusCode, err
}

// getStatus is statusOf for a GET of url.
func getStatus(c *http.Client, url string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	return statusOf(c, req)
}

func h2cOnly() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}
