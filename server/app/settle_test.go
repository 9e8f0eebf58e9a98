package app

import (
	"net"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/config"
)

// TestSettle: the one step that finishes the configuration before wiring.
func TestSettle(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8181}

	dev, emu := settle(config.Defaults(), addr)
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
	if err := dev.Validate(); err != nil {
		t.Errorf("the settled dev config does not validate: %v", err)
	}

	prod := config.Defaults()
	prod.PublicURL = "https://zc.example.com/"
	prod.ZoomOrgApp = config.ZoomApp{ClientID: "id", ClientSecret: "secret"}
	got, emu := settle(prod, addr)
	if emu != nil || got.PublicURL != "https://zc.example.com" || got.ZoomOAuthURL != prod.ZoomOAuthURL || got.ZoomWebhookSecret != "" || got.ZoomUserApp.Configured() {
		t.Errorf("outside dev mode settle changed more than the public URL: %+v (emulator %v)", got, emu != nil)
	}
}
