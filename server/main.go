// Command cosync-auth is the CoSync Auth server.
//
//	cosync-auth [serve]                       run the API (default)
//	cosync-auth migrate                       apply database migrations and exit
//	cosync-auth developer create --email E    bootstrap an operator in the console app
//	                                          (password from a prompt, stdin or $COSYNC_DEVELOPER_PASSWORD)
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

	"golang.org/x/term"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cosync-auth:", strings.ReplaceAll(err.Error(), "\n", "\ncosync-auth: "))
		}
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
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
			return errors.New("usage: cosync-auth developer create --email EMAIL [--operator] (the password from a prompt, stdin or $COSYNC_DEVELOPER_PASSWORD)")
		}
		return developerCreate(ctx, args[1:], stdin, stdout, stderr)
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

func developerCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	for _, a := range args {
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && name == "password" {
			return errors.New("developer create: --password is not accepted (a password in argv shows in shell history and ps): " +
				"type it at the prompt, pipe it on stdin, or set COSYNC_DEVELOPER_PASSWORD")
		}
	}
	fs := flag.NewFlagSet("cosync-auth developer create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the developer's email (required); the password comes from a prompt, stdin or $COSYNC_DEVELOPER_PASSWORD")
	operator := fs.Bool("operator", false, "make the developer an operator: sees every application, the console's developers and its outbox")
	cfg, err := config.Load(fs, args, config.Environ)
	if err != nil {
		return err
	}
	if *email == "" {
		return errors.New("developer create: --email is required")
	}
	pw, err := developerPassword(stdin, stderr)
	if err != nil {
		return fmt.Errorf("developer create: %w", err)
	}
	app, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer app.close()
	u, err := app.svc.CreateDeveloper(ctx, *email, pw, *operator)
	if err != nil {
		return fmt.Errorf("developer create: %w", err)
	}
	kind := "developer"
	if *operator {
		kind = "operator"
	}
	fmt.Fprintf(stdout, "%s %s created (id %s); sign in to the console app with Cosync-App-Id: %s\n", kind, u.Email, u.ID, identity.ConsoleAppID)
	return nil
}

// maxPasswordInput bounds what developerPassword reads from a pipe.
const maxPasswordInput = 4 << 10

// developerPassword reads the new developer's password, never from argv:
// $COSYNC_DEVELOPER_PASSWORD when set (scripts), else a prompt without
// echo (typed twice) when stdin is a terminal, else the first line of stdin.
func developerPassword(stdin io.Reader, stderr io.Writer) (identity.Secret, error) {
	if pw := os.Getenv("COSYNC_DEVELOPER_PASSWORD"); pw != "" {
		return identity.Secret(pw), nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			return string(b), err
		}
		pw, err := read("Password: ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		again, err := read("Password again: ")
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if pw != again {
			return "", errors.New("the passwords differ")
		}
		if pw == "" {
			return "", errors.New("no password typed")
		}
		return identity.Secret(pw), nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxPasswordInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	if len(b) > maxPasswordInput {
		return "", fmt.Errorf("the password on stdin is longer than %d bytes", maxPasswordInput)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("no password: pipe it on stdin, type it at a terminal, or set COSYNC_DEVELOPER_PASSWORD")
	}
	return identity.Secret(line), nil
}
