package zoomemu

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The scopes an app gets unless Client.Scopes says otherwise: the granular
// scopes zoomconnect needs (Zoom fixes scopes in the app configuration, not
// per request).
const (
	adminScopes = "user:read:user:admin meeting:read:list_meetings:admin meeting:read:meeting:admin meeting:write:meeting:admin meeting:update:meeting:admin meeting:delete:meeting:admin"
	userScopes  = "user:read:user meeting:read:list_meetings meeting:read:meeting meeting:write:meeting meeting:update:meeting meeting:delete:meeting"
)

// scopesFor is what a grant of c holds: exactly c's configured scopes.
func scopesFor(c Client) string {
	switch {
	case c.Scopes != nil:
		return strings.Join(c.Scopes, " ")
	case c.AdminManaged:
		return adminScopes
	}
	return userScopes
}

// scopeRule is the scopes one API accepts (zoom-api.md §2): the granular
// scope for the token's own user and the ":admin" one, which also reaches
// the other users of the account, with their classic equivalents.
type scopeRule struct{ own, admin, classicOwn, classicAdmin string }

var (
	scopeReadUser      = scopeRule{"user:read:user", "user:read:user:admin", "user:read", "user:read:admin"}
	scopeListMeetings  = scopeRule{"meeting:read:list_meetings", "meeting:read:list_meetings:admin", "meeting:read", "meeting:read:admin"}
	scopeReadMeeting   = scopeRule{"meeting:read:meeting", "meeting:read:meeting:admin", "meeting:read", "meeting:read:admin"}
	scopeCreateMeeting = scopeRule{"meeting:write:meeting", "meeting:write:meeting:admin", "meeting:write", "meeting:write:admin"}
	scopeUpdateMeeting = scopeRule{"meeting:update:meeting", "meeting:update:meeting:admin", "meeting:write", "meeting:write:admin"}
	scopeDeleteMeeting = scopeRule{"meeting:delete:meeting", "meeting:delete:meeting:admin", "meeting:write", "meeting:write:admin"}
)

// allows reports whether g holds a scope of r for its own user (self) or
// for any user of its account.
func (g *grant) allows(r scopeRule, self bool) bool {
	return g.hasScope(r.admin) || g.hasScope(r.classicAdmin) || (self && (g.hasScope(r.own) || g.hasScope(r.classicOwn)))
}

// missing is Zoom's answer to a token without r's scopes (HTTP 400 4711,
// listing the granular scopes that would do: only the ":admin" one for
// another user).
func (r scopeRule) missing(self bool) *apiError {
	if !self {
		return missingScope(r.admin)
	}
	return missingScope(r.admin + ", " + r.own)
}

// nonAdminMessage is Zoom's text for a non-admin installing an
// admin-managed app.
const nonAdminMessage = "An account admin is required to install this type of app. Please contact your account admin or IT administrator to install this app."

// maxFormBytes bounds request bodies; real OAuth requests are tiny.
const maxFormBytes = 64 << 10

type authCode struct {
	clientID, redirectURI, userID string
	challenge, method             string
	expires                       time.Time
}

type grantKey struct{ clientID, userID string }

// grant is one authorization of a client by a user: the current refresh
// token and the access tokens that are still valid.
type grant struct {
	clientID, userID, accountID string
	scope                       string
	refresh                     string
	refreshExp                  time.Time
	access                      map[string]time.Time // token → expiry
}

func (g *grant) hasScope(s string) bool {
	return slices.Contains(strings.Fields(g.scope), s)
}

// authRequest is a validated authorization request.
type authRequest struct {
	client            Client
	redirect          *url.URL
	state             string
	challenge, method string
	params            url.Values // the original parameters, for the sign-in form
}

var authParams = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"}

// parseAuthRequest checks what Zoom checks before it shows its sign-in page.
// Failures are shown on the emulator's own page and never sent to
// redirect_uri, which cannot be trusted yet. The string is the problem.
func (e *Emulator) parseAuthRequest(form url.Values) (authRequest, string) {
	c, ok := e.clients[form.Get("client_id")]
	if !ok {
		return authRequest{}, "Invalid client_id: " + form.Get("client_id")
	}
	ru := form.Get("redirect_uri")
	redirect, ok := parseRedirect(ru)
	if !ok || (len(c.RedirectURIs) > 0 && !slices.Contains(c.RedirectURIs, ru)) {
		return authRequest{}, "Invalid redirect: " + ru
	}
	if rt := form.Get("response_type"); rt != "code" {
		return authRequest{}, "Unsupported response_type: " + rt
	}
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case method != "" && challenge == "":
		return authRequest{}, "code_challenge_method was sent without code_challenge."
	case method != "" && method != "plain" && method != "S256":
		return authRequest{}, "Unsupported code_challenge_method: " + method
	case challenge != "" && method == "":
		method = "plain" // RFC 7636 default, which Zoom follows
	}
	params := url.Values{}
	for _, p := range authParams {
		if v := form.Get(p); v != "" {
			params.Set(p, v)
		}
	}
	return authRequest{client: c, redirect: redirect, state: form.Get("state"),
		challenge: challenge, method: method, params: params}, ""
}

// authorizePage is GET /oauth/authorize: Zoom's sign-in and consent, where
// the person picks the emulated Zoom user who signs in.
func (e *Emulator) authorizePage(w http.ResponseWriter, r *http.Request) {
	req, problem := e.parseAuthRequest(r.URL.Query())
	if problem != "" {
		e.errorPage(w, http.StatusBadRequest, "Invalid request", problem)
		return
	}
	e.renderPage(w, http.StatusOK, "signin", e.signInData(req))
}

// authorizeDecision is POST /oauth/authorize, the sign-in form's target.
func (e *Emulator) authorizeDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		e.errorPage(w, http.StatusBadRequest, "Invalid request", "The form could not be read.")
		return
	}
	req, problem := e.parseAuthRequest(r.Form)
	if problem != "" {
		e.errorPage(w, http.StatusBadRequest, "Invalid request", problem)
		return
	}
	switch r.Form.Get("decision") {
	case "allow":
	case "deny":
		e.mu.Lock()
		e.stats.AuthorizeDenials++
		e.mu.Unlock()
		redirectBack(w, req, url.Values{"error": {"access_denied"}})
		return
	default:
		e.errorPage(w, http.StatusBadRequest, "Invalid request", "Choose Allow or Deny.")
		return
	}

	e.mu.Lock()
	u, ok := e.users[r.Form.Get("user_id")]
	switch {
	case !ok:
		e.mu.Unlock()
		e.errorPage(w, http.StatusBadRequest, "Invalid request", "Choose the Zoom user who signs in.")
		return
	case u.Status != "active":
		e.mu.Unlock()
		e.errorPage(w, http.StatusForbidden, "Sign-in failed", "This Zoom user is "+u.Status+" and cannot sign in.")
		return
	case req.client.AdminManaged && !canInstallAdminApps(u.User):
		e.stats.AuthorizeRefusals++
		e.mu.Unlock()
		e.log.Debug("zoom emulator: non-admin refused", "client_id", req.client.ID, "user_id", u.ID)
		if e.cfg.NonAdminInstall == RefuseWithRedirect {
			redirectBack(w, req, url.Values{"error": {"access_denied"}})
			return
		}
		e.errorPage(w, http.StatusForbidden, "Unable to install this app", nonAdminMessage)
		return
	}
	now := e.cfg.Now()
	for c, ac := range e.codes {
		if !now.Before(ac.expires) {
			delete(e.codes, c)
		}
	}
	code := randomString(24)
	e.codes[code] = &authCode{clientID: req.client.ID, redirectURI: req.params.Get("redirect_uri"), userID: u.ID,
		challenge: req.challenge, method: req.method, expires: now.Add(e.cfg.CodeTTL)}
	e.stats.AuthorizeApprovals++
	e.mu.Unlock()
	e.log.Debug("zoom emulator: code issued", "client_id", req.client.ID, "user_id", u.ID)
	redirectBack(w, req, url.Values{"code": {code}})
}

// canInstallAdminApps is Zoom's rule for account-level apps: Owner, Admin,
// or a custom role with the app permissions.
func canInstallAdminApps(u User) bool {
	return u.RoleID == "0" || u.RoleID == "1" || u.CanInstallAdminApps
}

// redirectBack sends the browser to the request's redirect_uri with q and the
// state (omitted when empty). The redirect_uri's own query is kept verbatim.
func redirectBack(w http.ResponseWriter, req authRequest, q url.Values) {
	if req.state != "" {
		q.Set("state", req.state)
	}
	u := *req.redirect
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += q.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// oauthError is the token and revoke endpoints' error body, which differs
// from the REST API's {code,message}.
type oauthError struct {
	status int
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error"`
	// logReason replaces Reason in the log when Reason holds a secret.
	logReason string
}

func invalidRequest(reason string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Reason: reason, Error: "invalid_request"}
}

// invalidCode is Zoom's answer to an unknown, used, foreign or expired code;
// Zoom echoes the code in the reason.
func invalidCode(code, why string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Reason: "Invalid authorization code " + code,
		Error: "invalid_request", logReason: why}
}

func invalidGrant(reason string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Reason: reason, Error: "invalid_grant"}
}

// errInvalidToken is Zoom's answer to a stale, rotated-out or revoked
// refresh token.
var errInvalidToken = invalidGrant("Invalid Token!")

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	APIURL       string `json:"api_url,omitempty"`
}

// tokenRequest is a parsed POST /oauth/token or /oauth/revoke request.
type tokenRequest struct {
	client Client
	form   url.Values
}

// parseTokenRequest reads the parameters (form body or query string, both
// allowed by Zoom) and authenticates the client: HTTP Basic as Zoom
// documents, or client_id/client_secret parameters, which Zoom's error texts
// imply it accepts too.
func (e *Emulator) parseTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return tokenRequest{}, invalidRequest("Invalid request body.")
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: form-encoded before Basic encoding, as x/oauth2 does.
		id, secret = formUnescape(id), formUnescape(secret)
	} else {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	c, known := e.clients[id]
	if !known || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return tokenRequest{}, &oauthError{status: e.cfg.InvalidClientStatus,
			Reason: "Invalid client_id or client_secret", Error: "invalid_client"}
	}
	return tokenRequest{client: c, form: r.Form}, nil
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// compliance is POST /oauth/data/compliance, Zoom's legacy Data Compliance
// API, which Zoom has deprecated (zoom-api.md §5.4): apps must no longer
// call it. It still answers as it did (client auth as for revoke; the JSON
// body must name the same client and say compliance_completed; answer {})
// and is counted in Stats.ComplianceConfirmations, so that tests can check
// that nobody calls it.
func (e *Emulator) compliance(w http.ResponseWriter, r *http.Request) {
	req, oerr := e.parseTokenRequest(w, r)
	if oerr != nil {
		writeOAuth(w, oerr.status, oerr)
		return
	}
	var body struct {
		ClientID  string          `json:"client_id"`
		UserID    string          `json:"user_id"`
		AccountID string          `json:"account_id"`
		Event     json.RawMessage `json:"deauthorization_event_received"`
		Completed bool            `json:"compliance_completed"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes)).Decode(&body); err != nil ||
		body.ClientID != req.client.ID || !body.Completed || len(body.Event) == 0 || body.Event[0] != '{' {
		writeJSON(w, http.StatusBadRequest, &apiError{Code: 300, Message: "Validation Failed."})
		return
	}
	e.mu.Lock()
	e.stats.ComplianceConfirmations++
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// token is POST /oauth/token.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	req, oerr := e.parseTokenRequest(w, r)
	if oerr != nil {
		writeOAuth(w, oerr.status, oerr)
		return
	}
	grantType := req.form.Get("grant_type")
	var resp tokenResponse
	switch grantType {
	case "authorization_code":
		resp, oerr = e.exchangeCode(req)
	case "refresh_token":
		resp, oerr = e.refresh(req)
	case "":
		oerr = invalidRequest("Missing grant_type.")
	default:
		oerr = &oauthError{status: http.StatusBadRequest, Error: "unsupported_grant_type"}
	}
	e.mu.Lock()
	e.stats.TokenRequests[grantType]++
	e.mu.Unlock()
	if oerr != nil {
		e.log.Debug("zoom emulator: token request refused", "client_id", req.client.ID,
			"grant_type", grantType, "error", oerr.Error, "reason", cmp.Or(oerr.logReason, oerr.Reason))
		writeOAuth(w, oerr.status, oerr)
		return
	}
	writeOAuth(w, http.StatusOK, resp)
}

// exchangeCode redeems an authorization code. Any redemption attempt by the
// code's client uses the code up, also a failed one (wrong redirect_uri or
// code_verifier): codes are strictly single use. A code_verifier sent for a
// code issued without code_challenge is ignored.
func (e *Emulator) exchangeCode(req tokenRequest) (tokenResponse, *oauthError) {
	code := req.form.Get("code")
	if code == "" {
		return tokenResponse{}, invalidRequest("Missing code.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	ac := e.codes[code]
	if ac == nil || ac.clientID != req.client.ID {
		return tokenResponse{}, invalidCode(code, "unknown, used or foreign code")
	}
	delete(e.codes, code)
	switch {
	case !now.Before(ac.expires):
		return tokenResponse{}, invalidCode(code, "expired code")
	case req.form.Get("redirect_uri") != ac.redirectURI:
		return tokenResponse{}, invalidRequest("Redirect URI mismatch.")
	case ac.challenge != "" && !verifyPKCE(ac.method, ac.challenge, req.form.Get("code_verifier")):
		return tokenResponse{}, invalidGrant("Invalid code_verifier.")
	}
	u, ok := e.users[ac.userID]
	if !ok {
		return tokenResponse{}, invalidGrant("The owner of the token does not exist")
	}
	key := grantKey{req.client.ID, u.ID}
	if old := e.grants[key]; old != nil {
		// The newest authorization wins (Zoom 4741). Grants are per user: a
		// second admin authorizing the same admin-managed app does not end
		// the first admin's grant (undocumented at Zoom).
		e.dropGrant(old)
	}
	g := &grant{clientID: req.client.ID, userID: u.ID, accountID: u.AccountID, scope: scopesFor(req.client),
		access: make(map[string]time.Time)}
	e.grants[key] = g
	e.stats.CodeExchanges++
	return e.rotate(g, now), nil
}

func verifyPKCE(method, challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// refresh implements strict rotation: the presented refresh token dies at
// once and there is no reuse window (Zoom's tolerance mechanism is gone since
// version 8 tokens).
func (e *Emulator) refresh(req tokenRequest) (tokenResponse, *oauthError) {
	rt := req.form.Get("refresh_token")
	if rt == "" {
		return tokenResponse{}, invalidRequest("Missing refresh_token.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	g := e.tokens[rt]
	if g == nil || g.refresh != rt || g.clientID != req.client.ID || !now.Before(g.refreshExp) {
		return tokenResponse{}, errInvalidToken
	}
	if _, ok := e.users[g.userID]; !ok {
		return tokenResponse{}, invalidGrant("The owner of the token does not exist")
	}
	e.stats.Refreshes++
	return e.rotate(g, now), nil
}

// rotate gives g a new access and refresh token. The previous refresh token
// dies; previous access tokens die too unless KeepAccessTokenOnRefresh (and
// then expired ones are forgotten, so they read as invalid, not expired).
// Must be called with e.mu held.
func (e *Emulator) rotate(g *grant, now time.Time) tokenResponse {
	delete(e.tokens, g.refresh)
	for tok, exp := range g.access {
		if !e.cfg.KeepAccessTokenOnRefresh || !now.Before(exp) {
			delete(g.access, tok)
			delete(e.tokens, tok)
		}
	}
	access := newToken("access_token", g, now, now.Add(e.cfg.AccessTokenTTL))
	g.refresh = newToken("refresh_token", g, now, now.Add(e.cfg.RefreshTokenTTL))
	g.refreshExp = now.Add(e.cfg.RefreshTokenTTL)
	g.access[access] = now.Add(e.cfg.AccessTokenTTL)
	e.tokens[access] = g
	e.tokens[g.refresh] = g
	e.saveState()
	return tokenResponse{AccessToken: access, TokenType: "bearer", RefreshToken: g.refresh,
		ExpiresIn: int64(e.cfg.AccessTokenTTL / time.Second), Scope: g.scope, APIURL: e.cfg.APIURL}
}

// dropGrant kills all tokens of g. Must be called with e.mu held.
func (e *Emulator) dropGrant(g *grant) {
	delete(e.tokens, g.refresh)
	for tok := range g.access {
		delete(e.tokens, tok)
	}
	key := grantKey{g.clientID, g.userID}
	if e.grants[key] == g {
		delete(e.grants, key)
	}
	e.saveState()
}

// revoke is POST /oauth/revoke. Either token of a grant (access or refresh)
// revokes the whole grant. An unknown, already revoked or foreign token gets
// 400 {"reason":"Invalid Token!","error":"invalid_request"}: Zoom documents
// no answer for it, zoom-api.md §1.4 says to classify by the "Invalid Token!"
// reason whatever the error field, and unlike RFC 7009's lenient 200 this
// makes clients handle a revoke that finds nothing to revoke.
func (e *Emulator) revoke(w http.ResponseWriter, r *http.Request) {
	req, oerr := e.parseTokenRequest(w, r)
	if oerr != nil {
		writeOAuth(w, oerr.status, oerr)
		return
	}
	tok := req.form.Get("token")
	if tok == "" {
		writeOAuth(w, http.StatusBadRequest, invalidRequest("Missing token."))
		return
	}
	e.mu.Lock()
	g := e.tokens[tok]
	if g == nil || g.clientID != req.client.ID {
		e.mu.Unlock()
		writeOAuth(w, http.StatusBadRequest, invalidRequest("Invalid Token!"))
		return
	}
	e.dropGrant(g)
	e.stats.Revokes++
	ev, hooks := e.revokeEvent(g)
	e.mu.Unlock()
	e.log.Debug("zoom emulator: grant revoked", "client_id", g.clientID, "user_id", g.userID)
	runHooks(hooks, ev)
	writeOAuth(w, http.StatusOK, map[string]string{"status": "success"})
}

func writeOAuth(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, body)
}

func randomString(nBytes int) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(nBytes))
}

// newToken makes an opaque token shaped like Zoom's: an HS512 JWT of several
// hundred characters. Clients must not parse it, but its size makes storage
// that is too small for real tokens fail in tests. Nothing checks the
// signature, which is random.
func newToken(kind string, g *grant, iat, exp time.Time) string {
	header, _ := json.Marshal(map[string]string{"alg": "HS512", "v": "2.0", "kid": randomString(16)})
	claims, _ := json.Marshal(map[string]any{ // cannot fail: strings and numbers only
		"ver": 10, "auid": randomString(24), "code": randomString(24), "iss": "zm:cid:" + g.clientID,
		"gno": 0, "type": 0, "tid": 0, "aud": "https://oauth.zoom.us", "uid": g.userID,
		"aid": g.accountID, "nbf": iat.Unix(), "iat": iat.Unix(), "exp": exp.Unix(),
		"jti": randomString(16), "tokenType": kind,
	})
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(claims) + "." + randomString(64)
}
