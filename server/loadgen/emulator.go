package loadgen

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// The Zoom apps the emulator of a load run knows.
const (
	orgClientID      = "loadgen-org-app"
	orgClientSecret  = "loadgen-org-secret"
	userClientID     = "loadgen-user-app"
	userClientSecret = "loadgen-user-secret"
)

// Emulator is the Zoom emulator of a load run, served on a loopback port:
// the replicas share it, as they would share Zoom.
type Emulator struct {
	// URL is the emulator's OAuth base; its REST base is URL + "/v2".
	URL string
	srv *http.Server
	emu *zoomemu.Emulator
}

// StartEmulator serves a Zoom emulator with the dev accounts (see
// zoomemu.DevConfig) and no daily meeting limit per host, on 127.0.0.1.
func StartEmulator() (*Emulator, error) {
	cfg := zoomemu.DevConfig(
		zoomemu.Client{ID: orgClientID, Secret: orgClientSecret, AdminManaged: true},
		zoomemu.Client{ID: userClientID, Secret: userClientSecret},
	)
	cfg.MeetingDailyLimit = -1
	emu, err := zoomemu.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		emu.Close()
		return nil, err
	}
	e := &Emulator{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}, emu: emu}
	// Serve ends with Close; a failure before shows as failed calls to Zoom.
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Configure points a service configuration at the emulator.
func (e *Emulator) Configure(c *config.Config) {
	c.ZoomOAuthURL, c.ZoomAPIURL = e.URL, e.URL+"/v2"
	c.ZoomOrgApp = config.ZoomApp{ClientID: orgClientID, ClientSecret: orgClientSecret}
	c.ZoomUserApp = config.ZoomApp{ClientID: userClientID, ClientSecret: userClientSecret}
}

// Env returns the environment variables of Configure, for a replica run as
// a process of its own.
func (e *Emulator) Env() []string {
	return []string{
		"ZOOM_OAUTH_URL=" + e.URL, "ZOOM_API_URL=" + e.URL + "/v2",
		"ZOOM_ORG_CLIENT_ID=" + orgClientID, "ZOOM_ORG_CLIENT_SECRET=" + orgClientSecret,
		"ZOOM_USER_CLIENT_ID=" + userClientID, "ZOOM_USER_CLIENT_SECRET=" + userClientSecret,
	}
}

// Close stops the emulator.
func (e *Emulator) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.srv.Shutdown(ctx)
	e.emu.Close()
}

// DevZoomAdmin and DevZoomHost are the emulator's users the meetings
// workload uses: an Admin who approves the install, and a member who hosts.
const (
	DevZoomAdmin = zoomemu.DevAdminID
	DevZoomHost  = "member@acme.example"
)
