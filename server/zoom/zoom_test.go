package zoom_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/zoom"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"golang.org/x/oauth2"
)

const redirect = "http://127.0.0.1:1/oauth/zoom/callback"

func setup(t *testing.T) (*zoom.Client, *zoomemu.Emulator) {
	t.Helper()
	emu, err := zoomemu.New(zoomemu.DevConfig(
		zoomemu.Client{ID: "org-app", Secret: "org-secret", RedirectURIs: []string{redirect}},
		zoomemu.Client{ID: "user-app", Secret: "user-secret", RedirectURIs: []string{redirect}},
	))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return zoom.New(zoom.Config{
		OAuthURL: srv.URL, APIURL: srv.URL + "/v2", RedirectURL: redirect,
		OrgApp:  zoom.Credentials{ClientID: "org-app", ClientSecret: "org-secret"},
		UserApp: zoom.Credentials{ClientID: "user-app", ClientSecret: "user-secret"},
	}), emu
}

// authorize plays the browser: userID approves and the code comes back.
func authorize(t *testing.T, c *zoom.Client, app zoom.App, userID, verifier string) string {
	t.Helper()
	raw, err := c.AuthCodeURL(app, "st", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	form := u.Query()
	form.Set("user_id", userID)
	form.Set("decision", "allow")
	u.RawQuery = ""
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(u.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("authorize answered HTTP %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestExchangeGetUserRevoke(t *testing.T) {
	c, emu := setup(t)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	tok, err := c.Exchange(ctx, zoom.OrgApp, authorize(t, c, zoom.OrgApp, zoomemu.DevAdminID, verifier), verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() || tok.Scope == "" {
		t.Fatalf("tokens incomplete: expiry %v scope %q", tok.Expiry, tok.Scope)
	}
	me, err := c.GetUser(ctx, tok.AccessToken, "me")
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != zoomemu.DevAdminID || me.AccountID != zoomemu.DevAccountID || !me.IsAccountAdmin() {
		t.Fatalf("me = %+v", me)
	}
	member, err := c.GetUser(ctx, tok.AccessToken, "member@acme.example")
	if err != nil || member.IsAccountAdmin() || member.RoleID != "2" {
		t.Fatalf("member = %+v, %v", member, err)
	}
	var apiErr *zoom.APIError
	if _, err := c.GetUser(ctx, tok.AccessToken, "nobody@acme.example"); !errors.As(err, &apiErr) || apiErr.Code != zoom.CodeUserNotFound || apiErr.HTTPStatus != 404 {
		t.Fatalf("unknown user: %v", err)
	}
	if err := c.Revoke(ctx, zoom.OrgApp, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	if emu.ActiveGrants("org-app", zoomemu.DevAdminID) != 0 {
		t.Fatal("grant survived revoke")
	}
	if _, err := c.GetUser(ctx, tok.AccessToken, "me"); !errors.As(err, &apiErr) || apiErr.Code != zoom.CodeInvalidAccessToken {
		t.Fatalf("revoked token still reads users: %v", err)
	}
	var oauthErr *zoom.OAuthError
	if err := c.Revoke(ctx, zoom.OrgApp, tok.AccessToken); !errors.As(err, &oauthErr) || !oauthErr.GrantDead() {
		t.Fatalf("revoking twice = %v, want a dead-grant OAuth error", err)
	}
}

func TestExchangeFailures(t *testing.T) {
	c, _ := setup(t)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	code := authorize(t, c, zoom.OrgApp, zoomemu.DevAdminID, verifier)
	var oe *zoom.OAuthError
	if _, err := c.Exchange(ctx, zoom.OrgApp, code, oauth2.GenerateVerifier()); !errors.As(err, &oe) || oe.HTTPStatus != 400 {
		t.Fatalf("PKCE mismatch = %v", err)
	}
	if _, err := c.Exchange(ctx, zoom.OrgApp, "no-such-code", verifier); !errors.As(err, &oe) || oe.Code == "" {
		t.Fatalf("bad code = %v", err)
	}
	unconfigured := zoom.New(zoom.Config{OAuthURL: "http://127.0.0.1:1", APIURL: "http://127.0.0.1:1/v2"})
	if _, err := unconfigured.AuthCodeURL(zoom.UserApp, "s", verifier); !errors.Is(err, zoom.ErrAppNotConfigured) {
		t.Fatalf("unconfigured app = %v", err)
	}
}

func TestGrantDeadClassification(t *testing.T) {
	for _, tc := range []struct {
		e    zoom.OAuthError
		dead bool
	}{
		{zoom.OAuthError{HTTPStatus: 400, Code: "invalid_grant", Reason: "Invalid Token!"}, true},
		{zoom.OAuthError{HTTPStatus: 401, Code: "invalid_request", Reason: "Invalid Token!"}, true},
		{zoom.OAuthError{HTTPStatus: 400, Code: "invalid_grant"}, true},
		{zoom.OAuthError{HTTPStatus: 400, Code: "invalid_client", Reason: "Invalid client_id or client_secret"}, false},
		{zoom.OAuthError{HTTPStatus: 503}, false},
	} {
		if got := tc.e.GrantDead(); got != tc.dead {
			t.Errorf("%v.GrantDead() = %v", tc.e, got)
		}
	}
}
