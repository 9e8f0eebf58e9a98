package app

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// settle derives, in one step before any wiring, what the configuration
// leaves to the service, and returns the finished config that wiring then
// reads as it is:
//   - the public URL: the bound HTTP address unless set;
//   - the token encryption keys and the caller-token secret, when none are
//     configured: generated once and kept in the data dir (loudly outside
//     dev mode, since replicas must share them);
//   - the issuer and audience caller tokens must carry (config.AuthClaims:
//     in dev mode without a JWKS, the dev ones dev-token mints);
//   - in dev mode, every Zoom setting, pointed at the built-in emulator
//     mounted on the service's own listener, with app secrets and a
//     webhook secret generated for this run, and the emulator's state
//     (grants, tokens, meetings) kept in the data dir so that stored
//     connections still work after a restart. The emulator's configuration
//     comes back too (nil outside dev mode).
func settle(cfg config.Config, httpAddr net.Addr, log *slog.Logger) (config.Config, *zoomemu.Config, error) {
	devMode := cfg.DevMode()
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.PublicURL == "" {
		// A wildcard listen address (0.0.0.0, [::]) is no address a
		// browser or Zoom's redirect can use; loopback is, on this machine.
		cfg.PublicURL = "http://" + dialTarget(httpAddr)
	}
	if cfg.EncryptionKeys == "" {
		spec, created, err := secrets.LoadOrCreateDevKeyringSpec(cfg.DataDir)
		if err != nil {
			return cfg, nil, fmt.Errorf("ZOOMCONNECT_DATA_DIR: dev encryption keys: %w", err)
		}
		cfg.EncryptionKeys = spec
		warnGenerated(log, devMode, cfg.DataDir, "ZOOMCONNECT_ENCRYPTION_KEYS", "token encryption keys", created)
	}
	if cfg.AuthHS256Secret == nil && cfg.AuthJWKSURL == "" {
		secret, created, err := secrets.LoadOrCreateDevSecret(cfg.DataDir, DevHS256SecretFile)
		if err != nil {
			return cfg, nil, fmt.Errorf("ZOOMCONNECT_DATA_DIR: dev caller-token secret: %w", err)
		}
		cfg.AuthHS256Secret = secret
		warnGenerated(log, devMode, cfg.DataDir, "ZOOMCONNECT_AUTH_HS256_SECRET", "caller-token secret", created)
	}
	cfg.AuthIssuer, cfg.AuthAudience = cfg.AuthClaims()
	if !devMode {
		return cfg, nil, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return cfg, nil, fmt.Errorf("ZOOMCONNECT_DATA_DIR: %w", err)
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
	emu.Logger = log
	emu.StateFile = filepath.Join(cfg.DataDir, DevEmulatorStateFile)
	cfg.ZoomOAuthURL = cfg.PublicURL + EmulatorPrefix
	cfg.ZoomAPIURL = cfg.PublicURL + EmulatorPrefix + "/v2"
	cfg.ZoomOrgApp = config.ZoomApp{ClientID: orgApp.ID, ClientSecret: orgApp.Secret}
	cfg.ZoomUserApp = config.ZoomApp{ClientID: userApp.ID, ClientSecret: userApp.Secret}
	return cfg, &emu, nil
}

// warnGenerated says where a generated secret lives; outside dev mode it says
// so loudly, since replicas must share it.
func warnGenerated(log *slog.Logger, devMode bool, dataDir, variable, what string, created bool) {
	attrs := []any{"variable", variable, "data_dir", dataDir, "newly_generated", created}
	if devMode {
		log.Info("using "+what+" kept in the data dir (dev mode)", attrs...)
		return
	}
	log.Warn(what+" not configured: using ones generated in the data dir; set "+variable+" in production, identical on every replica", attrs...)
}
