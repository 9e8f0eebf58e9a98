package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/cli"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
)

// TestDevModeSurvivesRestart: in dev mode the built-in Zoom emulator keeps
// the tokens it issued in the data dir, so an org connected before a
// restart still creates meetings after it, on every store.
func TestDevModeSurvivesRestart(t *testing.T) {
	for name, redisURL := range map[string]func() string{
		"embedded":      func() string { return "" },
		"redis":         func() string { return redistest.StartStandalone(t).URL() },
		"redis-cluster": func() string { return redistest.StartCluster(t).URL() },
	} {
		t.Run(name, func(t *testing.T) { devModeSurvivesRestart(t, redisURL()) })
	}
}

func devModeSurvivesRestart(t *testing.T, redisURL string) {
	httpAddr := webtest.FreeAddr(t)
	vars := env(map[string]string{
		"ZOOMCONNECT_DATA_DIR":   t.TempDir(),
		"ZOOMCONNECT_GRPC_ADDR":  webtest.FreeAddr(t),
		"ZOOMCONNECT_HTTP_ADDR":  httpAddr,
		"ZOOMCONNECT_ADMIN_ADDR": webtest.FreeAddr(t),
		"ZOOMCONNECT_REDIS_URL":  redisURL,
	})
	base := "http://" + httpAddr
	serve := func() (stop func()) {
		stop = runServe(t, vars, &bytes.Buffer{})
		waitReady(t, base)
		return stop
	}
	devToken := func(args ...string) string {
		var out bytes.Buffer
		if code := cli.Main(context.Background(), append([]string{"dev-token"}, args...), vars, &out, &bytes.Buffer{}); code != 0 {
			t.Fatalf("dev-token exit %d", code)
		}
		return strings.TrimSpace(out.String())
	}
	call := func(tok, method, path, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	createMeeting := func(tok, booking string) {
		t.Helper()
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)
		code, body := call(tok, "POST", "/v1/orgs/acme/meetings",
			`{"bookingId":"`+booking+`","userId":"mia","topic":"Intro","startTime":"`+start+`","duration":"1800s"}`)
		var got struct {
			Meeting struct {
				JoinURL string `json:"joinUrl"`
			} `json:"meeting"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.Meeting.JoinURL == "" {
			t.Fatalf("create meeting %s: HTTP %d %s", booking, code, body)
		}
	}

	stop := serve()
	owner, internal := devToken("--sub", "olivia", "--org", "acme", "--role", "owner"), devToken("--internal")
	code, body := call(owner, "POST", "/v1/orgs/acme/zoom:connect", "")
	var started struct {
		InstallURL string `json:"installUrl"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &started) != nil {
		t.Fatalf("connect: HTTP %d %s", code, body)
	}
	browser := webtest.NewBrowser(t)
	hop := browser.Get(started.InstallURL)
	authorize, err := url.Parse(hop.Location)
	if err != nil || hop.Status != http.StatusFound {
		t.Fatalf("install link answered HTTP %d to %q", hop.Status, hop.Location)
	}
	callback, _ := browser.SignInAtZoom(authorize, zoomemu.DevAdminID, "allow")
	webtest.WantPage(t, browser.Get(callback), http.StatusOK, "Zoom is connected")
	if code, body := call(internal, "PUT", "/v1/orgs/acme/members/mia", `{"email":"member@acme.example"}`); code != http.StatusOK {
		t.Fatalf("upsert member: HTTP %d %s", code, body)
	}
	createMeeting(internal, "before-restart")
	stop()

	stop = serve() // the same data dir: a restarted process
	defer stop()
	createMeeting(internal, "after-restart")
	code, body = call(owner, "GET", "/v1/orgs/acme/zoom", "")
	if code != http.StatusOK || !strings.Contains(body, "CONNECTION_STATE_ACTIVE") {
		t.Fatalf("after the restart the connection is %s", body)
	}
}
