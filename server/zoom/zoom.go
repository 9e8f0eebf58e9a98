// Package zoom is zoomconnect's client for Zoom's OAuth and REST APIs. It
// follows Zoom's wire formats as documented (see shared/zoom-api.md): client
// credentials in the Basic header, error bodies of two shapes (OAuth
// `{"reason","error"}` and REST `{"code","message"}`), string role ids.
package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// App is one of the two Zoom OAuth apps the service uses.
type App int

const (
	// OrgApp is the admin-managed app used for organization connections.
	OrgApp App = iota
	// UserApp is the user-managed app used for personal connections.
	UserApp
)

func (a App) String() string {
	if a == OrgApp {
		return "admin-managed"
	}
	return "user-managed"
}

// Credentials of one Zoom app.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

// Config configures a Client.
type Config struct {
	// OAuthURL is Zoom's OAuth base (https://zoom.us).
	OAuthURL string
	// APIURL is Zoom's REST base (https://api.zoom.us/v2).
	APIURL string
	// RedirectURL is the service's OAuth callback.
	RedirectURL string
	OrgApp      Credentials
	UserApp     Credentials
	// HTTPClient carries the timeout for every call to Zoom.
	HTTPClient *http.Client
}

// Client talks to Zoom.
type Client struct {
	apiURL string
	http   *http.Client
	apps   map[App]*appClient
}

type appClient struct {
	oauth     oauth2.Config
	revokeURL string
}

// ErrAppNotConfigured: the requested Zoom app has no credentials.
var ErrAppNotConfigured = errors.New("zoom: app not configured")

// New returns a Client; apps without credentials are left unconfigured.
func New(cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	oauthBase := strings.TrimRight(cfg.OAuthURL, "/")
	c := &Client{apiURL: strings.TrimRight(cfg.APIURL, "/"), http: hc, apps: map[App]*appClient{}}
	for app, cred := range map[App]Credentials{OrgApp: cfg.OrgApp, UserApp: cfg.UserApp} {
		if cred.ClientID == "" {
			continue
		}
		c.apps[app] = &appClient{
			oauth: oauth2.Config{
				ClientID:     cred.ClientID,
				ClientSecret: cred.ClientSecret,
				RedirectURL:  cfg.RedirectURL,
				Endpoint: oauth2.Endpoint{
					AuthURL:   oauthBase + "/oauth/authorize",
					TokenURL:  oauthBase + "/oauth/token",
					AuthStyle: oauth2.AuthStyleInHeader,
				},
			},
			revokeURL: oauthBase + "/oauth/revoke",
		}
	}
	return c
}

func (c *Client) app(a App) (*appClient, error) {
	ac, ok := c.apps[a]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrAppNotConfigured, a)
	}
	return ac, nil
}

// AppOf tells which configured app has the client id (Zoom's events name
// the app by client id).
func (c *Client) AppOf(clientID string) (App, bool) {
	for a, ac := range c.apps {
		if ac.oauth.ClientID == clientID {
			return a, true
		}
	}
	return 0, false
}

// Configured reports whether app a has credentials.
func (c *Client) Configured(a App) bool { _, ok := c.apps[a]; return ok }

// AuthCodeURL is where a browser goes to approve app a; the PKCE challenge
// (S256) is derived from verifier.
func (c *Client) AuthCodeURL(a App, state, verifier string) (string, error) {
	ac, err := c.app(a)
	if err != nil {
		return "", err
	}
	return ac.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// Tokens is a Zoom OAuth token pair.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry"`
	Scope        string    `json:"scope,omitempty"`
}

// Exchange trades an authorization code for tokens.
func (c *Client) Exchange(ctx context.Context, a App, code, verifier string) (*Tokens, error) {
	ac, err := c.app(a)
	if err != nil {
		return nil, err
	}
	tok, err := ac.oauth.Exchange(c.oauthContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, oauthError(err)
	}
	return tokensFrom(tok), nil
}

// Refresh trades a refresh token for a new pair. Zoom rotates refresh
// tokens: the one passed in is dead once this returns successfully, so the
// caller must store the new pair before using it.
func (c *Client) Refresh(ctx context.Context, a App, refreshToken string) (*Tokens, error) {
	ac, err := c.app(a)
	if err != nil {
		return nil, err
	}
	expired := &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}
	tok, err := ac.oauth.TokenSource(c.oauthContext(ctx), expired).Token()
	if err != nil {
		return nil, oauthError(err)
	}
	return tokensFrom(tok), nil
}

func tokensFrom(tok *oauth2.Token) *Tokens {
	scope, _ := tok.Extra("scope").(string)
	return &Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, Scope: scope}
}

func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.http)
}

// Revoke revokes token (an access or refresh token) of app a at Zoom.
func (c *Client) Revoke(ctx context.Context, a App, token string) error {
	ac, err := c.app(a)
	if err != nil {
		return err
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ac.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(ac.oauth.ClientID), url.QueryEscape(ac.oauth.ClientSecret))
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("zoom: revoke: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return readOAuthError(resp)
	}
	return nil
}

// User is a Zoom user as GET /users/{id} returns it.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	RoleID    string `json:"role_id"`
	RoleName  string `json:"role_name"`
	AccountID string `json:"account_id"`
	Status    string `json:"status"`
	Type      int    `json:"type"`
}

// IsAccountAdmin reports whether the user holds Zoom's Owner ("0") or Admin
// ("1") role. Role names are not compared: custom roles may reuse them.
func (u *User) IsAccountAdmin() bool { return u.RoleID == "0" || u.RoleID == "1" }

// GetUser reads a Zoom user by id, email or "me" with an access token.
func (c *Client) GetUser(ctx context.Context, accessToken, idOrEmail string) (*User, error) {
	var u User
	if err := c.call(ctx, http.MethodGet, accessToken, "/users/"+url.PathEscape(idOrEmail), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

const maxBody = 1 << 20

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
}

// APIError is an error answer of Zoom's REST API.
type APIError struct {
	HTTPStatus int
	Code       int
	Message    string
	// RetryAfter is when Zoom allows the next try (429), zero if unknown.
	RetryAfter time.Time
	// RateLimitType is Zoom's X-RateLimit-Type on a 429: "QPS" or
	// "Daily-limit" ("" when Zoom sent none, as on the per-user cap).
	RateLimitType string
}

// DailyLimit reports whether a 429 is one of Zoom's daily limits (the
// account's daily quota of a rate category, or the host's 100 meeting
// creates and updates a day), which reset at 00:00 UTC. Zoom does not
// always say so in a header: the per-user cap is known only by its message.
func (e *APIError) DailyLimit() bool {
	return e.HTTPStatus == http.StatusTooManyRequests &&
		(strings.EqualFold(e.RateLimitType, "Daily-limit") || strings.Contains(strings.ToLower(e.Message), "daily rate limit"))
}

// NextUTCMidnight is when Zoom's daily limits reset after now.
func NextUTCMidnight(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// MissingScopes returns the scopes Zoom named in a missing-scope answer
// (HTTP 400, code 4711 or 4700: "Invalid access token, does not contain
// scopes:[a, b]."), any one of which would do; ok is false for any other
// error.
func (e *APIError) MissingScopes() (scopes []string, ok bool) {
	if e.HTTPStatus != http.StatusBadRequest || (e.Code != CodeMissingScopes && e.Code != CodeMissingScopesOld) {
		return nil, false
	}
	_, list, found := strings.Cut(e.Message, "[")
	list, _, _ = strings.Cut(list, "]")
	if !found {
		return nil, true
	}
	for _, sc := range strings.Split(list, ",") {
		if sc = strings.TrimSpace(sc); sc != "" && len(sc) <= 100 {
			scopes = append(scopes, sc)
		}
	}
	return scopes, true
}

func (e *APIError) Error() string {
	return fmt.Sprintf("zoom api: HTTP %d, code %d: %s", e.HTTPStatus, e.Code, e.Message)
}

// Zoom's REST error codes the service reacts to.
const (
	CodeInvalidAccessToken = 124
	CodeUserNotFound       = 1001
	CodeMeetingNotFound    = 3001
	// CodeMissingScopes (HTTP 400, not 401) names the scopes a token lacks;
	// Zoom's error table also lists 4700 for it.
	CodeMissingScopes    = 4711
	CodeMissingScopesOld = 4700
)

func readAPIError(resp *http.Response) error {
	e := &APIError{HTTPStatus: resp.StatusCode}
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&body); err == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	e.RateLimitType = resp.Header.Get("X-RateLimit-Type")
	return e
}

// parseRetryAfter reads Retry-After as Zoom sends it (an ISO-8601 datetime)
// or as HTTP allows it (seconds, or an HTTP date).
func parseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	for _, layout := range []string{time.RFC3339, http.TimeFormat} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// OAuthError is an error answer of Zoom's OAuth endpoints.
type OAuthError struct {
	HTTPStatus int
	// Code is the OAuth `error` field, e.g. invalid_grant.
	Code string
	// Reason is Zoom's `reason` field, e.g. "Invalid Token!".
	Reason string
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("zoom oauth: HTTP %d, error %q, reason %q", e.HTTPStatus, e.Code, e.Reason)
}

// GrantDead reports whether Zoom says the grant behind a token is gone for
// good (rotated out, revoked, owner removed): classified by body, not by
// status, since Zoom changed the status (401 -> 400) and the error field
// (invalid_request -> invalid_grant) over time.
func (e *OAuthError) GrantDead() bool {
	return e.Code == "invalid_grant" || e.Reason == "Invalid Token!"
}

func readOAuthError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return parseOAuthError(resp.StatusCode, body)
}

func parseOAuthError(status int, body []byte) *OAuthError {
	e := &OAuthError{HTTPStatus: status}
	var b struct {
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Reason = b.Error, b.Reason
	}
	return e
}

// oauthError turns x/oauth2's error into an *OAuthError when Zoom answered.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		oe := parseOAuthError(re.Response.StatusCode, re.Body)
		if oe.Code == "" {
			oe.Code = re.ErrorCode
		}
		return oe
	}
	return fmt.Errorf("zoom oauth: %w", err)
}
