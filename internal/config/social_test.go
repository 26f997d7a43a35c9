package config_test

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadSocialProviders(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil)
	if err != nil {
		t.Fatalf("Load(no settings) = %v", err)
	}
	if c.AppleJWKSURL != "https://appleid.apple.com/auth/keys" || c.AppleIssuer != "https://appleid.apple.com" ||
		c.GoogleJWKSURL != "https://www.googleapis.com/oauth2/v3/certs" ||
		strings.Join(c.GoogleIssuers, ",") != "accounts.google.com,https://accounts.google.com" {
		t.Errorf("Load(no settings) providers = %q %q %q %q, want the real Apple and Google",
			c.AppleJWKSURL, c.AppleIssuer, c.GoogleJWKSURL, c.GoogleIssuers)
	}

	c, err = load(t, map[string]string{
		"COSYNC_APPLE_JWKS_URL":  "http://127.0.0.1:8091/apple/keys",
		"COSYNC_APPLE_ISSUER":    "https://apple.mirror.internal",
		"COSYNC_GOOGLE_JWKS_URL": "https://mirror.internal/google/certs",
		"COSYNC_GOOGLE_ISSUERS":  " https://accounts.google.com ,, ",
	})
	if err != nil {
		t.Fatalf("Load(test IdP) = %v", err)
	}
	if c.AppleJWKSURL != "http://127.0.0.1:8091/apple/keys" || c.AppleIssuer != "https://apple.mirror.internal" ||
		c.GoogleJWKSURL != "https://mirror.internal/google/certs" || !slices.Equal(c.GoogleIssuers, []string{"https://accounts.google.com"}) {
		t.Errorf("Load(test IdP) providers = %q %q %q %q", c.AppleJWKSURL, c.AppleIssuer, c.GoogleJWKSURL, c.GoogleIssuers)
	}

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"apple JWKS not a URL", map[string]string{"COSYNC_APPLE_JWKS_URL": "appleid.apple.com/auth/keys"}, "COSYNC_APPLE_JWKS_URL"},
		{"apple JWKS empty", map[string]string{"COSYNC_APPLE_JWKS_URL": ""}, "COSYNC_APPLE_JWKS_URL"},
		{"google JWKS not http", map[string]string{"COSYNC_GOOGLE_JWKS_URL": "file:///etc/certs.json"}, "COSYNC_GOOGLE_JWKS_URL"},
		{"apple issuer empty", map[string]string{"COSYNC_APPLE_ISSUER": " "}, "COSYNC_APPLE_ISSUER"},
		{"google issuers empty", map[string]string{"COSYNC_GOOGLE_ISSUERS": " , "}, "COSYNC_GOOGLE_ISSUERS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env)
			if vars := badVars(err); !slices.Contains(vars, tc.want) {
				t.Errorf("Load(%v) = %v, want an error naming %s", tc.env, err, tc.want)
			}
		})
	}
}
