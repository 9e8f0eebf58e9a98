package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/cli"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestBadConfigurationStopsTheStartWithOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), nil, env(map[string]string{"ZOOM_ORG_CLIENT_ID": "only-the-id"}), &stdout, &stderr)
	if code != 1 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 ||
		!strings.Contains(stderr.String(), "ZOOM_ORG_CLIENT_ID and ZOOM_ORG_CLIENT_SECRET must be set together") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestKeygenMakesAUsableKeyring(t *testing.T) {
	var stdout bytes.Buffer
	if code := cli.Main(context.Background(), []string{"keygen"}, env(nil), &stdout, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := secrets.ParseKeyring(strings.TrimSpace(stdout.String())); err != nil {
		t.Fatalf("keygen printed an unusable keyring: %v", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"frobnicate"}, env(nil), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestDevModeWalkthrough is the README's walk-through: with no Zoom app
// configured the service serves the built-in emulator itself, a dev token
// from the data dir is accepted, and an org connects end to end.
func TestDevModeWalkthrough(t *testing.T) {
	httpAddr, adminAddr := webtest.FreeAddr(t), webtest.FreeAddr(t)
	vars := env(map[string]string{
		"ZOOMCONNECT_DATA_DIR":   t.TempDir(),
		"ZOOMCONNECT_GRPC_ADDR":  webtest.FreeAddr(t),
		"ZOOMCONNECT_HTTP_ADDR":  httpAddr,
		"ZOOMCONNECT_ADMIN_ADDR": adminAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	var logs webtest.LogBuffer
	go func() { exited <- cli.Main(ctx, nil, vars, &bytes.Buffer{}, &logs) }()
	base := "http://" + httpAddr
	waitReady(t, base)

	var tokenOut bytes.Buffer
	if code := cli.Main(ctx, []string{"dev-token", "--sub", "olivia", "--org", "acme", "--role", "owner"}, vars, &tokenOut, &bytes.Buffer{}); code != 0 {
		t.Fatalf("dev-token exit %d", code)
	}
	tok := strings.TrimSpace(tokenOut.String())

	var started struct {
		InstallURL string `json:"installUrl"`
	}
	rest(t, tok, "POST", base+"/v1/orgs/acme/zoom:connect", &started)
	browser := webtest.NewBrowser(t)
	hop := browser.Get(started.InstallURL)
	authorize, err := url.Parse(hop.Location)
	if err != nil || hop.Status != http.StatusFound || !strings.HasPrefix(hop.Location, base+"/zoom-emulator/oauth/authorize?") {
		t.Fatalf("install link answered HTTP %d to %q", hop.Status, hop.Location)
	}
	callback, _ := browser.SignInAtZoom(authorize, zoomemu.DevAdminID, "allow")
	webtest.WantPage(t, browser.Get(callback), http.StatusOK, "Zoom is connected", "acme")

	var got struct {
		Connection struct {
			State string `json:"state"`
		} `json:"connection"`
	}
	rest(t, tok, "GET", base+"/v1/orgs/acme/zoom", &got)
	if got.Connection.State != "CONNECTION_STATE_ACTIVE" {
		t.Fatalf("state %q after the walk-through", got.Connection.State)
	}
	// The admin listener serves the metrics of what just happened.
	resp, err := http.Get("http://" + adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `grpc_server_handled_total{grpc_code="OK",grpc_method="StartOrgConnection"`) {
		t.Fatalf("the admin listener's /metrics lacks the REST calls:\n%.2000s", metrics)
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(logs.String(), "DEV MODE") {
		t.Fatalf("dev mode was not announced in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), tok) {
		t.Fatal("the caller token was logged")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("service did not become ready")
}

func rest(t *testing.T, tok, method, rawURL string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, rawURL, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// The emulator runs on its own for people who want a Zoom stand-in.
func TestZoomEmulatorCommand(t *testing.T) {
	addr := webtest.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main(ctx, []string{"zoom-emulator", "--addr", addr}, env(nil), &bytes.Buffer{}, &webtest.LogBuffer{})
	}()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/v2/users/me"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code int `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || body.Code != 124 {
		t.Fatalf("users/me without a token: HTTP %d, code %d; want Zoom's 401/124", resp.StatusCode, body.Code)
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("zoom-emulator exited %d", code)
	}
}
