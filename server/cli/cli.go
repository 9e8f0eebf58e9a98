// Package cli is zoomconnect's command line: serving (the default), the
// standalone Zoom emulator, dev caller tokens and key generation.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

const usage = `usage: zoomconnect [command] [flags]

commands:
  serve           run the service (the default); configured by ZOOMCONNECT_* and ZOOM_* variables
  dev-token       print a caller token signed with the configured (or dev) HS256 secret
  zoom-emulator   run the Zoom emulator on its own
  keygen          print a new ZOOMCONNECT_ENCRYPTION_KEYS value
`

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, getenv, stderr)
	case "dev-token":
		err = devToken(args, getenv, stdout, stderr)
	case "zoom-emulator":
		err = emulator(ctx, args, stderr)
	case "keygen":
		_, err = fmt.Fprintln(stdout, secrets.GenerateKeyringSpec())
	case "help", "-h", "--help":
		_, _ = io.WriteString(stdout, usage)
	default:
		_, _ = fmt.Fprintf(stderr, "zoomconnect: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "zoomconnect %s: %s\n", cmd, oneLine(err))
		return 1
	}
	return 0
}

// oneLine joins a multi-error into one line for the start-up failure message.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(stderr, cfg)
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

func devToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "dev-user", "user id (sub claim)")
	org := fs.String("org", "dev-org", "org id (org_id claim)")
	role := fs.String("role", "owner", "org role: owner, admin or member")
	email := fs.String("email", "", "email claim")
	name := fs.String("name", "", "name claim")
	internal := fs.Bool("internal", false, "an internal-service token (scope zoomconnect.internal, no org)")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	secret := cfg.AuthHS256Secret
	if secret == nil {
		if secret, _, err = secrets.LoadOrCreateDevSecret(cfg.DataDir, app.DevHS256SecretFile); err != nil {
			return err
		}
	}
	c := auth.Claims{Subject: *sub, OrgID: *org, OrgRole: auth.Role(*role), Email: *email, Name: *name}
	if *internal {
		c = auth.Claims{Subject: *sub, Scope: auth.Scope{auth.InternalScope}}
	}
	tok, err := auth.Mint(secret, c, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func emulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("zoom-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9999", "listen address")
	orgID := fs.String("org-client-id", "emu-org-app", "admin-managed app client id")
	orgSecret := fs.String("org-client-secret", "emu-org-secret", "admin-managed app client secret")
	userID := fs.String("user-client-id", "emu-user-app", "user-managed app client id")
	userSecret := fs.String("user-client-secret", "emu-user-secret", "user-managed app client secret")
	if err := fs.Parse(args); err != nil {
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
