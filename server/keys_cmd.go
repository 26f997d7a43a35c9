package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/secrets"
)

// keyUpkeepEvery is how often serve runs the signing-key upkeep pass
// (retirements, scheduled rotations); each replica adds up to a fifth of
// it at random, so replicas rarely run it at the same moment.
const keyUpkeepEvery = 10 * time.Minute

// keyUpkeepTimeout bounds one pass.
const keyUpkeepTimeout = 2 * time.Minute

// upkeepKeys runs one pass of signing-key upkeep and logs what it did.
func upkeepKeys(ctx context.Context, p *parts) {
	ctx, cancel := context.WithTimeout(ctx, keyUpkeepTimeout)
	defer cancel()
	up, err := p.console.MaintainKeys(ctx)
	if len(up.Rotated) > 0 || len(up.Retired) > 0 {
		p.log.InfoContext(ctx, "signing key upkeep", "rotated", len(up.Rotated), "retired", len(up.Retired))
	}
	if err != nil {
		p.log.WarnContext(ctx, "signing key upkeep failed; next pass retries", "err", err)
	}
}

// runKeyUpkeep runs upkeepKeys every keyUpkeepEvery (plus jitter) until
// ctx ends.
func runKeyUpkeep(ctx context.Context, p *parts, every time.Duration) {
	for {
		wait := every + rand.N(every/5+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		upkeepKeys(ctx, p)
	}
}

const keysUsage = "usage: cosync-auth keys rotate --app ID"

// keysCmd runs `cosync-auth keys rotate --app ID`: the app's key is
// replaced by a new one of the configured signer, and the old one keeps
// verifying until the tokens it signed have expired.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("cosync-auth keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	appID := fs.String("app", "", "the application whose signing key to rotate (required)")
	cfg, err := config.Load(fs, args[1:], config.Environ)
	if err != nil {
		return err
	}
	if *appID == "" {
		return errors.New("keys rotate: --app is required")
	}
	p, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer p.close()
	rec, err := p.console.RotateAppKey(ctx, *appID)
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(stdout, "app %s now signs with key %s (%s); the previous key keeps verifying until its tokens expire\n", *appID, rec.KID, rec.Backend)
	return nil
}

const secretsUsage = "usage: cosync-auth secrets rekey [--rotate-vault-key]"

// secretsCmd runs `cosync-auth secrets rekey`: every stored secret is
// opened and sealed again with the configured Box — after moving to Vault,
// or after rotating the Vault key (--rotate-vault-key does that first).
func secretsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rekey" {
		return errors.New(secretsUsage)
	}
	fs := flag.NewFlagSet("cosync-auth secrets rekey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rotate := fs.Bool("rotate-vault-key", false, "first rotate the Vault Transit key secrets are sealed with (COSYNC_SIGNER=vault)")
	cfg, err := config.Load(fs, args[1:], config.Environ)
	if err != nil {
		return err
	}
	p, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer p.close()
	var to secrets.Box = p.local
	if p.transit != nil {
		to = p.transit
	}
	if *rotate {
		if p.transit == nil {
			return errors.New("secrets rekey: --rotate-vault-key needs COSYNC_SIGNER=vault")
		}
		if err := p.transit.Rotate(ctx); err != nil {
			return fmt.Errorf("secrets rekey: %w", err)
		}
	}
	res, err := secrets.Rekey(ctx, p.box, to, p.store.SealedColumns())
	for _, r := range res {
		fmt.Fprintf(stdout, "%s: %d sealed again", r.Column, r.Resealed)
		if r.Changed > 0 {
			fmt.Fprintf(stdout, ", %d changed meanwhile and left alone", r.Changed)
		}
		fmt.Fprintln(stdout)
	}
	if err != nil {
		return fmt.Errorf("secrets rekey: %w", err)
	}
	return nil
}
