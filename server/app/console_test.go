package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/console"
)

func consoleGet(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func devToken(t *testing.T, base, person string) (int, string) {
	t.Helper()
	res, err := http.Post(base+console.DevTokenPath, "application/json", strings.NewReader(`{"person":"`+person+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out.Token
}

// In dev mode the sign-in mints tokens the API accepts, for the demo org's
// roles; configured with Zoom apps (production), the endpoint does not exist
// and the console offers no sign-in.
func TestConsoleDevSignInOnlyInDevMode(t *testing.T) {
	// as `go run ./server/cmd/zoomconnect` starts: the secret generated in the data dir
	base := startDevApp(t, func(c *config.Config) { c.AuthHS256Secret = nil }).PublicURL
	status, tok := devToken(t, base, "adam")
	if status != http.StatusOK || tok == "" {
		t.Fatalf("dev sign-in: HTTP %d", status)
	}
	if res, body := consoleGet(t, base+"/v1/orgs/"+console.DemoOrgID+"/zoom/users", tok); res.StatusCode != http.StatusOK ||
		!strings.Contains(body, `"Olivia Owner"`) || !strings.Contains(body, `"Mia Member"`) {
		t.Fatalf("the admin's dev token on the roster: HTTP %d %s", res.StatusCode, body)
	}
	_, tok = devToken(t, base, "mia")
	if res, _ := consoleGet(t, base+"/v1/orgs/"+console.DemoOrgID+"/zoom/users", tok); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a member's dev token on the roster: HTTP %d, want 403", res.StatusCode)
	}

	// listening beyond loopback, anyone could sign in as the owner
	wide := startDevApp(t, func(c *config.Config) {
		c.AuthHS256Secret = nil
		c.HTTPAddr = strings.Replace(c.HTTPAddr, "127.0.0.1:", "0.0.0.0:", 1)
	}).PublicURL
	if status, tok := devToken(t, wide, "olivia"); status/100 == 2 || tok != "" {
		t.Fatalf("dev sign-in on a wildcard address: HTTP %d, token %q", status, tok)
	}

	h := newHarness(t, "") // Zoom apps configured: not dev mode
	res, body := consoleGet(t, h.baseURL()+console.Path, "")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") || !strings.Contains(body, `src="js/main.js"`) {
		t.Fatalf("console outside dev mode: HTTP %d %v", res.StatusCode, res.Header)
	}
	if _, cfg := consoleGet(t, h.baseURL()+console.Path+"config.json", ""); strings.Contains(cfg, "devSignIn") {
		t.Fatalf("config.json outside dev mode offers a sign-in: %s", cfg)
	}
	if status, tok := devToken(t, h.baseURL(), "olivia"); status/100 == 2 || tok != "" {
		t.Fatalf("dev sign-in outside dev mode: HTTP %d, token %q", status, tok)
	}
}

func TestConsoleFrameAncestorsConfig(t *testing.T) {
	env := map[string]string{"ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS": "https://app.example.com;script-src *"}
	if _, err := config.FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS") {
		t.Fatalf("a bad frame-ancestors value: %v", err)
	}
	base := startDevApp(t, func(c *config.Config) { c.ConsoleFrameAncestors = "https://app.example.com" }).PublicURL
	res, _ := consoleGet(t, base+console.Path, "")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors https://app.example.com") || res.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("embedding allowed for the host: CSP %q, X-Frame-Options %q", csp, res.Header.Get("X-Frame-Options"))
	}
}
