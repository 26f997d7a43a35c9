package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/cosync/cosync-auth/internal/apperr"
	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/keys"
	"github.com/cosync/cosync-auth/internal/secrets"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/vault"
)

// keyParts are what COSYNC_SIGNER decides: who signs tokens, which Box
// seals secrets at rest, and the pepper of one-time codes.
type keyParts struct {
	signer keys.Signer
	// box seals new secrets and opens stored ones. Under Vault it is a
	// chain of the Transit box and, when a master key is at hand, the local
	// box it replaces, so secrets sealed before the move still open until
	// `secrets rekey` has sealed them again.
	box     secrets.Box
	local   *secrets.Local   // nil under Vault without a master key
	transit *secrets.Transit // nil with the local signer
	pepper  []byte
	vault   *vault.Client // nil with the local signer; Close it
}

// codePepperSecret names the deployment secret that peppers one-time code
// hashes under Vault.
const codePepperSecret = "one-time-codes"

// codePepperPurpose derives the pepper from the master key (local signer).
const codePepperPurpose = "one-time codes"

// newKeyParts builds the parts of cfg.Signer. With the local signer the
// master key (COSYNC_MASTER_KEY, or master.key in the data dir, created on
// first start) seals private keys and secrets and derives the pepper. With
// Vault nothing secret needs to live outside Vault: signing keys are
// Transit keys, secrets go through a derived Transit key, and the pepper is
// a deployment secret sealed by that key in the database, shared by every
// replica.
func newKeyParts(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, hc *http.Client) (keyParts, error) {
	if cfg.Signer != "vault" {
		master, err := masterKey(cfg, log)
		if err != nil {
			return keyParts{}, err
		}
		local, err := secrets.NewLocal(master)
		if err != nil {
			return keyParts{}, fmt.Errorf("COSYNC_MASTER_KEY: %w", err)
		}
		return keyParts{signer: keys.NewLocalSigner(local), box: local, local: local, pepper: secrets.DeriveKey(master, codePepperPurpose)}, nil
	}

	v, err := vault.New(ctx, vault.Config{
		Addr: cfg.VaultAddr, Token: cfg.VaultToken, RoleID: cfg.VaultRoleID, SecretID: cfg.VaultSecretID,
		HTTPClient: hc, Timeout: cfg.VaultTimeout, Log: log,
	})
	if err != nil {
		return keyParts{}, fmt.Errorf("VAULT_ADDR: %w", err)
	}
	kp, err := vaultParts(ctx, cfg, log, st, v)
	if err != nil {
		v.Close()
		return keyParts{}, err
	}
	return kp, nil
}

func vaultParts(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, v *vault.Client) (keyParts, error) {
	transit, err := secrets.NewTransit(ctx, v, cfg.VaultTransitMount, "")
	if err != nil {
		return keyParts{}, fmt.Errorf("vault transit at %s/%s: %w", cfg.VaultAddr, cfg.VaultTransitMount, err)
	}
	kp := keyParts{
		signer:  keys.NewVaultSigner(v, keys.VaultConfig{Mount: cfg.VaultTransitMount}),
		box:     transit,
		transit: transit,
		vault:   v,
	}
	master, err := existingMasterKey(cfg)
	if err != nil {
		return keyParts{}, err
	}
	if master != nil {
		if kp.local, err = secrets.NewLocal(master); err != nil {
			return keyParts{}, fmt.Errorf("COSYNC_MASTER_KEY: %w", err)
		}
		kp.box = secrets.Chain(transit, kp.local)
		log.InfoContext(ctx, "vault signer: the local master key still opens secrets sealed before the move; run `cosync-auth secrets rekey` to seal them with Vault")
	}
	if kp.pepper, err = deploymentSecret(ctx, st, kp.box, codePepperSecret, func() []byte {
		if master != nil {
			// The pepper the local signer derived: codes mailed before the
			// move keep working.
			return secrets.DeriveKey(master, codePepperPurpose)
		}
		return nil
	}); err != nil {
		return keyParts{}, fmt.Errorf("one-time code pepper: %w", err)
	}
	return kp, nil
}

// existingMasterKey returns the master key if one is configured or its
// file exists, and nil otherwise: under Vault it is only needed to read
// what it sealed before, so it is never created.
func existingMasterKey(cfg config.Config) ([]byte, error) {
	if cfg.MasterKey != "" {
		k, err := secrets.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return nil, fmt.Errorf("COSYNC_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	if _, err := os.Stat(cfg.MasterKeyPath()); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	k, _, err := secrets.LoadOrCreateMasterKey(cfg.MasterKeyPath())
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

// deploymentSecret returns the deployment secret name, sealed with box in
// the database. The first replica to need it stores initial() (or 32
// random bytes when that is nil); replicas starting together agree on one.
func deploymentSecret(ctx context.Context, st *store.Store, box secrets.Box, name string, initial func() []byte) ([]byte, error) {
	ad := store.DeploymentSecretAssociatedData(name)
	sealed, err := st.DeploymentSecret(ctx, name)
	if apperr.Is(err, apperr.NotFound) {
		secret := initial()
		if secret == nil {
			secret = make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				return nil, err
			}
		}
		ct, serr := box.Seal(ctx, secret, ad)
		clear(secret)
		if serr != nil {
			return nil, serr
		}
		if _, err := st.AddDeploymentSecret(ctx, name, ct, time.Now()); err != nil {
			return nil, err
		}
		sealed, err = st.DeploymentSecret(ctx, name) // ours, or the replica's that won
	}
	if err != nil {
		return nil, err
	}
	return box.Open(ctx, sealed, ad)
}
