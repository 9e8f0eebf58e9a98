// Package cli is zoomconnect's command line: serving (the default), the
// standalone Zoom emulator, dev caller tokens and key generation.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

const usage = `usage: zoomconnect [command] [flags]

commands:
  serve           run the service (the default); configured by ZOOMCONNECT_* and ZOOM_* variables
  dev-token       print a caller token signed with the configured (or dev) HS256 secret
  zoom-emulator   run the Zoom emulator on its own
  keygen          print a new ZOOMCONNECT_ENCRYPTION_KEYS value
  help            print this help

Run "zoomconnect <command> --help" for the flags of a command.
`

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	top := newFlagSet("zoomconnect", usage)
	if err := parse(top, args, stdout, stderr); err != nil {
		return int(err.(exitCode))
	}
	cmd, args := "serve", top.Args()
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "dev-token":
		err = devToken(args, getenv, stdout, stderr)
	case "zoom-emulator":
		err = emulator(ctx, args, stdout, stderr)
	case "keygen":
		err = keygen(args, stdout, stderr)
	case "help":
		_, _ = io.WriteString(stdout, usage)
	default:
		_, _ = fmt.Fprintf(stderr, "zoomconnect: unknown command %q\n%s", cmd, usage)
		return 2
	}
	var early exitCode
	switch {
	case errors.As(err, &early):
		return int(early)
	case err != nil:
		_, _ = fmt.Fprintf(stderr, "zoomconnect %s: %s\n", cmd, oneLine(err))
		return 1
	}
	return 0
}

// exitCode ends a command before it runs, with this exit status: 0 after
// --help, 2 after a command line that does not parse (as Go commands do).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// flagSet is a command's flags and the text above their defaults in its
// usage.
type flagSet struct {
	*flag.FlagSet
	synopsis string
}

func newFlagSet(name, synopsis string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis}
	fs.Usage = func() {} // parse prints the usage, to the right stream
	return fs
}

func (fs *flagSet) printUsage(w io.Writer) {
	_, _ = io.WriteString(w, fs.synopsis)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		_, _ = fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// parse parses args the way Go commands do: -h or --help prints the usage
// to stdout (exitCode 0); a flag that is not defined prints the problem and
// the usage to stderr (exitCode 2). Only the top level takes arguments
// (the command); a command given one is a usage error too. Every error it
// returns is an exitCode.
func parse(fs *flagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(stderr)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.printUsage(stdout)
		return exitCode(0)
	case err != nil: // the flag package has printed the problem
		fs.printUsage(stderr)
		return exitCode(2)
	case fs.Name() != "zoomconnect" && fs.NArg() > 0:
		_, _ = fmt.Fprintf(stderr, "zoomconnect %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.printUsage(stderr)
		return exitCode(2)
	}
	return nil
}

// oneLine joins a multi-error into one line for the start-up failure message.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "usage: zoomconnect [serve]\n\nRuns the service, configured by environment variables (see README.md, Configuration).\n")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(stderr, cfg)
	redisstore.LogTo(log)
	tracing, err := telemetry.FromEnv(ctx, getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(flushCtx); err != nil {
			log.Warn("flushing traces", "error", err)
		}
	}()
	a, err := app.New(ctx, cfg, log, app.WithTracing(tracing))
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.DevMode() {
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
}

// keygen prints a new keyring spec.
func keygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "usage: zoomconnect keygen\n\nPrints a new ZOOMCONNECT_ENCRYPTION_KEYS value (one fresh 32-byte key).\n")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, secrets.GenerateKeyringSpec())
	return err
}

// devToken prints a caller token that this configuration's server accepts:
// its claims pass the server's checks, and it is signed with the secret the
// server uses (ZOOMCONNECT_AUTH_HS256_SECRET, or the dev secret in the same
// ZOOMCONNECT_DATA_DIR, which it never creates).
func devToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev-token", "usage: zoomconnect dev-token [flags]\n\nPrints a caller token signed with ZOOMCONNECT_AUTH_HS256_SECRET or, in dev mode, with the secret\nthe server keeps in ZOOMCONNECT_DATA_DIR (default ./data).\n")
	sub := fs.String("sub", "dev-user", "user id (sub claim)")
	org := fs.String("org", "dev-org", "org id (org_id claim)")
	role := fs.String("role", "owner", "org role: owner, admin or member")
	email := fs.String("email", "", "email claim")
	name := fs.String("name", "", "name claim")
	internal := fs.Bool("internal", false, "an internal-service token (scope zoomconnect.internal, no org)")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	c, err := devClaims(*sub, *org, *role, *internal)
	if err != nil {
		return err
	}
	c.Email, c.Name = *email, *name
	if *ttl <= 0 {
		return fmt.Errorf("--ttl %s: must be positive", *ttl)
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	secret, err := devTokenSecret(cfg)
	if err != nil {
		return err
	}
	if !*internal && *ttl > cfg.AuthMaxTokenLifetime {
		return fmt.Errorf("--ttl %s: person tokens may live at most %s (ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME)", *ttl, cfg.AuthMaxTokenLifetime)
	}
	// the issuer and audience the server requires (dev mode has its own)
	tok, err := auth.Mint(secret, c.IssuedFor(cfg.AuthClaims()), *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// devClaims checks the flags as the server checks a token's claims, so
// that dev-token refuses what the server would refuse.
func devClaims(sub, org, role string, internal bool) (auth.Claims, error) {
	if err := connection.ValidateID(sub); err != nil {
		return auth.Claims{}, fmt.Errorf("--sub %q: %w", sub, err)
	}
	if internal {
		return auth.Claims{Subject: sub, Scope: auth.Scope{auth.InternalScope}}, nil
	}
	if err := connection.ValidateID(org); err != nil {
		return auth.Claims{}, fmt.Errorf("--org %q: %w", org, err)
	}
	r, err := auth.ParseRole(role)
	if err != nil {
		return auth.Claims{}, fmt.Errorf("--role: %w", err)
	}
	return auth.Claims{Subject: sub, OrgID: org, OrgRole: r}, nil
}

// devTokenSecret is the HS256 secret the server configured by cfg verifies
// with. A missing dev secret is an error, not a new secret: a token signed
// with a secret no server holds would be refused without a clue why.
func devTokenSecret(cfg config.Config) ([]byte, error) {
	switch {
	case cfg.AuthHS256Secret != nil:
		return cfg.AuthHS256Secret, nil
	case cfg.AuthJWKSURL != "":
		return nil, errors.New("the server verifies tokens with ZOOMCONNECT_AUTH_JWKS_URL only; set ZOOMCONNECT_AUTH_HS256_SECRET to the secret it also accepts")
	}
	secret, err := secrets.LoadDevSecret(cfg.DataDir, app.DevHS256SecretFile)
	if errors.Is(err, os.ErrNotExist) {
		dir, _ := filepath.Abs(cfg.DataDir)
		return nil, fmt.Errorf("no dev caller-token secret in %s (ZOOMCONNECT_DATA_DIR): start the server once with the same ZOOMCONNECT_DATA_DIR, or run dev-token from the folder the server runs in, or set ZOOMCONNECT_AUTH_HS256_SECRET", dir)
	}
	return secret, err
}

func emulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("zoom-emulator", "usage: zoomconnect zoom-emulator [flags]\n\nRuns the Zoom emulator on its own (OAuth and REST API of a fake Zoom account).\n")
	addr := fs.String("addr", "127.0.0.1:9999", "listen address")
	orgID := fs.String("org-client-id", "emu-org-app", "admin-managed app client id")
	orgSecret := fs.String("org-client-secret", "emu-org-secret", "admin-managed app client secret")
	userID := fs.String("user-client-id", "emu-user-app", "user-managed app client id")
	userSecret := fs.String("user-client-secret", "emu-user-secret", "user-managed app client secret")
	if err := parse(fs, args, stdout, stderr); err != nil {
		return err
	}
	cfg := zoomemu.DevConfig(
		zoomemu.Client{ID: *orgID, Secret: *orgSecret, AdminManaged: true},
		zoomemu.Client{ID: *userID, Secret: *userSecret},
	)
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	emu, err := zoomemu.New(cfg)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(stderr, "Zoom emulator on http://%s (OAuth base http://%[1]s, REST base http://%[1]s/v2)\n", *addr)
	return emu.ListenAndServe(ctx, *addr)
}
