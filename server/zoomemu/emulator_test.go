package zoomemu

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Run("revoke down until cleared", func(t *testing.T) {
		env := newEnv(t)
		tr := env.tokens(orgApp, DevAdminID)
		env.emu.InjectFault(EndpointRevoke, Fault{Status: 503, Body: `{"code":503,"message":"Service unavailable."}`})
		for range 3 {
			r := env.revoke(orgApp, tr.AccessToken)
			want(t, r, 503, `{"code":503,"message":"Service unavailable."}`)
			if ct := r.header.Get("Content-Type"); ct != jsonContentType {
				t.Errorf("Content-Type %q", ct)
			}
		}
		env.emu.ClearFaults()
		want(t, env.revoke(orgApp, tr.AccessToken), 200, `{"status":"success"}`)
		if st := env.emu.Stats(); st.FaultResponses != 3 || st.Revokes != 1 {
			t.Errorf("stats: %+v", st)
		}
	})
	t.Run("Times honoured and the faulted requests change nothing", func(t *testing.T) {
		env := newEnv(t)
		tr := env.tokens(orgApp, DevAdminID)
		env.emu.InjectFault(EndpointToken, Fault{Status: 429, Body: "slow down",
			Header: http.Header{"Retry-After": {"2026-03-03T00:00:00Z"}}, Times: 2})
		for range 2 {
			r := env.refresh(orgApp, tr.RefreshToken)
			want(t, r, 429, "slow down")
			if r.header.Get("Retry-After") != "2026-03-03T00:00:00Z" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Errorf("headers: %v", r.header)
			}
		}
		decodeToken(t, env.refresh(orgApp, tr.RefreshToken))
	})
	t.Run("users and authorize", func(t *testing.T) {
		env := newEnv(t)
		env.emu.InjectFault(EndpointUsers, Fault{Status: 500, Body: `{"code":500,"message":"boom"}`, Times: 1})
		env.emu.InjectFault(EndpointAuthorize, Fault{Status: 502, Times: 1})
		want(t, env.get("/v2/users/me", "x"), 500, `{"code":500,"message":"boom"}`)
		want(t, env.get("/v2/users/me", "x"), 401, `{"code":124,"message":"Invalid access token."}`)
		want(t, env.get("/oauth/authorize", ""), 502, "")
	})
	t.Run("delay respects the client going away", func(t *testing.T) {
		env := newEnv(t)
		env.emu.InjectFault(EndpointToken, Fault{Status: 503, Delay: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.base+"/oauth/token", nil)
		start := time.Now()
		_, err := env.http.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
		// srv.Close in Cleanup waits for the handler: it must have returned.
	})
	t.Run("delay only", func(t *testing.T) {
		env := newEnv(t)
		tr := env.tokens(orgApp, DevAdminID)
		env.emu.InjectFault(EndpointUsers, Fault{Delay: 50 * time.Millisecond, Times: 1})
		start := time.Now()
		if r := env.get("/v2/users/me", tr.AccessToken); r.status != http.StatusOK {
			t.Errorf("status %d", r.status)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v", d)
		}
		if st := env.emu.Stats(); st.FaultResponses != 0 || st.UsersCalls != 1 {
			t.Errorf("stats: %+v", st)
		}
	})
}

func TestHTMLEscaping(t *testing.T) {
	const evil = `"><script>alert(1)</script>`
	env := newEnv(t)
	if err := env.emu.AddUser(User{ID: "x" + evil, AccountID: "acct" + evil, Email: "e" + evil + "@acme.example",
		FirstName: "<img src=x onerror=alert(1)>", RoleID: "r" + evil, RoleName: "n" + evil}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"response_type": {"code"}, "client_id": {orgApp.ID}, "redirect_uri": {orgRedirect}, "state": {evil},
		"code_challenge": {evil}}
	page := env.get("/oauth/authorize?"+q.Encode(), "")
	if page.status != http.StatusOK {
		t.Fatalf("status %d", page.status)
	}
	errPage := env.get("/oauth/authorize?client_id="+url.QueryEscape(evil), "")
	for _, body := range []string{page.body, errPage.body} {
		if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
			t.Errorf("unescaped markup in:\n%s", body)
		}
	}
	if !strings.Contains(errPage.body, "&lt;script&gt;") {
		t.Errorf("error page does not show the escaped client_id:\n%s", errPage.body)
	}
	// The state survives the form round trip exactly.
	resp := submitSignIn(t, env.http, env.base+"/oauth/authorize?"+q.Encode(), DevOwnerID, "allow")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("state") != evil {
		t.Errorf("state not echoed exactly: %q", resp.Header.Get("Location"))
	}
}

func TestRouting(t *testing.T) {
	env := newEnv(t)
	want(t, env.get("/nope", ""), 404, `{"code":404,"message":"Not found."}`)
	want(t, env.get("/v2/users/", "x"), 404, `{"code":404,"message":"Not found."}`)
	want(t, env.get("/v2/users/me/meetings/x", "x"), 404, `{"code":404,"message":"Not found."}`)
	want(t, env.get("/v2/meetings/", "x"), 404, `{"code":404,"message":"Not found."}`)
	for path, allow := range map[string]string{"/v2/meetings/81234567890": "DELETE, GET, PATCH", "/v2/users/me/meetings": "GET, POST"} {
		req, _ := http.NewRequest(http.MethodPut, env.base+path, nil)
		r := env.do(req)
		want(t, r, 405, `{"code":405,"message":"Method not allowed."}`)
		if r.header.Get("Allow") != allow {
			t.Errorf("PUT %s: Allow = %q", path, r.header.Get("Allow"))
		}
	}
	r := env.get("/oauth/token", "")
	want(t, r, 405, `{"code":405,"message":"Method not allowed."}`)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
	req, _ := http.NewRequest(http.MethodDelete, env.base+"/oauth/authorize", nil)
	if r := env.do(req); r.status != 405 || r.header.Get("Allow") != "GET, POST" {
		t.Errorf("DELETE authorize: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

func TestNewValidates(t *testing.T) {
	ok := Client{ID: "c", Secret: "s"}
	user := User{ID: "u", AccountID: "a", Email: "u@a.example"}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"duplicate client", Config{Clients: []Client{ok, ok}}},
		{"client without secret", Config{Clients: []Client{{ID: "c"}}}},
		{"relative redirect", Config{Clients: []Client{{ID: "c", Secret: "s", RedirectURIs: []string{"/cb"}}}}},
		{"ftp redirect", Config{Clients: []Client{{ID: "c", Secret: "s", RedirectURIs: []string{"ftp://x.example/cb"}}}}},
		{"redirect with fragment", Config{Clients: []Client{{ID: "c", Secret: "s", RedirectURIs: []string{"https://x.example/cb#f"}}}}},
		{"duplicate user id", Config{Users: []User{user, {ID: "u", AccountID: "a", Email: "v@a.example"}}}},
		{"duplicate email", Config{Users: []User{user, {ID: "v", AccountID: "a", Email: "U@A.example"}}}},
		{"user without account", Config{Users: []User{{ID: "u", Email: "u@a.example"}}}},
		{"custom role without name", Config{Users: []User{{ID: "u", AccountID: "a", Email: "u@a.example", RoleID: "x"}}}},
		{"unknown refusal mode", Config{NonAdminInstall: "shrug"}},
		{"invalid_client status", Config{InvalidClientStatus: 403}},
		{"negative TTL", Config{CodeTTL: -time.Second}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
	if _, err := New(Config{}); err != nil {
		t.Errorf("empty config: %v", err)
	}
}

func TestDevConfig(t *testing.T) {
	cfg := DevConfig(Client{ID: "o", Secret: "s"}, Client{ID: "u", Secret: "s", AdminManaged: true})
	if !cfg.Clients[0].AdminManaged || cfg.Clients[1].AdminManaged {
		t.Errorf("app types not forced: %+v", cfg.Clients)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(emu.users) != 5 || emu.users[DevOtherOwnerID].AccountID != DevOtherAccountID || !emu.users[DevAppManagerID].CanInstallAdminApps {
		t.Errorf("seeded users: %+v", emu.users)
	}
}

func TestServe(t *testing.T) {
	emu, err := New(DevConfig(orgApp, userApp))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- emu.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/v2/users/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
