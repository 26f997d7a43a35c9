// Command cosync-auth is the CoSync Auth server.
//
//	cosync-auth [serve]                       run the API (default)
//	cosync-auth migrate                       apply database migrations and exit
//	cosync-auth developer create --email E --password P
//	                                          bootstrap an operator in the console app
//	cosync-auth keys rotate --app ID          give an app a new signing key
//	cosync-auth secrets rekey                 seal every stored secret again
//	cosync-auth import cosyncjwt --app ID FILE  import the users of a CosyncJWT export
//	cosync-auth version                       print the version
//
// Every command reads the same settings (flags or COSYNC_* variables); see
// `cosync-auth serve -h` or docs/configuration.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cosync-auth:", strings.ReplaceAll(err.Error(), "\n", "\ncosync-auth: "))
		}
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		cfg, err := loadConfig("serve", args, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "migrate":
		cfg, err := loadConfig("migrate", args, stderr)
		if err != nil {
			return err
		}
		app, err := build(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer app.close()
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "developer":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: cosync-auth developer create --email EMAIL --password PASSWORD")
		}
		return developerCreate(ctx, args[1:], stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, stdout, stderr)
	case "secrets":
		return secretsCmd(ctx, args, stdout, stderr)
	case "import":
		return importCmd(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "cosync-auth", version)
		return nil
	}
	return fmt.Errorf("unknown command %q (serve, migrate, developer create, keys rotate, secrets rekey, import cosyncjwt, version)", cmd)
}

func loadConfig(name string, args []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet("cosync-auth "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return config.Load(fs, args, config.Environ)
}

func developerCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cosync-auth developer create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the developer's email (required)")
	pw := fs.String("password", os.Getenv("COSYNC_DEVELOPER_PASSWORD"), "the developer's password ($COSYNC_DEVELOPER_PASSWORD)")
	cfg, err := config.Load(fs, args, config.Environ)
	if err != nil {
		return err
	}
	if *email == "" || *pw == "" {
		return errors.New("developer create: --email and --password are required")
	}
	app, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer app.close()
	u, err := app.svc.CreateDeveloper(ctx, *email, identity.Secret(*pw))
	if err != nil {
		return fmt.Errorf("developer create: %w", err)
	}
	fmt.Fprintf(stdout, "developer %s created (id %s); sign in to the console app with Cosync-App-Id: %s\n", u.Email, u.ID, identity.ConsoleAppID)
	return nil
}
