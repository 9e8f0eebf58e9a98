package app

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/secrets"
)

// TestSettle: the one step that finishes the configuration before wiring.
func TestSettle(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8181}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	in := config.Defaults()
	in.DataDir = t.TempDir()
	dev, emu, err := settle(in, addr, log)
	if err != nil {
		t.Fatal(err)
	}
	if emu == nil {
		t.Fatal("dev mode without an emulator configuration")
	}
	if dev.PublicURL != "http://127.0.0.1:8181" || dev.ZoomOAuthURL != dev.PublicURL+EmulatorPrefix || dev.ZoomAPIURL != dev.PublicURL+EmulatorPrefix+"/v2" {
		t.Errorf("dev-mode URLs: public %q, OAuth %q, API %q", dev.PublicURL, dev.ZoomOAuthURL, dev.ZoomAPIURL)
	}
	if !dev.ZoomOrgApp.Configured() || dev.ZoomOrgApp.ClientSecret == "" || !dev.ZoomUserApp.Configured() || dev.ZoomWebhookSecret == "" {
		t.Errorf("dev mode left Zoom settings unset: %+v %+v webhook secret set %v", dev.ZoomOrgApp, dev.ZoomUserApp, dev.ZoomWebhookSecret != "")
	}
	if emu.WebhookSecret != dev.ZoomWebhookSecret || emu.WebhookURL != dev.PublicURL+"/webhooks/zoom" {
		t.Errorf("the emulator signs with %q to %q; the service checks %q", emu.WebhookSecret, emu.WebhookURL, dev.ZoomWebhookSecret)
	}
	if _, err := secrets.ParseKeyring(dev.EncryptionKeys); err != nil || len(dev.AuthHS256Secret) < 32 {
		t.Errorf("dev secrets not settled: keyring %v, caller-token secret of %d bytes", err, len(dev.AuthHS256Secret))
	}
	if err := dev.Validate(); err != nil {
		t.Errorf("the settled dev config does not validate: %v", err)
	}
	// The generated secrets are kept: a second start settles the same.
	again, _, err := settle(in, addr, log)
	if err != nil || again.EncryptionKeys != dev.EncryptionKeys || !bytes.Equal(again.AuthHS256Secret, dev.AuthHS256Secret) {
		t.Errorf("second settle: %v; the data dir's secrets were not reused", err)
	}

	prod := config.Defaults()
	prod.DataDir = t.TempDir()
	prod.PublicURL = "https://zc.example.com/"
	prod.ZoomOrgApp = config.ZoomApp{ClientID: "id", ClientSecret: "secret"}
	prod.EncryptionKeys, prod.AuthJWKSURL = secrets.GenerateKeyringSpec(), "https://idp.example.com/jwks"
	logs.Reset()
	got, emu, err := settle(prod, addr, log)
	if err != nil || emu != nil || got.PublicURL != "https://zc.example.com" || got.ZoomOAuthURL != prod.ZoomOAuthURL ||
		got.ZoomWebhookSecret != "" || got.ZoomUserApp.Configured() || got.EncryptionKeys != prod.EncryptionKeys || got.AuthHS256Secret != nil {
		t.Errorf("outside dev mode, with everything configured, settle changed more than the public URL: %+v (emulator %v, %v)", got, emu != nil, err)
	}
	prod.EncryptionKeys = ""
	if _, _, err := settle(prod, addr, log); err != nil || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("generated keys outside dev mode: %v, log %q; want a warning", err, logs.String())
	}
}
