package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/cosyncjwt"
)

const importUsage = "usage: cosync-auth import cosyncjwt --app ID [--dry-run] FILE (the export's ZIP or user-collection.csv)"

// importCmd runs `cosync-auth import cosyncjwt --app ID [--dry-run] FILE`
// and prints the report: how many users were imported, and every row
// skipped or imported with a caveat, with why.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "cosyncjwt" {
		return errors.New(importUsage)
	}
	fs := flag.NewFlagSet("cosync-auth import cosyncjwt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	appID := fs.String("app", "", "the application to import into (required)")
	dry := fs.Bool("dry-run", false, "report what would be imported and write nothing")
	cfg, err := config.Load(fs, args[1:], config.Environ)
	if err != nil {
		return err
	}
	if *appID == "" || fs.NArg() != 1 {
		return errors.New(importUsage)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	ex, err := cosyncjwt.ReadExport(f)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	p, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer p.close()
	im := p.cosyncImporter(time.Now)
	im.Actor = "cli"
	rep, err := im.Import(ctx, *appID, ex, *dry)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	printImport(stdout, rep)
	return nil
}

// cosyncImporter carries a CosyncJWT export into the server: users, what
// was in flight (pending signups, invitations, authenticator secrets) and
// the app's signing key.
func (p *parts) cosyncImporter(now func() time.Time) cosyncjwt.Importer {
	return cosyncjwt.Importer{Store: p.store, InFlight: p.svc, Keys: p.keyring, KeyStore: p.store.Console(), Now: now}
}

func printImport(w io.Writer, rep cosyncjwt.ImportReport) {
	verb := "imported"
	if rep.DryRun {
		verb = "would import"
	}
	fmt.Fprintf(w, "%s %d users; skipped %d; %d notes\n", verb, rep.Imported, len(rep.Skipped), len(rep.Notes))
	for _, r := range rep.Skipped {
		fmt.Fprintf(w, "skipped\t%d\t%s\t%s\n", r.Line, r.Handle, r.Reason)
	}
	for _, r := range rep.Notes {
		fmt.Fprintf(w, "note\t%d\t%s\t%s\n", r.Line, r.Handle, r.Reason)
	}
	fmt.Fprintf(w, "carried over %d pending signups, %d open invitations, %d authenticator secrets\n", rep.Signups, rep.Invites, rep.Authenticators)
	if rep.SigningKey != "" {
		fmt.Fprintf(w, "the app's CosyncJWT signing key is now its active key (kid %s)\n", rep.SigningKey)
	}
	if rep.AppTokenSet {
		fmt.Fprintln(w, "the export's app token now names this application")
	}
}
