package identity_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/identity"
)

func TestNewAPIKeySecret(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^csk_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$`)
	seen := map[identity.Secret]bool{}
	for range 100 {
		secret, prefix, hash, err := identity.NewAPIKeySecret()
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(secret.Reveal())
		if m == nil || m[1] != prefix {
			t.Fatalf("NewAPIKeySecret() = %q, prefix %q; want csk_<prefix>_<43 base64url>", secret.Reveal(), prefix)
		}
		if hash != identity.APIKeyHash(secret.Reveal()) || len(hash) != 64 {
			t.Errorf("hash %q is not the SHA-256 hex of the secret", hash)
		}
		if seen[secret] {
			t.Fatalf("NewAPIKeySecret repeated %q", secret.Reveal())
		}
		seen[secret] = true
		if s := secret.String(); s == secret.Reveal() {
			t.Errorf("a secret prints itself: %q", s)
		}
	}
}

func TestAPIKeyLive(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		key  identity.APIKey
		want bool
	}{
		{"no expiry", identity.APIKey{}, true},
		{"expires later", identity.APIKey{ExpiresAt: now.Add(time.Second)}, true},
		{"expires now", identity.APIKey{ExpiresAt: now}, false},
		{"expired", identity.APIKey{ExpiresAt: now.Add(-time.Second)}, false},
		{"revoked", identity.APIKey{RevokedAt: now.Add(-time.Hour)}, false},
	} {
		if got := tc.key.Live(now); got != tc.want {
			t.Errorf("%s: Live = %v, want %v", tc.name, got, tc.want)
		}
	}
}
