package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
)

// openInstallLink follows the shareable link and returns Zoom's authorize
// URL it redirects to, after checking it is the admin-managed app's with
// PKCE S256 and a state.
func (h *harness) openInstallLink(t testing.TB, installURL string) *url.URL {
	t.Helper()
	p := h.browser.Get(installURL)
	if p.Status != http.StatusFound {
		t.Fatalf("install link: HTTP %d, want 302; page: %s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasSuffix(u.Path, "/oauth/authorize") || q.Get("client_id") != orgClientID ||
		q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") == "" || q.Get("redirect_uri") != h.baseURL()+"/oauth/zoom/callback" {
		t.Fatalf("install link redirects to an unexpected authorize URL: %s", u)
	}
	return u
}

// approve runs the whole browser side for userID and returns the callback page.
func (h *harness) approve(t testing.TB, installURL, userID string) webtest.Page {
	t.Helper()
	callback, zp := h.browser.SignInAtZoom(h.openInstallLink(t, installURL), userID, "allow")
	if callback == "" {
		t.Fatalf("Zoom did not redirect back: HTTP %d: %s", zp.Status, zp.Body)
	}
	return h.browser.Get(callback)
}
