package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/auth"
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
	ctx := context.Background()
	var logs webtest.LogBuffer
	stop := runServe(t, vars, &logs)
	base := "http://" + httpAddr
	waitReady(t, base)

	// The emulator's address in the start-up log (and the README) serves
	// a page.
	emuURL := regexp.MustCompile(`emulator_url=(\S+)`).FindStringSubmatch(logs.String())
	if emuURL == nil || emuURL[1] != base+"/zoom-emulator" {
		t.Fatalf("start-up log names no emulator address %s/zoom-emulator:\n%s", base, logs.String())
	}
	if resp, err := http.Get(emuURL[1]); err != nil {
		t.Fatal(err)
	} else {
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Zoom emulator") || !strings.Contains(string(page), "admin@acme.example") {
			t.Fatalf("%s: HTTP %d: %s", emuURL[1], resp.StatusCode, page)
		}
	}

	var tokenOut bytes.Buffer
	if code := cli.Main(ctx, []string{"dev-token", "--sub", "olivia", "--org", "acme", "--role", "owner"}, vars, &tokenOut, &bytes.Buffer{}); code != 0 {
		t.Fatalf("dev-token exit %d", code)
	}
	tok := strings.TrimSpace(tokenOut.String())

	// Dev mode checks issuer and audience as production does: a token of
	// the right secret without them is refused.
	secret, _, err := secrets.LoadOrCreateDevSecret(vars("ZOOMCONNECT_DATA_DIR"), app.DevHS256SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := auth.Mint(secret, auth.Claims{Subject: "olivia", OrgID: "acme", OrgRole: auth.RoleOwner}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if status := restStatus(t, bare, "GET", base+"/v1/orgs/acme/zoom"); status != http.StatusUnauthorized {
		t.Fatalf("a dev token without issuer and audience: HTTP %d, want 401", status)
	}
	if code := cli.Main(ctx, []string{"dev-token", "--ttl", "48h"}, vars, &bytes.Buffer{}, &bytes.Buffer{}); code == 0 {
		t.Fatal("dev-token minted a person token that outlives ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME")
	}

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

	stop()
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

// send makes an authenticated request without a body.
func send(t *testing.T, tok, method, rawURL string) *http.Response {
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
	return resp
}

func restStatus(t *testing.T, tok, method, rawURL string) int {
	t.Helper()
	resp := send(t, tok, method, rawURL)
	resp.Body.Close()
	return resp.StatusCode
}

func rest(t *testing.T, tok, method, rawURL string, out any) {
	t.Helper()
	resp := send(t, tok, method, rawURL)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, rawURL, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// runServe runs `zoomconnect` (serve) with vars, its log to stderr; stop
// ends it and fails the test unless it exits 0 within 15 s.
func runServe(t *testing.T, vars func(string) string, stderr io.Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() { exited <- cli.Main(ctx, nil, vars, &bytes.Buffer{}, stderr) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case code := <-exited:
			if code != 0 {
				t.Fatalf("serve exited %d", code)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
		}
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

// run runs the command line in process and returns its exit code and output.
func run(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = cli.Main(ctx, args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantOneLineFailure checks a failed start: exit 1, no stack trace, and a
// last line that names what to fix.
func wantOneLineFailure(t *testing.T, code int, stderr string, words ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.HasPrefix(last, "zoomconnect serve: ") || strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, w := range words {
		if !strings.Contains(last, w) {
			t.Fatalf("the failure line %q does not mention %q", last, w)
		}
	}
}

// TestStartupFailuresEndWithOneLine: whatever stops the start, the process
// exits non-zero with one line naming the setting, never a panic.
func TestStartupFailuresEndWithOneLine(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	base := func(extra map[string]string) map[string]string {
		vars := map[string]string{
			"ZOOMCONNECT_DATA_DIR":   t.TempDir(),
			"ZOOMCONNECT_GRPC_ADDR":  webtest.FreeAddr(t),
			"ZOOMCONNECT_HTTP_ADDR":  webtest.FreeAddr(t),
			"ZOOMCONNECT_ADMIN_ADDR": webtest.FreeAddr(t),
		}
		maps.Copy(vars, extra)
		return vars
	}
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		words []string
	}{
		{"gRPC port taken", base(map[string]string{"ZOOMCONNECT_GRPC_ADDR": taken.Addr().String()}),
			[]string{"ZOOMCONNECT_GRPC_ADDR", taken.Addr().String(), "address already in use"}},
		{"HTTP port taken", base(map[string]string{"ZOOMCONNECT_HTTP_ADDR": taken.Addr().String()}),
			[]string{"ZOOMCONNECT_HTTP_ADDR", taken.Addr().String(), "address already in use"}},
		{"Redis unreachable", base(map[string]string{"ZOOMCONNECT_REDIS_URL": "redis://" + webtest.FreeAddr(t)}),
			[]string{"ZOOMCONNECT_REDIS_URL", "connection refused"}},
		{"short encryption key", base(map[string]string{"ZOOMCONNECT_ENCRYPTION_KEYS": "k1:c2hvcnQ"}),
			[]string{"ZOOMCONNECT_ENCRYPTION_KEYS", "32"}},
		{"data dir is a file", base(map[string]string{"ZOOMCONNECT_DATA_DIR": "/dev/null"}),
			[]string{"ZOOMCONNECT_DATA_DIR", "/dev/null"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.vars)
			wantOneLineFailure(t, code, stderr, tc.words...)
		})
	}
}

// TestHelpAndUnknownFlags: the command line follows Go's conventions:
// --help prints the usage to stdout and exits 0 without serving; a flag
// that does not exist exits 2 with the usage on stderr.
func TestHelpAndUnknownFlags(t *testing.T) {
	// Serving with this configuration would fail with exit 1.
	unstartable := map[string]string{"ZOOMCONNECT_GRPC_ADDR": "not-an-address"}
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"}, {"serve", "--help"}, {"serve", "-h"},
		{"dev-token", "--help"}, {"keygen", "-h"}, {"zoom-emulator", "--help"},
	} {
		code, stdout, stderr := run(t, unstartable, args...)
		if code != 0 || !strings.HasPrefix(stdout, "usage: zoomconnect") || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	code, stdout, _ := run(t, unstartable, "dev-token", "--help")
	if code != 0 || !strings.Contains(stdout, "-role") || !strings.Contains(stdout, "ZOOMCONNECT_DATA_DIR") {
		t.Errorf("dev-token --help does not list its flags: %q", stdout)
	}
	for _, args := range [][]string{
		{"--bogus"}, {"-port=1"}, {"serve", "--bogus"}, {"dev-token", "--bogus"}, {"keygen", "--bogus"},
		{"zoom-emulator", "--bogus"}, {"keygen", "extra"},
	} {
		code, stdout, stderr := run(t, unstartable, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "usage: zoomconnect") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

// TestDevTokenRefusesWhatTheServerRefuses: dev-token mints only tokens the
// server accepts, and only with the server's own secret.
func TestDevTokenRefusesWhatTheServerRefuses(t *testing.T) {
	dataDir := t.TempDir()
	if _, _, err := secrets.LoadOrCreateDevSecret(dataDir, app.DevHS256SecretFile); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ZOOMCONNECT_DATA_DIR": dataDir}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "superuser"}, "--role"},
		{[]string{"--org", "bad{org}"}, "--org"},
		{[]string{"--org", ""}, "--org"},
		{[]string{"--sub", strings.Repeat("x", 300)}, "--sub"},
		{[]string{"--internal", "--sub", "a b"}, "--sub"},
		{[]string{"--ttl", "-1h"}, "--ttl"},
	} {
		code, stdout, stderr := run(t, vars, append([]string{"dev-token"}, tc.args...)...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "zoomconnect dev-token: "+tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("dev-token %v: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
	if code, stdout, stderr := run(t, vars, "dev-token", "--role", "admin"); code != 0 || strings.Count(stdout, ".") != 2 {
		t.Fatalf("a valid dev-token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// Run from another folder (another data dir), it does not make up a
	// secret that no server holds.
	elsewhere := filepath.Join(t.TempDir(), "data")
	code, stdout, stderr := run(t, map[string]string{"ZOOMCONNECT_DATA_DIR": elsewhere}, "dev-token")
	if code != 1 || stdout != "" || !strings.Contains(stderr, elsewhere) || !strings.Contains(stderr, "ZOOMCONNECT_DATA_DIR") ||
		!strings.Contains(stderr, "ZOOMCONNECT_AUTH_HS256_SECRET") {
		t.Fatalf("dev-token without the server's secret: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(elsewhere); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dev-token created %s (%v)", elsewhere, err)
	}
}
