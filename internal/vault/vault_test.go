package vault_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/vault"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

func TestErr(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	resp := func(code int) error { return &api.ResponseError{StatusCode: code, Errors: []string{"x"}} }
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		kind apperr.Kind
	}{
		{"sealed", context.Background(), resp(http.StatusServiceUnavailable), apperr.Unavailable},
		{"server error", context.Background(), resp(http.StatusInternalServerError), apperr.Unavailable},
		{"rate limited", context.Background(), resp(http.StatusTooManyRequests), apperr.Unavailable},
		{"token refused", context.Background(), resp(http.StatusForbidden), apperr.Unavailable},
		{"bad request", context.Background(), resp(http.StatusBadRequest), apperr.Internal},
		{"not found", context.Background(), resp(http.StatusNotFound), apperr.Internal},
		{"connection refused", context.Background(), &url.Error{Op: "Put", URL: "http://v", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, apperr.Unavailable},
		{"our timeout", context.Background(), fmt.Errorf("put: %w", context.DeadlineExceeded), apperr.Unavailable},
		{"garbage", context.Background(), errors.New("unexpected JSON"), apperr.Internal},
		{"already classified", context.Background(), apperr.New(apperr.Precondition, "", "x"), apperr.Precondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := apperr.KindOf(vault.Err(tc.ctx, "op", tc.err)); got != tc.kind {
				t.Errorf("Err(%v) kind = %v, want %v", tc.err, got, tc.kind)
			}
		})
	}
	// The caller giving up is its own error, not Vault's outage.
	if err := vault.Err(canceled, "op", fmt.Errorf("put: %w", context.Canceled)); !errors.Is(err, context.Canceled) || apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Err(canceled) = %v, want context.Canceled", err)
	}
	if vault.Err(context.Background(), "op", nil) != nil {
		t.Errorf("Err(nil) != nil")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]vault.Config{
		"no address":      {Token: "t"},
		"not a URL":       {Addr: "vault:8200", Token: "t"},
		"no credentials":  {Addr: "http://127.0.0.1:1"},
		"role, no secret": {Addr: "http://127.0.0.1:1", RoleID: "r"},
	} {
		if _, err := vault.New(context.Background(), cfg); err == nil {
			t.Errorf("%s: New = nil, want an error", name)
		}
	}
}

// TestToken: a token client answers Check while Vault is up, and reports
// Unavailable, not a crash, while it is sealed.
func TestToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c, err := vault.New(ctx, vault.Config{Addr: srv.Addr, Token: srv.Token})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	defer c.Close()
	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check = %v", err)
	}
	if s, err := c.Read(ctx, "transit/keys/none"); s != nil || err != nil {
		t.Errorf("Read(missing) = %v, %v; want nil, nil", s, err)
	}
	bad, err := vault.New(ctx, vault.Config{Addr: srv.Addr, Token: "not-a-token"})
	if err != nil {
		t.Fatalf("New(bad token) = %v; a bad token shows in Check", err)
	}
	defer bad.Close()
	if err := bad.Check(ctx); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Check(bad token) = %v, want Unavailable", err)
	}
	srv.Seal(t)
	if err := c.Check(ctx); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Check(sealed) = %v, want Unavailable", err)
	}
	srv.Unseal(t)
	if err := c.Check(ctx); err != nil {
		t.Errorf("Check(unsealed) = %v", err)
	}
}

// TestAppRole logs in with a role whose tokens live three seconds: the
// client logs in again before they expire, and after a revocation, so
// calls keep working well past the first token's life.
func TestAppRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := vaulttest.Start(t)
	roleID, secretID := srv.AppRole(t, "cosync", `path "transit/*" { capabilities = ["create", "read", "update"] }`, 3*time.Second)

	if _, err := vault.New(ctx, vault.Config{Addr: srv.Addr, RoleID: roleID, SecretID: "wrong"}); err == nil {
		t.Fatalf("New(wrong secret id) = nil, want an error")
	}
	c, err := vault.New(ctx, vault.Config{Addr: srv.Addr, RoleID: roleID, SecretID: secretID})
	if err != nil {
		t.Fatalf("New(approle) = %v", err)
	}
	defer c.Close()
	write := func(what string) {
		t.Helper()
		if _, err := c.Write(ctx, "transit/keys/k", map[string]any{"type": "aes256-gcm96"}); err != nil {
			t.Fatalf("%s: Write = %v", what, err)
		}
	}
	write("fresh login")
	time.Sleep(5 * time.Second) // past the first token's TTL
	write("after the first token's TTL")
	if err := c.Check(ctx); err != nil {
		t.Errorf("Check = %v", err)
	}
	// Revoke every token of the role: the next call logs in again.
	if _, err := srv.Client(t).Logical().Write("sys/leases/revoke-prefix/auth/approle/login", nil); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	write("after revocation")
	// The policy still binds: a path outside it is refused, as Unavailable
	// (the operator's fix, not the caller's), after one fresh login.
	if _, err := c.Write(ctx, "sys/mounts/kv", map[string]any{"type": "kv"}); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("Write outside the policy = %v, want Unavailable", err)
	}
}
