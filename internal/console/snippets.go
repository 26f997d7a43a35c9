package console

// Integration snippets: ready configuration for the services that trust an
// app's tokens. Each names the app's real JWKS URL, issuer and audience;
// docs/integrations.md explains them, and a test parses each in its format.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

// Snippet formats.
const (
	FormatJSON = "json"
	FormatYAML = "yaml"
	FormatTOML = "toml"
	FormatText = "text"
)

// Snippet is ready configuration for one token consumer.
type Snippet struct {
	Consumer     string // "atlas-app-services", "powersync", "hasura", "supabase", "oidc"
	Format       string // FormatJSON, …
	Title        string
	Instructions string // where to paste Content, and what to check
	Content      string
}

// Integration is what a token consumer needs to trust an app's tokens.
type Integration struct {
	JWKSURL                string
	Issuer                 string
	OpenIDConfigurationURL string
	Audience               []string // the tokens' aud
	Snippets               []Snippet
}

// IntegrationSnippets returns the app's integration snippets; viewers may
// read them.
func (s *Service) IntegrationSnippets(ctx context.Context, d identity.Developer, appID string) (Integration, error) {
	m, err := s.member(ctx, d, appID, identity.RoleViewer)
	if err != nil {
		return Integration{}, err
	}
	return Snippets(m.App, s.publicURL), nil
}

// Snippets builds the integration snippets of app a served at publicURL.
func Snippets(a identity.App, publicURL string) Integration {
	in := Integration{
		JWKSURL:  identity.JWKSURL(publicURL, a.ID),
		Issuer:   identity.Issuer(publicURL, a.ID),
		Audience: a.EffectiveAudience(),
	}
	in.OpenIDConfigurationURL = in.Issuer + "/.well-known/openid-configuration"
	in.Snippets = []Snippet{atlasSnippet(a, in), powerSyncSnippet(a, in), hasuraSnippet(in), supabaseSnippet(in), oidcSnippet(in)}
	return in
}

// js renders v as JSON, which is also a valid YAML, TOML (strings and
// arrays of strings) and JavaScript literal.
func js(v any) string { return encode(v, "") }

func indentJSON(v any) string { return encode(v, "  ") }

func encode(v any, indent string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		panic(err) // maps, strings and slices of them always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func atlasSnippet(a identity.App, in Integration) Snippet {
	type field struct {
		Required  bool   `json:"required"`
		Name      string `json:"name"`
		FieldName string `json:"field_name"`
	}
	// Every metadata claim at its path, named by its last segment (the
	// whole path, underscored, where two would clash). None is required:
	// anonymous, social and invited users may lack a signup field, and
	// Atlas refuses a token without a required one.
	var paths []string
	seen, count := map[string]bool{}, map[string]int{}
	if a.Settings.EmailClaim {
		count["email"]++
	}
	for _, fs := range [][]identity.MetadataField{a.Settings.SignupMetadataFields, a.Settings.InviteMetadataFields} {
		for _, f := range fs {
			if !seen[f.Path] {
				seen[f.Path] = true
				paths = append(paths, f.Path)
				count[f.Path[strings.LastIndex(f.Path, ".")+1:]]++
			}
		}
	}
	var fields []field
	if a.Settings.EmailClaim {
		fields = append(fields, field{Name: "email", FieldName: "email"})
	}
	for _, p := range paths {
		name := p[strings.LastIndex(p, ".")+1:]
		if count[name] > 1 {
			name = strings.ReplaceAll(p, ".", "_")
		}
		fields = append(fields, field{Name: p, FieldName: name})
	}
	if fields == nil {
		fields = []field{}
	}
	provider := map[string]any{"custom-token": map[string]any{
		"name": "custom-token", "type": "custom-token", "disabled": false,
		"config": map[string]any{
			"audience": in.Audience, "requireAnyAudience": true, "signingAlgorithm": "RS256",
			"useJWKURI": true, "jwkURI": in.JWKSURL,
		},
		"secret_config":   map[string]any{"signingKeys": []string{}},
		"metadata_fields": fields,
	}}
	return Snippet{
		Consumer: "atlas-app-services", Format: FormatJSON, Title: "MongoDB Atlas App Services: Custom JWT Authentication",
		Instructions: fmt.Sprintf("In App Services, Authentication > Custom JWT: Verification Method \"Use a JWK URI\" with %s, "+
			"Audience %s, and the metadata fields below; or put this provider in auth/providers.json and push the app. "+
			"Atlas expects its App ID in aud by default: set this application's audience to it.",
			in.JWKSURL, strings.Join(in.Audience, ", ")),
		Content: indentJSON(provider),
	}
}

func powerSyncSnippet(a identity.App, in Integration) Snippet {
	instr := "Self-hosted: add to the PowerSync service's config file. PowerSync Cloud: enter the JWKS URI and audience under " +
		"the instance's Client Auth settings. PowerSync wants aud to name the instance (its URL, or a custom audience): " +
		"add it to this application's audience."
	if a.Settings.TokenLifetime > time.Hour {
		instr += fmt.Sprintf(" PowerSync refuses tokens that live over an hour; this application's live %s: shorten its token lifetime.", a.Settings.TokenLifetime)
	}
	return Snippet{
		Consumer: "powersync", Format: FormatYAML, Title: "PowerSync: client authentication", Instructions: instr,
		Content: "client_auth:\n  jwks_uri: " + js(in.JWKSURL) + "\n  audience: " + js(in.Audience) + "\n",
	}
}

func hasuraSnippet(in Integration) Snippet {
	var aud any = in.Audience
	if len(in.Audience) == 1 {
		aud = in.Audience[0]
	}
	secret := map[string]any{
		"jwk_url": in.JWKSURL, "issuer": in.Issuer, "audience": aud,
		// Tokens carry no x-hasura-* claims: every signed-in user gets the
		// role "user", and the user id is the token's sub.
		"claims_map": map[string]any{
			"x-hasura-allowed-roles": []string{"user"},
			"x-hasura-default-role":  "user",
			"x-hasura-user-id":       map[string]any{"path": "$.sub"},
		},
	}
	return Snippet{
		Consumer: "hasura", Format: FormatJSON, Title: "Hasura: HASURA_GRAPHQL_JWT_SECRET",
		Instructions: "Set the environment variable HASURA_GRAPHQL_JWT_SECRET of the Hasura GraphQL Engine to this JSON " +
			"(an admin secret must be set too). Every signed-in user gets the role \"user\" and X-Hasura-User-Id is the token's sub; " +
			"change claims_map to fit your permissions.",
		Content: indentJSON(secret),
	}
}

func supabaseSnippet(in Integration) Snippet {
	return Snippet{
		Consumer: "supabase", Format: FormatTOML, Title: "Supabase: third-party auth",
		Instructions: "Supabase trusts a fixed list of third-party issuers. Its WorkOS entry takes any OpenID Connect issuer URL " +
			"and reads the signing keys from the issuer's discovery document (" + in.OpenIDConfigurationURL + "), which this server " +
			"publishes: add this to supabase/config.toml, or the same issuer URL under Authentication > Third-party Auth. " +
			"Supabase picks the Postgres role from a role claim, which these tokens do not carry, so requests run as anon: " +
			"write row-level security policies on auth.jwt() ->> 'sub'.",
		Content: "[auth.third_party.workos]\nenabled = true\nissuer_url = " + js(in.Issuer) + "\n",
	}
}

func oidcSnippet(in Integration) Snippet {
	var aud any = in.Audience
	if len(in.Audience) == 1 {
		aud = in.Audience[0]
	}
	return Snippet{
		Consumer: "oidc", Format: FormatText, Title: "Any OpenID Connect / JOSE verifier (Node, jose)",
		Instructions: "Verify a token anywhere with a JOSE library: signature by a key of the JWKS (RS256), issuer, audience and expiry. " +
			"Save as verify.mjs next to `npm install jose`, then run TOKEN=<access token> node verify.mjs. " +
			"Other libraries take the same four values, or discover them from " + in.OpenIDConfigurationURL + ".",
		Content: "import { createRemoteJWKSet, jwtVerify } from \"jose\";\n\n" +
			"const jwks = createRemoteJWKSet(new URL(" + js(in.JWKSURL) + "));\n" +
			"const { payload } = await jwtVerify(process.env.TOKEN, jwks, {\n" +
			"  issuer: " + js(in.Issuer) + ",\n" +
			"  audience: " + js(aud) + ",\n" +
			"  algorithms: [\"RS256\"],\n" +
			"});\n" +
			"console.log(\"verified\", payload.sub);\n",
	}
}
