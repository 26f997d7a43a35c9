package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"

	"connectrpc.com/connect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// getJSON fetches url and decodes its JSON body into v.
func (e *env) getJSON(tb testing.TB, url string, v any) {
	tb.Helper()
	res, err := e.http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d %s", url, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("GET %s: %v in %s", url, err, b)
	}
}

// TestIntegrationSnippets: every snippet parses in its format (JSON, YAML,
// TOML, and the Node module by node --check) and names the JWKS URL, issuer
// and audience the server really serves and signs with; viewers read them,
// strangers get not-found, and curl JSON works.
func TestIntegrationSnippets(t *testing.T) {
	t.Parallel()
	node, nodeErr := exec.LookPath("node")
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		audience := []string{"my-atlas-app-id", "https://ps.example.com"}
		app := e.appWithNameField(t, dev, audience...)
		e.enableInvites(t, dev, app)
		viewer := e.member(t, app, "viewer@example.com", identity.RoleViewer)
		stranger := e.developer(t, "stranger@example.com")

		_, err := e.admin.GetIntegrationSnippets(as(ctx, "", stranger), &adminv1.GetIntegrationSnippetsRequest{AppId: app})
		if c, _ := reason(err); c != connect.CodeNotFound {
			t.Errorf("GetIntegrationSnippets(stranger) = %v, want NotFound", err)
		}
		res, err := e.admin.GetIntegrationSnippets(as(ctx, "", viewer), &adminv1.GetIntegrationSnippetsRequest{AppId: app})
		if err != nil {
			t.Fatalf("GetIntegrationSnippets(viewer) = %v", err)
		}

		// The values are the ones the server serves and signs with.
		var disc struct {
			Issuer  string `json:"issuer"`
			JwksURI string `json:"jwks_uri"`
		}
		e.getJSON(t, res.GetOpenidConfigurationUrl(), &disc)
		var jwks struct{ Keys []map[string]any }
		e.getJSON(t, res.GetJwksUrl(), &jwks)
		claims := jwtClaims(t, e.signUp(t, dev, app, "ann@example.com").GetAccessToken())
		jwksURL, issuer := e.url+"/apps/"+app+"/.well-known/jwks.json", e.url+"/apps/"+app
		if res.GetJwksUrl() != jwksURL || res.GetIssuer() != issuer || disc.Issuer != issuer || disc.JwksURI != jwksURL || len(jwks.Keys) == 0 ||
			claims["iss"] != issuer || fmtList(claims["aud"]) != strings.Join(audience, ",") {
			t.Fatalf("snippets name %s, %s; discovery %+v; %d keys; token iss %v aud %v; want %s, %s and aud %v",
				res.GetJwksUrl(), res.GetIssuer(), disc, len(jwks.Keys), claims["iss"], claims["aud"], jwksURL, issuer, audience)
		}

		byConsumer := map[string]*adminv1.Snippet{}
		for _, s := range res.GetSnippets() {
			byConsumer[s.GetConsumer()] = s
			if s.GetTitle() == "" || s.GetInstructions() == "" || s.GetContent() == "" {
				t.Errorf("snippet %s lacks a title, instructions or content: %v", s.GetConsumer(), s)
			}
		}
		for consumer, format := range map[string]string{"atlas-app-services": "json", "powersync": "yaml", "hasura": "json", "supabase": "toml", "oidc": "text"} {
			if s := byConsumer[consumer]; s == nil || s.GetFormat() != format {
				t.Fatalf("snippet %s = %v, want one in %s", consumer, s, format)
			}
		}

		var atlas map[string]struct {
			Type   string
			Config struct {
				Audience         []string
				SigningAlgorithm string
				UseJWKURI        bool
				JwkURI           string `json:"jwkURI"`
			}
			MetadataFields []struct {
				Required  bool
				Name      string
				FieldName string `json:"field_name"`
			} `json:"metadata_fields"`
		}
		mustParse(t, "atlas-app-services", json.Unmarshal([]byte(byConsumer["atlas-app-services"].GetContent()), &atlas))
		ct := atlas["custom-token"]
		var fields []string
		for _, f := range ct.MetadataFields {
			fields = append(fields, f.Name+"="+f.FieldName)
		}
		if ct.Type != "custom-token" || !ct.Config.UseJWKURI || ct.Config.JwkURI != jwksURL || ct.Config.SigningAlgorithm != "RS256" ||
			!slices.Equal(ct.Config.Audience, audience) || strings.Join(fields, " ") != "email=email user_data.name=name user_data.age=age team=team" {
			t.Errorf("Atlas provider = %+v, want the JWK URI, RS256, the audience and the email claim and the signup and invite fields by path", ct)
		}

		var ps struct {
			ClientAuth struct {
				JwksURI  string   `yaml:"jwks_uri"`
				Audience []string `yaml:"audience"`
			} `yaml:"client_auth"`
		}
		mustParse(t, "powersync", yaml.Unmarshal([]byte(byConsumer["powersync"].GetContent()), &ps))
		if ps.ClientAuth.JwksURI != jwksURL || !slices.Equal(ps.ClientAuth.Audience, audience) {
			t.Errorf("PowerSync client_auth = %+v, want the JWKS URL and the audience", ps.ClientAuth)
		}

		var hasura struct {
			JwkURL    string `json:"jwk_url"`
			Issuer    string
			Audience  []string
			ClaimsMap map[string]any `json:"claims_map"`
		}
		mustParse(t, "hasura", json.Unmarshal([]byte(byConsumer["hasura"].GetContent()), &hasura))
		if hasura.JwkURL != jwksURL || hasura.Issuer != issuer || !slices.Equal(hasura.Audience, audience) ||
			fmtList(hasura.ClaimsMap["x-hasura-user-id"].(map[string]any)["path"]) != "$.sub" || hasura.ClaimsMap["x-hasura-default-role"] != "user" {
			t.Errorf("Hasura JWT secret = %+v, want jwk_url, issuer, audience and the user id from sub", hasura)
		}

		var supabase struct {
			Auth struct {
				ThirdParty struct {
					WorkOS struct {
						Enabled   bool
						IssuerURL string `toml:"issuer_url"`
					} `toml:"workos"`
				} `toml:"third_party"`
			}
		}
		_, err = toml.Decode(byConsumer["supabase"].GetContent(), &supabase)
		mustParse(t, "supabase", err)
		if w := supabase.Auth.ThirdParty.WorkOS; !w.Enabled || w.IssuerURL != issuer {
			t.Errorf("Supabase third-party entry = %+v, want enabled with the issuer", w)
		}

		oidc := byConsumer["oidc"].GetContent()
		for _, want := range []string{`new URL("` + jwksURL + `")`, `issuer: "` + issuer + `"`, `audience: ["my-atlas-app-id","https://ps.example.com"]`, `algorithms: ["RS256"]`} {
			if !strings.Contains(oidc, want) {
				t.Errorf("oidc snippet lacks %s:\n%s", want, oidc)
			}
		}
		if nodeErr != nil {
			t.Fatalf("node is needed to parse the oidc snippet: %v", nodeErr)
		}
		file := filepath.Join(t.TempDir(), "verify.mjs")
		if err := os.WriteFile(file, []byte(oidc), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(node, "--check", file).CombinedOutput(); err != nil {
			t.Errorf("node --check on the oidc snippet: %v\n%s", err, out)
		}

		// Over curl JSON.
		r := e.adminJSON(t, dev, "GetIntegrationSnippets", `{"app_id":"`+app+`"}`)
		var body struct {
			JwksURL  string `json:"jwksUrl"`
			Snippets []struct{ Consumer string }
		}
		if err := json.Unmarshal(r.body, &body); r.status != http.StatusOK || err != nil || body.JwksURL != jwksURL || len(body.Snippets) != 5 {
			t.Errorf("GetIntegrationSnippets over JSON = %d %s", r.status, r.body)
		}
	})
}

func mustParse(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("the %s snippet does not parse: %v", what, err)
	}
}

// fmtList renders a JSON string or array of strings as "a,b".
func fmtList(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var out []string
		for _, s := range v {
			s, _ := s.(string)
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	return ""
}

// TestDocsIntegrations runs docs/integrations.md's commands against a real
// server: the snippets list, the discovery document, and the oidc snippet
// run with node and jose on a real user's token.
func TestDocsIntegrations(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("docs/integrations.md needs %s: %v", tool, err)
		}
	}
	script := shBlocks(docSection(t, "docs/integrations.md", "integrations"))
	if !strings.Contains(script, "verify.mjs") || !strings.Contains(script, "GetIntegrationSnippets") {
		t.Fatalf("the integrations check looks incomplete:\n%s", script)
	}
	e := newEnv(t, storetest.SQLite(t))
	dev := e.developer(t, "dev@example.com")
	app := e.appWithNameField(t, dev, "my-atlas-app-id")
	sess := e.signUp(t, dev, app, "ann@example.com")
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.ReplaceAll(script, "http://localhost:8080", e.url))
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "APP="+app, "DEV="+dev, "TOKEN="+sess.GetAccessToken())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs/integrations.md commands failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"atlas-app-services (json)", "powersync (yaml)", "hasura (json)", "supabase (toml)", "oidc (text)",
		e.url + "/apps/" + app + "/.well-known/jwks.json", "verified " + sess.GetUser().GetId(),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("docs/integrations.md output lacks %q:\n%s", want, out)
		}
	}
}
