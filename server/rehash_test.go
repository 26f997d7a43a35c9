package main

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// TestRehashOnLogin: when the argon2 parameters change, a login upgrades
// the stored hash — also for a user whose login waits on a second factor.
func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	st := sqliteStore(t)
	key := withMasterKey(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	old := newEnv(t, st, key) // the suite's 1 MiB, 1 pass
	dev := old.developer(t, "dev@example.com")
	app := old.tfApp(t, dev, authv1.TwoFactorMethod_TWO_FACTOR_METHOD_TOTP, nil)
	for _, h := range []string{"ann@example.com", "bob@example.com"} {
		md := mustStruct(t, map[string]any{"user_data": map[string]any{"name": "X"}})
		if _, err := old.auth.SignUp(as(context.Background(), app, ""), &authv1.SignUpRequest{Handle: h, Password: "long-enough-pw", Metadata: md}); err != nil {
			t.Fatal(err)
		}
		s, err := old.auth.CompleteSignUp(as(context.Background(), app, ""), &authv1.CompleteSignUpRequest{Handle: h, Code: old.outboxCode(t, dev, app, h)})
		if err != nil {
			t.Fatal(err)
		}
		if h == "bob@example.com" {
			old.enrollTOTP(t, app, s.GetSession().GetAccessToken())
		}
	}

	stronger := newEnv(t, st, key, withArgon2(2048, 2))
	for _, h := range []string{"ann@example.com", "bob@example.com"} {
		res, err := stronger.auth.Login(as(context.Background(), app, ""), &authv1.LoginRequest{Handle: h, Password: "long-enough-pw"})
		if err != nil {
			t.Fatalf("Login(%q) = %v", h, err)
		}
		u, err := st.FindUserByEmail(context.Background(), app, h)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := st.PasswordHash(context.Background(), app, u.ID)
		if err != nil || !strings.Contains(hash, "m=2048,t=2") {
			t.Errorf("after Login(%q) (challenge: %v) the hash is %q, want it upgraded to m=2048,t=2", h, res.GetChallenge() != nil, hash)
		}
	}
}
