package zoomemu

import (
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/clocktest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
)

const (
	orgRedirect  = "https://scheduler.example/zoom/org/callback"
	userRedirect = "https://scheduler.example/zoom/user/callback?src=settings"
)

var (
	orgApp  = Client{ID: "orgClientID", Secret: "orgClientSecret", RedirectURIs: []string{orgRedirect}}
	userApp = Client{ID: "userClientID", Secret: "userClientSecret", RedirectURIs: []string{userRedirect}}
)

// redirectFor is the registered redirect URI of the test apps.
func redirectFor(c Client) string {
	if c.ID == orgApp.ID {
		return orgRedirect
	}
	return userRedirect
}

type env struct {
	t     *testing.T
	emu   *Emulator
	srv   *httptest.Server
	base  string // srv.URL plus the mount prefix
	clock *clocktest.Clock
	http  *http.Client // does not follow redirects
	logs  *webtest.LogBuffer
}

// newEnv serves DevConfig(orgApp, userApp) on a test server with a
// controllable clock; mutate adjusts the config first.
func newEnv(t *testing.T, mutate ...func(*Config)) *env {
	return newEnvAt(t, "", mutate...)
}

// newEnvAt mounts the handler under prefix with http.StripPrefix.
func newEnvAt(t *testing.T, prefix string, mutate ...func(*Config)) *env {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	logs := &webtest.LogBuffer{}
	cfg := DevConfig(orgApp, userApp)
	cfg.Now = clock.Now
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, m := range mutate {
		m(&cfg)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var h http.Handler = emu.Handler()
	if prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
		h = mux
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{t: t, emu: emu, srv: srv, base: srv.URL + prefix, clock: clock, http: hc, logs: logs}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading %s: %v", req.URL.Path, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// post sends form to path, with Basic credentials of c unless c is nil.
func (e *env) post(path string, c *Client, form url.Values) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.SetBasicAuth(c.ID, c.Secret)
	}
	return e.do(req)
}

func (e *env) get(path, bearer string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(req)
}

// authorize submits the sign-in form directly, like a browser would, with
// decision allow unless form says otherwise.
func (e *env) authorize(c Client, userID string, form url.Values) response {
	e.t.Helper()
	f := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirectFor(c)},
		"state": {"st-1"}, "user_id": {userID}, "decision": {"allow"}}
	for k, v := range form {
		f[k] = v
	}
	return e.post("/oauth/authorize", nil, f)
}

// code runs authorize and returns the code from the redirect.
func (e *env) code(c Client, userID string, form url.Values) string {
	e.t.Helper()
	r := e.authorize(c, userID, form)
	if r.status != http.StatusFound {
		e.t.Fatalf("authorize: status %d, body %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("authorize: no code in %s", loc)
	}
	return code
}

func (e *env) exchange(c Client, code string, extra url.Values) response {
	e.t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectFor(c)}}
	for k, v := range extra {
		f[k] = v
	}
	return e.post("/oauth/token", &c, f)
}

func (e *env) refresh(c Client, refreshToken string) response {
	e.t.Helper()
	return e.post("/oauth/token", &c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func (e *env) revoke(c Client, token string) response {
	e.t.Helper()
	return e.post("/oauth/revoke?"+url.Values{"token": {token}}.Encode(), &c, nil)
}

// tokens runs authorize and the code exchange for c and userID.
func (e *env) tokens(c Client, userID string) tokenResponse {
	e.t.Helper()
	return decodeToken(e.t, e.exchange(c, e.code(c, userID, nil), nil))
}

func decodeToken(t *testing.T, r response) tokenResponse {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token: status %d, body %s", r.status, r.body)
	}
	var tr tokenResponse
	if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
		t.Fatalf("token body %s: %v", r.body, err)
	}
	return tr
}

// want checks status and exact body.
func want(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Errorf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

var (
	formAction   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenFields = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submitSignIn loads the sign-in page at pageURL and submits its form the
// way a browser does: action resolved against the page URL, hidden fields
// as rendered, plus the chosen user and decision.
func submitSignIn(t *testing.T, hc *http.Client, pageURL, userID, decision string) *http.Response {
	t.Helper()
	page, err := hc.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(page.Body)
	page.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if page.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: status %d: %s", page.StatusCode, body)
	}
	if !strings.Contains(string(body), `value="`+userID+`"`) {
		t.Fatalf("sign-in page does not offer user %s", userID)
	}
	m := formAction.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no form in sign-in page:\n%s", body)
	}
	action, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"user_id": {userID}, "decision": {decision}}
	for _, f := range hiddenFields.FindAllSubmatch(body, -1) {
		form.Add(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	resp, err := hc.PostForm(page.Request.URL.ResolveReference(action).String(), form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
