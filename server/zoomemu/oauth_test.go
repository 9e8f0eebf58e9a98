package zoomemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOAuth2Flow walks the flow with golang.org/x/oauth2 (Basic client auth,
// PKCE S256) through the rendered sign-in page, at the server root and under
// a prefix.
func TestOAuth2Flow(t *testing.T) {
	for _, prefix := range []string{"", "/zoom-emulator"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			env := newEnvAt(t, prefix)
			conf := &oauth2.Config{
				ClientID: orgApp.ID, ClientSecret: orgApp.Secret, RedirectURL: orgRedirect,
				Endpoint: oauth2.Endpoint{AuthURL: env.base + "/oauth/authorize", TokenURL: env.base + "/oauth/token",
					AuthStyle: oauth2.AuthStyleInHeader},
			}
			verifier := oauth2.GenerateVerifier()
			resp := submitSignIn(t, env.http, conf.AuthCodeURL("state-42", oauth2.S256ChallengeOption(verifier)), DevAdminID, "allow")
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("authorize: status %d", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != orgRedirect {
				t.Errorf("redirected to %s, want %s", got, orgRedirect)
			}
			if got := loc.Query().Get("state"); got != "state-42" {
				t.Errorf("state = %q", got)
			}

			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, env.http)
			tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.TokenType != "bearer" || tok.ExpiresIn != 3599 || tok.Extra("scope") != adminScopes {
				t.Errorf("token: type %q expires_in %d scope %v", tok.TokenType, tok.ExpiresIn, tok.Extra("scope"))
			}
			if tok.Extra("api_url") != nil {
				t.Errorf("api_url sent although APIURL is not configured")
			}
			if n := len(tok.AccessToken); n < 300 || strings.Count(tok.AccessToken, ".") != 2 {
				t.Errorf("access token does not look like Zoom's JWT (len %d)", n)
			}

			r, err := conf.Client(ctx, tok).Get(env.base + "/v2/users/me")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			var me map[string]any
			if err := json.NewDecoder(r.Body).Decode(&me); err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != http.StatusOK || me["id"] != DevAdminID || me["role_id"] != "1" ||
				me["role_name"] != "Admin" || me["account_id"] != DevAccountID || me["email"] != "admin@acme.example" {
				t.Errorf("users/me: %d %v", r.StatusCode, me)
			}

			// Rotation through x/oauth2: the refreshed token carries a new
			// refresh token, and the old one is dead.
			old := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
			fresh, err := conf.TokenSource(ctx, old).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
				t.Error("refresh did not rotate the tokens")
			}
			_, err = conf.TokenSource(ctx, old).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
				t.Errorf("reusing the old refresh token: %v", err)
			}

			st := env.emu.Stats()
			if st.AuthorizeApprovals != 1 || st.CodeExchanges != 1 || st.Refreshes != 1 ||
				st.TokenRequests["refresh_token"] != 2 || st.UsersCalls != 1 {
				t.Errorf("stats: %+v", st)
			}
			logs := env.logs.String()
			for _, secret := range []string{tok.AccessToken, tok.RefreshToken, fresh.RefreshToken,
				loc.Query().Get("code"), orgApp.Secret, verifier, "state-42"} {
				if strings.Contains(logs, secret) {
					t.Errorf("log contains a secret: %.20s…", secret)
				}
			}
		})
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	env := newEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "anyRedirect", Secret: "s"})
	})
	valid := url.Values{"response_type": {"code"}, "client_id": {orgApp.ID}, "redirect_uri": {orgRedirect}, "state": {"s"}}
	tests := []struct {
		name  string
		set   url.Values
		error string
	}{
		{"unknown client", url.Values{"client_id": {"nope"}}, "Invalid client_id: nope"},
		{"missing client", url.Values{"client_id": {""}}, "Invalid client_id: "},
		{"response_type token", url.Values{"response_type": {"token"}}, "Unsupported response_type: token"},
		{"redirect not allowed", url.Values{"redirect_uri": {"https://evil.example/cb"}}, "Invalid redirect: https://evil.example/cb"},
		{"redirect prefix of allowed", url.Values{"redirect_uri": {orgRedirect + "/x"}}, "Invalid redirect"},
		{"missing redirect", url.Values{"redirect_uri": {""}}, "Invalid redirect: "},
		{"any-client relative redirect", url.Values{"client_id": {"anyRedirect"}, "redirect_uri": {"/cb"}}, "Invalid redirect"},
		{"any-client javascript redirect", url.Values{"client_id": {"anyRedirect"}, "redirect_uri": {"javascript:alert(1)"}}, "Invalid redirect"},
		{"unknown PKCE method", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S512"}}, "Unsupported code_challenge_method: S512"},
		{"PKCE method without challenge", url.Values{"code_challenge_method": {"S256"}}, "without code_challenge"},
	}
	for _, tt := range tests {
		q := url.Values{}
		for k, v := range valid {
			q[k] = v
		}
		for k, v := range tt.set {
			q[k] = v
		}
		t.Run(tt.name+"/GET", func(t *testing.T) {
			checkErrorPage(t, env.get("/oauth/authorize?"+q.Encode(), ""), http.StatusBadRequest, tt.error)
		})
		t.Run(tt.name+"/POST", func(t *testing.T) {
			f := url.Values{"user_id": {DevOwnerID}, "decision": {"allow"}}
			for k, v := range q {
				f[k] = v
			}
			checkErrorPage(t, env.post("/oauth/authorize", nil, f), http.StatusBadRequest, tt.error)
		})
	}
	t.Run("any redirect allowed with empty allow list", func(t *testing.T) {
		r := env.authorize(Client{ID: "anyRedirect"}, DevOwnerID, url.Values{"redirect_uri": {"http://localhost:8080/cb"}})
		if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "http://localhost:8080/cb?code=") {
			t.Errorf("got %d %s", r.status, r.header.Get("Location"))
		}
	})
	t.Run("missing decision", func(t *testing.T) {
		checkErrorPage(t, env.authorize(orgApp, DevOwnerID, url.Values{"decision": {""}}), http.StatusBadRequest, "Choose Allow or Deny.")
	})
	t.Run("unknown user", func(t *testing.T) {
		checkErrorPage(t, env.authorize(orgApp, "ghost", nil), http.StatusBadRequest, "Choose the Zoom user")
	})
	if st := env.emu.Stats(); st.AuthorizeApprovals != 1 {
		t.Errorf("approvals = %d, want 1", st.AuthorizeApprovals)
	}
}

func checkErrorPage(t *testing.T, r response, status int, text string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d", r.status, status)
	}
	if loc := r.header.Get("Location"); loc != "" {
		t.Errorf("redirected to %s; errors must stay on the emulator's page", loc)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(r.body, text) {
		t.Errorf("page lacks %q:\n%s", text, r.body)
	}
}

func TestDeny(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		client Client
		state  string
		want   string
	}{
		{orgApp, "st-1", orgRedirect + "?error=access_denied&state=st-1"},
		{orgApp, "", orgRedirect + "?error=access_denied"},
		// The registered redirect_uri's own query is kept.
		{userApp, "a b&c", userRedirect + "&error=access_denied&state=a+b%26c"},
	}
	for _, tt := range tests {
		r := env.authorize(tt.client, "", url.Values{"decision": {"deny"}, "state": {tt.state}})
		if r.status != http.StatusFound || r.header.Get("Location") != tt.want {
			t.Errorf("deny: %d %q, want %q", r.status, r.header.Get("Location"), tt.want)
		}
	}
	if st := env.emu.Stats(); st.AuthorizeDenials != 3 || st.AuthorizeApprovals != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestAdminManagedInstallRequiresAdmin(t *testing.T) {
	tests := []struct {
		name   string
		mode   NonAdminInstall
		client Client
		user   string
		want   string // "code", "page" or "redirect"
	}{
		{"member refused with page (default)", "", orgApp, DevMemberID, "page"},
		{"member refused with redirect", RefuseWithRedirect, orgApp, DevMemberID, "redirect"},
		{"owner allowed", "", orgApp, DevOwnerID, "code"},
		{"admin allowed", "", orgApp, DevAdminID, "code"},
		{"custom role with app permissions allowed", "", orgApp, DevAppManagerID, "code"},
		{"owner of another account allowed", "", orgApp, DevOtherOwnerID, "code"},
		{"member installs user-managed app", RefuseWithPage, userApp, DevMemberID, "code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, func(c *Config) { c.NonAdminInstall = tt.mode })
			r := env.authorize(tt.client, tt.user, url.Values{"state": {"xyz"}})
			switch tt.want {
			case "page":
				checkErrorPage(t, r, http.StatusForbidden, nonAdminMessage)
			case "redirect":
				if r.status != http.StatusFound || r.header.Get("Location") != orgRedirect+"?error=access_denied&state=xyz" {
					t.Errorf("got %d %q", r.status, r.header.Get("Location"))
				}
			case "code":
				loc, _ := url.Parse(r.header.Get("Location"))
				if r.status != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
					t.Errorf("got %d %q %s", r.status, r.header.Get("Location"), r.body)
				}
			}
			st := env.emu.Stats()
			if refused := tt.want != "code"; refused != (st.AuthorizeRefusals == 1) || refused == (st.AuthorizeApprovals == 1) {
				t.Errorf("stats: %+v", st)
			}
		})
	}
}

func TestInactiveUserCannotSignIn(t *testing.T) {
	env := newEnv(t)
	if err := env.emu.AddUser(User{ID: "gone1", AccountID: DevAccountID, Email: "gone@acme.example", RoleID: "1", Status: "inactive"}); err != nil {
		t.Fatal(err)
	}
	checkErrorPage(t, env.authorize(orgApp, "gone1", nil), http.StatusForbidden, "inactive")
}

func TestAuthorizationCode(t *testing.T) {
	t.Run("single use", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		decodeToken(t, env.exchange(orgApp, code, nil))
		want(t, env.exchange(orgApp, code, nil), 400, `{"reason":"Invalid authorization code `+code+`","error":"invalid_request"}`)
		if strings.Contains(env.logs.String(), code) {
			t.Error("the code was logged")
		}
	})
	t.Run("expires after 5 minutes", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		env.clock.Advance(5 * time.Minute)
		want(t, env.exchange(orgApp, code, nil), 400, `{"reason":"Invalid authorization code `+code+`","error":"invalid_request"}`)
	})
	t.Run("valid just before expiry", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		env.clock.Advance(5*time.Minute - time.Second)
		decodeToken(t, env.exchange(orgApp, code, nil))
	})
	t.Run("other client cannot redeem", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		want(t, env.exchange(userApp, code, url.Values{"redirect_uri": {orgRedirect}}), 400,
			`{"reason":"Invalid authorization code `+code+`","error":"invalid_request"}`)
		decodeToken(t, env.exchange(orgApp, code, nil)) // a foreign attempt does not burn it
	})
	t.Run("redirect mismatch burns the code", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		want(t, env.exchange(orgApp, code, url.Values{"redirect_uri": {orgRedirect + "?x=1"}}), 400,
			`{"reason":"Redirect URI mismatch.","error":"invalid_request"}`)
		want(t, env.exchange(orgApp, code, nil), 400, `{"reason":"Invalid authorization code `+code+`","error":"invalid_request"}`)
	})
	t.Run("missing redirect_uri is a mismatch", func(t *testing.T) {
		env := newEnv(t)
		code := env.code(orgApp, DevOwnerID, nil)
		want(t, env.exchange(orgApp, code, url.Values{"redirect_uri": nil}), 400,
			`{"reason":"Redirect URI mismatch.","error":"invalid_request"}`)
	})
	t.Run("missing code", func(t *testing.T) {
		env := newEnv(t)
		want(t, env.exchange(orgApp, "", nil), 400, `{"reason":"Missing code.","error":"invalid_request"}`)
	})
}

func TestPKCE(t *testing.T) {
	verifier := oauth2.GenerateVerifier()
	s256 := url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	plain := url.Values{"code_challenge": {verifier}} // no method: plain
	const mismatch = `{"reason":"Invalid code_verifier.","error":"invalid_grant"}`
	tests := []struct {
		name      string
		authorize url.Values
		verifier  string
		ok        bool
	}{
		{"S256 match", s256, verifier, true},
		{"S256 mismatch", s256, verifier + "x", false},
		{"S256 verifier missing", s256, "", false},
		{"S256 challenge sent as verifier", s256, s256.Get("code_challenge"), false},
		{"plain by default", plain, verifier, true},
		{"plain mismatch", plain, "other", false},
		{"explicit plain", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"plain"}}, "abc", true},
		{"no challenge ignores verifier", nil, "whatever", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			code := env.code(userApp, DevMemberID, tt.authorize)
			var extra url.Values
			if tt.verifier != "" {
				extra = url.Values{"code_verifier": {tt.verifier}}
			}
			r := env.exchange(userApp, code, extra)
			if tt.ok {
				decodeToken(t, r)
			} else {
				want(t, r, 400, mismatch)
			}
		})
	}
}

func TestTokenEndpointRequests(t *testing.T) {
	const badClient = `{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`
	env := newEnv(t)
	wrongSecret := Client{ID: orgApp.ID, Secret: "nope"}
	unknown := Client{ID: "nope", Secret: orgApp.Secret}

	want(t, env.post("/oauth/token", &wrongSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), 400, badClient)
	want(t, env.post("/oauth/token", &unknown, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), 400, badClient)
	want(t, env.post("/oauth/token", nil, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), 400, badClient)
	want(t, env.post("/oauth/token", &orgApp, url.Values{"grant_type": {"password"}}), 400, `{"error":"unsupported_grant_type"}`)
	want(t, env.post("/oauth/token", &orgApp, nil), 400, `{"reason":"Missing grant_type.","error":"invalid_request"}`)
	want(t, env.post("/oauth/token", &orgApp, url.Values{"grant_type": {"refresh_token"}}), 400,
		`{"reason":"Missing refresh_token.","error":"invalid_request"}`)

	t.Run("client credentials in the body", func(t *testing.T) {
		code := env.code(orgApp, DevOwnerID, nil)
		decodeToken(t, env.post("/oauth/token", nil, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {orgRedirect}, "client_id": {orgApp.ID}, "client_secret": {orgApp.Secret}}))
	})
	t.Run("parameters in the query string", func(t *testing.T) {
		tr := env.tokens(orgApp, DevOwnerID)
		q := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}
		decodeToken(t, env.post("/oauth/token?"+q.Encode(), &orgApp, nil))
	})
	t.Run("form-encoded Basic credentials", func(t *testing.T) {
		odd := Client{ID: "odd:id", Secret: "s3cr%t +/:"}
		env := newEnv(t, func(c *Config) { c.Clients = append(c.Clients, odd) })
		req, _ := http.NewRequest(http.MethodPost, env.base+"/oauth/token", strings.NewReader("grant_type=password"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(odd.ID), url.QueryEscape(odd.Secret))
		want(t, env.do(req), 400, `{"error":"unsupported_grant_type"}`)
	})
	t.Run("headers", func(t *testing.T) {
		for _, r := range []response{
			env.exchange(orgApp, env.code(orgApp, DevOwnerID, nil), nil),
			env.post("/oauth/token", &wrongSecret, nil),
		} {
			if r.header.Get("Content-Type") != "application/json;charset=UTF-8" || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%d: headers %v", r.status, r.header)
			}
		}
	})
	t.Run("401 for invalid_client when configured", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.InvalidClientStatus = http.StatusUnauthorized })
		want(t, env.post("/oauth/token", &wrongSecret, nil), 401, badClient)
	})
	t.Run("api_url when configured", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.APIURL = "https://api.zoom.example" })
		if tr := env.tokens(orgApp, DevOwnerID); tr.APIURL != "https://api.zoom.example" {
			t.Errorf("api_url = %q", tr.APIURL)
		}
	})
	t.Run("scopes by app type", func(t *testing.T) {
		if tr := env.tokens(userApp, DevMemberID); tr.Scope != userScopes || tr.TokenType != "bearer" || tr.ExpiresIn != 3599 {
			t.Errorf("user-managed token: %+v", tr)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	const invalidToken = `{"reason":"Invalid Token!","error":"invalid_grant"}`
	env := newEnv(t)
	t1 := env.tokens(orgApp, DevAdminID)
	t2 := decodeToken(t, env.refresh(orgApp, t1.RefreshToken))
	if t2.RefreshToken == t1.RefreshToken || t2.AccessToken == t1.AccessToken || t2.Scope != adminScopes {
		t.Fatalf("refresh did not rotate: %+v", t2)
	}
	want(t, env.refresh(orgApp, t1.RefreshToken), 400, invalidToken)
	// The refresh token of another client is unknown to this one.
	want(t, env.refresh(userApp, t2.RefreshToken), 400, invalidToken)
	// An access token is not a refresh token.
	want(t, env.refresh(orgApp, t2.AccessToken), 400, invalidToken)
	t3 := decodeToken(t, env.refresh(orgApp, t2.RefreshToken))
	want(t, env.get("/v2/users/me", t1.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	want(t, env.get("/v2/users/me", t2.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	if r := env.get("/v2/users/me", t3.AccessToken); r.status != http.StatusOK {
		t.Errorf("newest access token: %d %s", r.status, r.body)
	}
	if st := env.emu.Stats(); st.Refreshes != 2 || st.TokenRequests["refresh_token"] != 5 {
		t.Errorf("stats: %+v", st)
	}
	if n := env.emu.ActiveGrants(orgApp.ID, DevAdminID); n != 1 {
		t.Errorf("ActiveGrants = %d", n)
	}

	t.Run("refresh token expiry", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.RefreshTokenTTL = time.Hour })
		tr := env.tokens(orgApp, DevAdminID)
		env.clock.Advance(time.Hour)
		want(t, env.refresh(orgApp, tr.RefreshToken), 400, invalidToken)
		if n := env.emu.ActiveGrants(orgApp.ID, ""); n != 0 {
			t.Errorf("ActiveGrants = %d", n)
		}
	})
	t.Run("KeepAccessTokenOnRefresh", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.KeepAccessTokenOnRefresh = true })
		t1 := env.tokens(orgApp, DevAdminID)
		env.clock.Advance(time.Minute)
		decodeToken(t, env.refresh(orgApp, t1.RefreshToken))
		if r := env.get("/v2/users/me", t1.AccessToken); r.status != http.StatusOK {
			t.Errorf("old access token after refresh: %d %s", r.status, r.body)
		}
		env.clock.Advance(3599*time.Second - time.Minute)
		want(t, env.get("/v2/users/me", t1.AccessToken), 401, `{"code":124,"message":"Access token is expired."}`)
	})
}

// TestConcurrentRefresh: of many clients refreshing the same token at once,
// exactly one wins (what breaks integrations without single-flight).
func TestConcurrentRefresh(t *testing.T) {
	env := newEnv(t)
	tr := env.tokens(orgApp, DevAdminID)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { statuses <- env.refresh(orgApp, tr.RefreshToken).status })
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d refreshes succeeded, want 1", ok)
	}
}

func TestReauthorizationRevokesPreviousGrant(t *testing.T) {
	env := newEnv(t)
	first := env.tokens(orgApp, DevAdminID)
	userGrant := env.tokens(userApp, DevAdminID)
	second := env.tokens(orgApp, DevAdminID)
	want(t, env.refresh(orgApp, first.RefreshToken), 400, `{"reason":"Invalid Token!","error":"invalid_grant"}`)
	want(t, env.get("/v2/users/me", first.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	for _, tok := range []string{second.AccessToken, userGrant.AccessToken} {
		if r := env.get("/v2/users/me", tok); r.status != http.StatusOK {
			t.Errorf("users/me: %d %s", r.status, r.body)
		}
	}
	// Another admin's grant of the same app is separate.
	env.tokens(orgApp, DevOwnerID)
	if r := env.get("/v2/users/me", second.AccessToken); r.status != http.StatusOK {
		t.Errorf("first admin's token after the owner authorized: %d", r.status)
	}
	for _, c := range []struct {
		client, user string
		want         int
	}{{orgApp.ID, DevAdminID, 1}, {orgApp.ID, "", 2}, {userApp.ID, DevAdminID, 1}, {userApp.ID, DevMemberID, 0}} {
		if n := env.emu.ActiveGrants(c.client, c.user); n != c.want {
			t.Errorf("ActiveGrants(%s, %s) = %d, want %d", c.client, c.user, n, c.want)
		}
	}
}

func TestRevoke(t *testing.T) {
	env := newEnv(t)
	var (
		mu     sync.Mutex
		events []RevokeEvent
	)
	env.emu.OnRevoke(func(ev RevokeEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	})
	tr := env.tokens(orgApp, DevAdminID)
	want(t, env.revoke(userApp, tr.AccessToken), 400, `{"reason":"Invalid Token!","error":"invalid_request"}`)
	want(t, env.revoke(Client{ID: orgApp.ID, Secret: "x"}, tr.AccessToken), 400,
		`{"reason":"Invalid client_id or client_secret","error":"invalid_client"}`)
	want(t, env.revoke(orgApp, ""), 400, `{"reason":"Missing token.","error":"invalid_request"}`)

	r := env.revoke(orgApp, tr.AccessToken)
	want(t, r, 200, `{"status":"success"}`)
	mu.Lock()
	if len(events) != 1 || events[0] != (RevokeEvent{ClientID: orgApp.ID, UserID: DevAdminID, AccountID: DevAccountID, Time: env.clock.Now()}) {
		t.Errorf("events = %+v", events)
	}
	mu.Unlock()
	want(t, env.get("/v2/users/me", tr.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	want(t, env.refresh(orgApp, tr.RefreshToken), 400, `{"reason":"Invalid Token!","error":"invalid_grant"}`)
	want(t, env.revoke(orgApp, tr.AccessToken), 400, `{"reason":"Invalid Token!","error":"invalid_request"}`)
	if n := env.emu.ActiveGrants(orgApp.ID, DevAdminID); n != 0 {
		t.Errorf("ActiveGrants = %d", n)
	}

	t.Run("by refresh token in the body", func(t *testing.T) {
		tr := env.tokens(userApp, DevMemberID)
		want(t, env.post("/oauth/revoke", &userApp, url.Values{"token": {tr.RefreshToken}}), 200, `{"status":"success"}`)
		want(t, env.get("/v2/users/me", tr.AccessToken), 401, `{"code":124,"message":"Invalid access token."}`)
	})
	t.Run("uninstall", func(t *testing.T) {
		tr := env.tokens(orgApp, DevOwnerID)
		if err := env.emu.Uninstall(orgApp.ID, DevOwnerID); err != nil {
			t.Fatal(err)
		}
		want(t, env.refresh(orgApp, tr.RefreshToken), 400, `{"reason":"Invalid Token!","error":"invalid_grant"}`)
		if err := env.emu.Uninstall(orgApp.ID, DevOwnerID); err == nil {
			t.Error("second Uninstall succeeded")
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if st := env.emu.Stats(); len(events) != 3 || st.Revokes != 2 || st.Uninstalls != 1 {
		t.Errorf("events %d, stats %+v", len(events), st)
	}
}
