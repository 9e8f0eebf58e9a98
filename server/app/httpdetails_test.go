package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// TestOAuthPagesCannotBeFramed: every page of the OAuth flow (the install
// link's redirect, its error page, the callback's page) forbids framing.
func TestOAuthPagesCannotBeFramed(t *testing.T) {
	h := newHarness(t, "")
	o := newOrg(h, t, restTransport{h}, "frames")
	installURL := o.mustStart(t).GetInstallUrl()
	pages := map[string]webtest.Page{
		"install link redirect":  h.browser.Get(installURL),
		"unknown install link":   h.browser.Get(h.baseURL() + "/oauth/zoom/install/no-such-link"),
		"callback without state": h.browser.Get(h.baseURL() + "/oauth/zoom/callback?code=x"),
		"connected":              h.approve(t, o.mustStart(t).GetInstallUrl(), zoomemu.DevAdminID),
	}
	for name, p := range pages {
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (HTTP %d): CSP %q, X-Frame-Options %q; want frame-ancestors 'none' and DENY", name, p.Status, csp, p.Header.Get("X-Frame-Options"))
		}
	}
}

// TestAnswersWithLinksAreNotCached: the JSON that carries an install link or
// an authorize URL (and every other API answer) says Cache-Control:
// no-store.
func TestAnswersWithLinksAreNotCached(t *testing.T) {
	h := newHarness(t, "")
	owner := personToken(t, "olivia", "acme", "owner")
	for _, c := range []struct{ method, path, tok string }{
		{http.MethodPost, "/v1/orgs/acme/zoom:connect", owner},
		{http.MethodPost, "/v1/orgs/acme/users/olivia/zoom:connect", owner},
		{http.MethodGet, "/v1/orgs/acme/zoom", owner},
		{http.MethodGet, "/v1/orgs/acme/zoom", ""}, // an error
	} {
		res, _ := rawREST(t, h, c.method, c.path, c.tok, "")
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s: HTTP %d, Cache-Control %q; want no-store", c.method, c.path, res.StatusCode, got)
		}
	}
}

// TestAccessLog: every request gets one access-log line (debug when it went
// well, info when it failed) with method, route pattern, status, duration
// and caller, over REST and gRPC, and never the token or the raw ids.
func TestAccessLog(t *testing.T) {
	h := newHarness(t, "")
	owner := personToken(t, "olivia", "acme-log", "owner")
	member := personToken(t, "mia", "acme-log", "member")
	rawREST(t, h, http.MethodGet, "/v1/orgs/acme-log/zoom", owner, "")
	rawREST(t, h, http.MethodPost, "/v1/orgs/acme-log/zoom:connect", member, "{}")
	must(t, grpcTransport{h}.call(t, owner, getMethod, &zcv1.GetOrgConnectionRequest{OrgId: "acme-log"}, &zcv1.GetOrgConnectionResponse{}))
	installURL := newOrg(h, t, grpcTransport{h}, "log").mustStart(t).GetInstallUrl()
	h.browser.Get(installURL)

	wantLine := func(pattern string) {
		t.Helper()
		re := regexp.MustCompile(pattern)
		deadline := time.Now().Add(5 * time.Second)
		for !re.MatchString(h.logs.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("no log line matches %s; log:\n%s", pattern, h.logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wantLine(`level=DEBUG msg="HTTP request" method=GET route="GET /v1/orgs/\{org_id\}/zoom" status=200 duration=\S+ caller=olivia`)
	wantLine(`level=INFO msg="HTTP request" method=POST route="POST /v1/orgs/\{org_id\}/zoom:connect" status=403 duration=\S+ caller=mia`)
	wantLine(`level=DEBUG msg="HTTP request" method=GET route="GET /oauth/zoom/install/\{link\}" status=302 duration=\S+ caller=""`)
	wantLine(`level=DEBUG msg=RPC method=/zoomconnect.v1.ConnectionService/GetOrgConnection code=OK duration=\S+ caller=olivia`)
	wantLine(`level=INFO msg="RPC refused" method=/zoomconnect.v1.ConnectionService/StartOrgConnection code=PermissionDenied duration=\S+ caller=mia`)
	logs := h.logs.String()
	for _, secret := range []string{owner, member, strings.TrimPrefix(installURL, h.baseURL()+"/oauth/zoom/install/")} {
		if strings.Contains(logs, secret) {
			t.Fatal("the access log holds a token or an install link")
		}
	}
}
