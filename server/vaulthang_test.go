package main

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/vaulttest"
)

// TestVaultHang: a Vault that hangs (its process stopped with SIGSTOP: the
// port accepts, nothing answers) makes Login and RefreshSession answer
// Unavailable SIGNER_UNAVAILABLE once the Vault client's per-call timeout
// (COSYNC_VAULT_TIMEOUT) gives up, while the caller's own deadline (a
// minute, far past it) still runs: not deadline_exceeded, which is the
// caller's deadline only. The refresh token refused meanwhile still works
// when Vault comes back.
func TestVaultHang(t *testing.T) {
	t.Parallel()
	srv := vaulttest.Start(t)
	e := closeVault(t, newEnv(t, sqliteStore(t), withVaultSigner(srv)))
	dev := e.developer(t, "dev@example.com")
	app := e.noneFlowApp(t, dev, nil)
	refresh := e.signUpNone(t, app, "ann@example.com").GetRefreshToken()

	srv.Pause(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.auth.Login(as(ctx, app, ""), &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"})
	wantReason(t, "Login with Vault stopped", err, connect.CodeUnavailable, apperr.ReasonSignerUnavailable)
	_, err = e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh})
	wantReason(t, "RefreshSession with Vault stopped", err, connect.CodeUnavailable, apperr.ReasonSignerUnavailable)

	srv.Resume(t)
	if tok := e.login(t, app, "ann@example.com", "long-enough-pw"); tok == "" {
		t.Errorf("Login after Vault resumed: no token")
	}
	if _, err := e.auth.RefreshSession(as(ctx, app, ""), &authv1.RefreshSessionRequest{RefreshToken: refresh}); err != nil {
		t.Errorf("RefreshSession after Vault resumed = %v (the refused refresh must not have spent the token)", err)
	}
}
