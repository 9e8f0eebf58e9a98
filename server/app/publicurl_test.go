package app_test

import (
	"net"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// TestDefaultPublicURLOfAWildcardAddress: listening on all interfaces, the
// default ZOOMCONNECT_PUBLIC_URL (used in install links and as the OAuth
// redirect) is a loopback URL, not http://[::]:port, which browsers and
// Zoom's redirect cannot open.
func TestDefaultPublicURLOfAWildcardAddress(t *testing.T) {
	_, port, err := net.SplitHostPort(webtest.FreeAddr(t))
	must(t, err)
	h := newHarness(t, "", func(c *config.Config, _ *zoomemu.Config) { c.HTTPAddr = "0.0.0.0:" + port })
	if want := "http://127.0.0.1:" + port; h.app.PublicURL != want {
		t.Fatalf("public URL = %q; want %q", h.app.PublicURL, want)
	}
	o := newOrg(h, t, grpcTransport{h}, "wildcard")
	if link := o.mustStart(t).GetInstallUrl(); !strings.HasPrefix(link, "http://127.0.0.1:"+port+"/oauth/zoom/install/") {
		t.Fatalf("install link %q", link)
	}
}
