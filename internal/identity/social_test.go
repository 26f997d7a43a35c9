package identity_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/social"
	"github.com/cosync/cosync-auth/internal/social/socialtest"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// TestReauthenticateSocial: the proof DeleteAccount takes from a social-only
// user is a fresh ID token of one of their own linked identities.
func TestReauthenticateSocial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.SQLite(t)
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	apple, google := socialtest.Start(t, social.Apple), socialtest.Start(t, social.Google)
	apple.Now, google.Now = clk.Now, clk.Now
	v := social.New(social.Config{AppleJWKSURL: apple.URL, GoogleJWKSURL: google.URL}, &http.Client{Timeout: 5 * time.Second}, clk.Now)
	t.Cleanup(v.Close)
	svc := identity.New(identity.Deps{Store: st, Social: v, Now: clk.Now}, identity.Config{})

	settings := identity.DefaultSettings()
	settings.Apple = identity.AppleSettings{Enabled: true, BundleIDs: []string{"com.example.notes"}}
	a := identity.App{ID: "app1", Name: "Notes", Settings: settings, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := st.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	users := map[string]identity.User{}
	for _, id := range []string{"ann", "bo"} {
		u := identity.User{ID: id, AppID: a.ID, Email: id + "@example.com", Status: identity.UserActive, TwoFactor: identity.TwoFactorNone,
			Locale: "en", CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
		if err := st.CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
		users[id] = u
		li := identity.LinkedIdentity{ID: "li-" + id, AppID: a.ID, UserID: id, Provider: social.Apple, Subject: "apple." + id, CreatedAt: clk.Now()}
		if err := st.CreateIdentity(ctx, li); err != nil {
			t.Fatal(err)
		}
	}
	ann := users["ann"]
	mint := func(sub string, age time.Duration, nonce string) string {
		return apple.MustMint(t, socialtest.Token{Subject: sub, Audience: "com.example.notes", IssuedAt: clk.Now().Add(-age), Nonce: nonce})
	}
	withNonce := mint("apple.ann", 0, "n-1")
	googleOff := google.MustMint(t, socialtest.Token{Subject: "g.ann", Audience: "web"})
	tests := []struct {
		name, provider, token, nonce string
		kind                         apperr.Kind // apperr.Internal stands for no error
		reason                       apperr.Reason
	}{
		{"fresh token of her identity", "apple", mint("apple.ann", 0, ""), "", apperr.Internal, ""},
		{"the API's provider name", "PROVIDER_APPLE", mint("apple.ann", time.Minute, ""), "", apperr.Internal, ""},
		{"with a nonce", "apple", withNonce, "n-1", apperr.Internal, ""},
		{"the same nonce again", "apple", withNonce, "n-1", apperr.Unauthenticated, apperr.ReasonNonceInvalid},
		{"issued six minutes ago", "apple", mint("apple.ann", 6*time.Minute, ""), "", apperr.Unauthenticated, apperr.ReasonIDTokenInvalid},
		{"another user's identity", "apple", mint("apple.bo", 0, ""), "", apperr.Unauthenticated, apperr.ReasonIDTokenInvalid},
		{"an identity linked to nobody", "apple", mint("apple.cy", 0, ""), "", apperr.Unauthenticated, apperr.ReasonIDTokenInvalid},
		{"forged", "apple", apple.MustMint(t, socialtest.Token{Subject: "apple.ann", Audience: "com.example.notes", Forged: true}), "", apperr.Unauthenticated, apperr.ReasonIDTokenInvalid},
		{"provider not enabled", "google", googleOff, "", apperr.Precondition, apperr.ReasonProviderDisabled},
		{"unknown provider", "facebook", mint("apple.ann", 0, ""), "", apperr.Invalid, apperr.ReasonInvalidArgument},
		{"no provider", "", mint("apple.ann", 0, ""), "", apperr.Invalid, apperr.ReasonInvalidArgument},
	}
	for _, tt := range tests {
		err := identity.ReauthenticateSocial(svc, ctx, a, ann, tt.provider, tt.token, tt.nonce)
		if tt.kind == apperr.Internal {
			if err != nil {
				t.Errorf("reauthenticateSocial(%s) = %v, want nil", tt.name, err)
			}
			continue
		}
		if apperr.KindOf(err) != tt.kind || apperr.ReasonOf(err) != tt.reason {
			t.Errorf("reauthenticateSocial(%s) = %v, want %v %s", tt.name, err, tt.kind, tt.reason)
		}
	}
}
