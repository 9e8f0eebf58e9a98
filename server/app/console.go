package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/console"
	"github.com/zoomconnect/zoomconnect/server/secrets"
)

// devConsoleTokenTTL is how long a dev sign-in lasts.
const devConsoleTokenTTL = 12 * time.Hour

// mountConsole serves the admin console; in dev mode with an HS256 secret
// it adds the sign-in page's token endpoint for the demo organization.
func (a *App) mountConsole(mux *http.ServeMux) error {
	ancestors, err := console.ParseFrameAncestors(a.cfg.ConsoleFrameAncestors)
	if err != nil {
		return fmt.Errorf("ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS: %w", err)
	}
	cfg := console.Config{FrameAncestors: ancestors}
	if a.devMode {
		if cfg.DevSignIn, err = a.devSignIn(); err != nil {
			return err
		}
	}
	h, err := console.New(cfg)
	if err != nil {
		return err
	}
	h.Register(mux)
	return nil
}

// devSignIn mints tokens with the same HS256 secret the verifier trusts in
// dev mode; with only a JWKS configured there is nothing to sign with, so
// the console then waits for a token like in production.
func (a *App) devSignIn() (*console.DevSignIn, error) {
	// Anyone who reaches the endpoint becomes the demo org's owner: offer
	// it only where nobody else can reach it.
	if tcp, ok := a.httpLn.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		a.log.Warn("console: no dev sign-in, since ZOOMCONNECT_HTTP_ADDR is reachable from other machines; hand the console a token instead", "http_addr", a.httpLn.Addr().String())
		return nil, nil
	}
	secret := a.cfg.AuthHS256Secret
	if secret == nil && a.cfg.AuthJWKSURL != "" {
		a.log.Info("console: no dev sign-in, since caller tokens come from ZOOMCONNECT_AUTH_JWKS_URL")
		return nil, nil
	}
	if secret == nil {
		s, _, err := secrets.LoadOrCreateDevSecret(a.cfg.DataDir, DevHS256SecretFile)
		if err != nil {
			return nil, fmt.Errorf("ZOOMCONNECT_DATA_DIR: dev caller-token secret: %w", err)
		}
		secret = s
	}
	return &console.DevSignIn{
		OrgID:  console.DemoOrgID,
		People: console.DemoPeople,
		Mint: func(p console.Person) (string, error) {
			c := auth.Claims{Subject: p.ID, OrgID: console.DemoOrgID, OrgRole: auth.Role(p.Role), Email: p.Email, Name: p.Name}
			return auth.Mint(secret, c.IssuedFor(a.cfg.AuthClaims()), devConsoleTokenTTL)
		},
		Register: func(ctx context.Context, p console.Person) error {
			return a.conns.RegisterCaller(ctx, console.DemoOrgID, connection.Member{UserID: p.ID, Email: p.Email, Name: p.Name})
		},
		Logger: a.log,
	}, nil
}
