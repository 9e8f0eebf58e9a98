package app

import (
	"net"
	"strings"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// settle derives, in one step before any wiring, what the configuration
// leaves to the service: the public URL (the bound HTTP address unless
// set) and, in dev mode, every Zoom setting, pointed at the built-in
// emulator mounted on the service's own listener, with app secrets and a
// webhook secret generated for this run. Wiring then reads the finished
// config as it is. The emulator's configuration comes back too (nil outside
// dev mode).
func settle(cfg config.Config, httpAddr net.Addr) (config.Config, *zoomemu.Config) {
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + httpAddr.String()
	}
	if !cfg.DevMode() {
		return cfg, nil
	}
	redirect := []string{cfg.PublicURL + connection.CallbackPath}
	orgApp := zoomemu.Client{ID: "dev-org-app", Secret: secrets.NewToken(), AdminManaged: true, RedirectURIs: redirect}
	userApp := zoomemu.Client{ID: "dev-user-app", Secret: secrets.NewToken(), RedirectURIs: redirect}
	if cfg.ZoomWebhookSecret == "" {
		cfg.ZoomWebhookSecret = secrets.NewToken()
	}
	emu := zoomemu.DevConfig(orgApp, userApp)
	emu.APIURL = cfg.PublicURL + EmulatorPrefix
	emu.WebhookURL, emu.WebhookSecret = cfg.PublicURL+webhook.Path, cfg.ZoomWebhookSecret
	cfg.ZoomOAuthURL = cfg.PublicURL + EmulatorPrefix
	cfg.ZoomAPIURL = cfg.PublicURL + EmulatorPrefix + "/v2"
	cfg.ZoomOrgApp = config.ZoomApp{ClientID: orgApp.ID, ClientSecret: orgApp.Secret}
	cfg.ZoomUserApp = config.ZoomApp{ClientID: userApp.ID, ClientSecret: userApp.Secret}
	return cfg, &emu
}
