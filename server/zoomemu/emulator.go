// Package zoomemu is an in-memory stand-in for the parts of Zoom that
// zoomconnect talks to: the OAuth endpoints (authorize, token, revoke), the
// Users API, the Meetings API (create, get, update, delete and list a
// host's meetings) and the webhooks Zoom sends to the app. It serves Zoom's
// own paths (/oauth/... and /v2/...), so a client's base URLs can simply
// point at it.
//
// It reproduces Zoom's unfriendly behaviour on purpose: single-use rotating
// refresh tokens, the newest authorization revoking older ones, HTTP 400 for
// missing scopes, Zoom's error bodies and its refusal of non-admins on
// admin-managed apps, and scopes checked on every API (each app holds
// exactly the scopes it is configured with; HTTP 400 4711 without them);
// for meetings, ids beyond 32 bits, 204 answers without a body, 404 for a
// second delete, instant meetings when a scheduled one lacks a start time,
// lists that leave instant meetings out and cut agendas to 250 characters,
// start URLs that change on every read, passcodes only as the host's
// settings or the request say, the per-host daily cap on creates and
// updates (HTTP 429 without Retry-After, as captured) and, when configured,
// the account's Medium-category limits (per-second 429 without
// Retry-After; daily 429 with X-RateLimit-Type: Daily-limit and an ISO-8601
// Retry-After). With Config.StateFile it keeps its grants and meetings
// across restarts. A client that works against the
// emulator should therefore also work against Zoom. Where Zoom's behaviour is
// undocumented (marked [U] in zoom-api.md) the emulator either has a Config
// knob or makes a documented choice on the method or handler concerned.
//
// Faults (InjectFault) make an endpoint answer with an error status, answer
// slowly, or process a request and then drop the connection without an
// answer, as when the network fails right after Zoom created a meeting.
//
// With Config.WebhookURL set it is also Zoom's webhook sender. Events are
// POSTed as compact JSON with UTF-8 and <, >, & unescaped, as Zoom's
// JSON.stringify sends them, so only a receiver that checks x-zm-signature
// ("v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}" with the secret
// token, timestamp in seconds) over the exact bytes received succeeds. An
// answer other than 200 or 204 within 3 seconds fails; 5xx and missing
// answers are retried after 5, 20 and 60 minutes, with the same body and a
// fresh timestamp, signature and x-zm-request-id, and 3xx and 4xx never.
// The emulator emits app_deauthorized (POST /oauth/revoke, Uninstall),
// user.updated (SetUserRole; only the id, unless Config.WebhookRoleFields),
// user.deactivated, user.deleted and user.disassociated (DeactivateUser,
// RemoveUser, DisassociateUser) and meeting.deleted (DELETE through the API
// and DeleteMeeting), with the payloads of zoom-api.md §5.4–5.6. SendEvent
// sends any other event and SendURLValidation Zoom's endpoint challenge.
// Deliveries run in the background: WaitWebhooks waits for them, Webhooks
// shows what was sent, and Close stops them. Deliveries are not ordered, as
// at Zoom.
//
// Tests use it through Handler (for example behind httptest.Server) and
// inspect it with Stats, Meetings, ActiveGrants and Webhooks; the service's
// dev mode serves it with Serve or ListenAndServe, where a person walks
// through the sign-in page in a browser.
package zoomemu

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Client is a Zoom Marketplace OAuth app.
type Client struct {
	ID, Secret string
	// AdminManaged apps get account-level (":admin") scopes and may only be
	// installed by an account Owner, Admin or a role with app permissions.
	AdminManaged bool
	// RedirectURIs is the app's allow list, matched exactly. Empty allows
	// any absolute http or https URL.
	RedirectURIs []string
	// Scopes are the scopes configured for the app, which every grant holds
	// and every API checks (HTTP 400 4711 without them). nil means the
	// granular scopes zoomconnect needs: user:read:user,
	// meeting:read:list_meetings, meeting:read:meeting, meeting:write:meeting,
	// meeting:update:meeting and meeting:delete:meeting, with ":admin" for
	// admin-managed apps.
	Scopes []string
}

// User is a Zoom user.
type User struct {
	ID, AccountID, Email, FirstName, LastName string
	// RoleID is "0" (Owner), "1" (Admin), "2" (Member, the default) or the
	// opaque id of a custom role. RoleName defaults to the name of a default
	// role and is required for custom roles.
	RoleID, RoleName string
	// Status is "active" (default), "inactive" or "pending". Only active
	// users can sign in.
	Status string
	// Type is 1 (Basic), 2 (Licensed, the default), 4 or 99.
	Type int
	// Timezone is an IANA zone name; default "UTC".
	Timezone string
	// CanInstallAdminApps marks a custom role holding account-level app
	// permissions: Zoom lets such a user install admin-managed apps although
	// the role is neither Owner nor Admin.
	CanInstallAdminApps bool
}

// NonAdminInstall is how an admin-managed install by a non-admin is refused.
// Zoom documents its own error page; whether it ever redirects back to the
// app with an error is unknown, so clients should be tested with both.
type NonAdminInstall string

const (
	// RefuseWithPage shows Zoom's error page (HTTP 403) and never returns to
	// the app. This is the default.
	RefuseWithPage NonAdminInstall = "page"
	// RefuseWithRedirect sends the browser to
	// redirect_uri?error=access_denied&state=STATE.
	RefuseWithRedirect NonAdminInstall = "redirect"
)

// Config configures an Emulator. The zero value of every knob is Zoom's
// documented (or most likely) behaviour.
type Config struct {
	Clients []Client
	Users   []User
	// Now is the emulator's clock; tests control expiry with it. Default
	// time.Now.
	Now func() time.Time
	// AccessTokenTTL is the access token lifetime reported as expires_in.
	// Default 3599s, what Zoom reports for user OAuth.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL defaults to 15 years. Every refresh issues a refresh
	// token with a fresh lifetime.
	RefreshTokenTTL time.Duration
	// CodeTTL is the authorization code lifetime; default 5 minutes.
	CodeTTL time.Duration
	// APIURL, if set, is sent as "api_url" in token responses. Zoom sends it
	// for server-to-server tokens; for user OAuth it is undocumented, so
	// clients must cope with both.
	APIURL string
	// NonAdminInstall defaults to RefuseWithPage.
	NonAdminInstall NonAdminInstall
	// InvalidClientStatus is the HTTP status for a bad client id or secret:
	// 400 (default, current captures) or 401 (seen in older ones).
	InvalidClientStatus int
	// KeepAccessTokenOnRefresh keeps the previous access token valid until
	// its own expiry after a refresh. By default a refresh invalidates it at
	// once, as Zoom staff describe for newly issued tokens; whether Zoom
	// really does so for user OAuth is undocumented.
	KeepAccessTokenOnRefresh bool
	// MeetingDailyLimit is the number of meeting create and update requests
	// each host may receive per UTC day, from all apps together; Zoom's
	// limit is 100 (the default). Negative disables the limit.
	MeetingDailyLimit int
	// MediumPerSecond and MediumPerDay, when positive, are the account's
	// limits for Zoom's Medium rate category (creating and listing
	// meetings), shared by every app on the account; Zoom's Free plan
	// allows 2 a second and 2,000 a day (zoom-api.md §4.6). A request over
	// the per-second limit gets Zoom's 429 without Retry-After; over the
	// daily one, 429 with X-RateLimit-Type: Daily-limit and Retry-After at
	// the next 00:00 UTC. Zero (the default) enforces neither.
	MediumPerSecond, MediumPerDay int
	// MeetingPasscodeOptional models hosts whose Zoom settings do not
	// require a passcode: a meeting then has one only if the request sends
	// "password" ("default_password": true applies the host's settings, so
	// it adds none, as zoom-api.md §4.1 says). By default, as on new Zoom
	// accounts, every meeting created without a password gets one.
	MeetingPasscodeOptional bool
	// WebhookURL is the app's event notification endpoint; empty (the
	// default) sends no webhooks. Zoom requires HTTPS; the emulator also
	// accepts http, for tests. One endpoint and secret serve all clients and
	// every account: the emulator sends each event once, whether or not an
	// app is installed on the account concerned.
	WebhookURL string
	// WebhookSecret is the app's secret token, which signs every event
	// (x-zm-signature) and URL validation answer. Required with WebhookURL.
	WebhookSecret string
	// WebhookRetryDelays are the waits before the retries of an event that
	// got a 5xx, no answer, or no answer in time. nil means Zoom's 5, 20
	// and 60 minutes; a non-nil empty slice means no retries. Delays are
	// real time, not the Now clock, so tests set short ones.
	WebhookRetryDelays []time.Duration
	// WebhookTimeout is how long an endpoint may take to answer (the whole
	// answer, body included); default Zoom's 3 seconds.
	WebhookTimeout time.Duration
	// WebhookRoleFields adds role_id and role_name to the object and
	// old_object of the user.updated event SetUserRole sends. How Zoom shows
	// a role change is undocumented, so by default both carry only "id" and
	// the receiver has to read the user again.
	WebhookRoleFields bool
	// WebhookHTTPClient sends webhooks (for example one trusting an
	// httptest TLS server). Its CheckRedirect is replaced, because Zoom
	// takes a redirect as a failed delivery; its Timeout still applies on
	// top of WebhookTimeout. Default: a client of the emulator's own.
	WebhookHTTPClient *http.Client
	// StateFile, if set, keeps the grants (with their tokens) and meetings
	// across restarts: they are loaded from it by New and written to it
	// after every change. zoomconnect's dev mode keeps it in its data dir,
	// so that stored connections still work after a restart.
	StateFile string
	// Logger receives one Debug record per request and per webhook attempt
	// (never tokens, codes, secrets, signatures or query strings). Default:
	// discard.
	Logger *slog.Logger
}

// Emulator is an emulated Zoom. All its methods are safe for concurrent use.
type Emulator struct {
	cfg     Config
	log     *slog.Logger
	clients map[string]Client // read-only after New
	handler http.Handler

	mu      sync.Mutex
	users   map[string]userRecord // by user id
	byEmail map[string]string     // lower-case email → user id
	codes   map[string]*authCode
	tokens  map[string]*grant // access and refresh tokens
	grants  map[grantKey]*grant
	faults  map[Endpoint]*activeFault
	hooks   []func(RevokeEvent)
	stats   Stats
	wh      *webhooks // the webhook sender, with its own lock

	meetings      map[int64]*Meeting
	nextMeetingID int64
	meetingQuota  map[string]quota // by host user id
	accountRates  map[string]accountRate
	pageTokens    map[string]pageCursor
}

type userRecord struct {
	User
	created time.Time
}

// Stats counts what the emulator has served. Requests answered by an
// injected fault are counted in FaultResponses only.
type Stats struct {
	// TokenRequests counts POST /oauth/token requests with valid client
	// credentials by grant_type as sent ("" when missing), failed ones
	// included.
	TokenRequests map[string]int
	// CodeExchanges and Refreshes count successful grants.
	CodeExchanges, Refreshes int
	// Revokes counts successful POST /oauth/revoke calls; Uninstalls counts
	// Uninstall calls.
	Revokes, Uninstalls int
	// ComplianceConfirmations counts accepted POST /oauth/data/compliance
	// calls to Zoom's deprecated Data Compliance API (which a current app
	// does not make).
	ComplianceConfirmations int
	// AuthorizeApprovals counts issued codes, AuthorizeDenials clicks on
	// Deny, AuthorizeRefusals non-admins refused on admin-managed apps.
	AuthorizeApprovals, AuthorizeDenials, AuthorizeRefusals int
	// UsersCalls counts GET /v2/users/{userId} requests, failed ones included.
	UsersCalls int
	// MeetingsCalls counts requests to the Meetings API, failed ones
	// included.
	MeetingsCalls int
	// MeetingCreates, MeetingUpdates and MeetingDeletes count successful
	// API requests (DeleteMeeting calls are not counted);
	// MeetingsRateLimited counts those refused by the per-host daily limit.
	MeetingCreates, MeetingUpdates, MeetingDeletes, MeetingsRateLimited int
	// AccountRateLimited counts requests refused by MediumPerSecond or
	// MediumPerDay.
	AccountRateLimited int
	// FaultResponses counts responses produced by injected faults.
	FaultResponses int
	// DroppedResponses counts requests processed under a
	// DropAfterProcessing fault and then left without an answer.
	DroppedResponses int
}

// RevokeEvent describes a grant that the app or the user ended; Zoom answers
// both with an app_deauthorized webhook.
type RevokeEvent struct {
	ClientID, UserID, AccountID string
	Time                        time.Time
}

const (
	defaultAccessTTL  = 3599 * time.Second
	defaultRefreshTTL = 15 * 365 * 24 * time.Hour
	defaultCodeTTL    = 5 * time.Minute

	defaultMeetingDailyLimit = 100
)

// New validates cfg and returns an emulator holding its clients and users.
func New(cfg Config) (*Emulator, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []*time.Duration{&cfg.AccessTokenTTL, &cfg.RefreshTokenTTL, &cfg.CodeTTL} {
		if *d < 0 {
			return nil, errors.New("zoomemu: negative TTL")
		}
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = defaultAccessTTL
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = defaultRefreshTTL
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = defaultCodeTTL
	}
	switch cfg.NonAdminInstall {
	case "":
		cfg.NonAdminInstall = RefuseWithPage
	case RefuseWithPage, RefuseWithRedirect:
	default:
		return nil, fmt.Errorf("zoomemu: unknown NonAdminInstall %q", cfg.NonAdminInstall)
	}
	switch cfg.InvalidClientStatus {
	case 0:
		cfg.InvalidClientStatus = http.StatusBadRequest
	case http.StatusBadRequest, http.StatusUnauthorized:
	default:
		return nil, fmt.Errorf("zoomemu: InvalidClientStatus must be 400 or 401, not %d", cfg.InvalidClientStatus)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MeetingDailyLimit == 0 {
		cfg.MeetingDailyLimit = defaultMeetingDailyLimit
	}
	wh, err := newWebhooks(&cfg)
	if err != nil {
		return nil, err
	}

	e := &Emulator{
		cfg:     cfg,
		log:     cfg.Logger,
		clients: make(map[string]Client, len(cfg.Clients)),
		users:   make(map[string]userRecord),
		byEmail: make(map[string]string),
		codes:   make(map[string]*authCode),
		tokens:  make(map[string]*grant),
		grants:  make(map[grantKey]*grant),
		faults:  make(map[Endpoint]*activeFault),
		stats:   Stats{TokenRequests: make(map[string]int)},
		wh:      wh,

		meetings:      make(map[int64]*Meeting),
		nextMeetingID: firstMeetingID,
		meetingQuota:  make(map[string]quota),
		accountRates:  make(map[string]accountRate),
		pageTokens:    make(map[string]pageCursor),
	}
	for _, c := range cfg.Clients {
		if err := validateClient(c); err != nil {
			return nil, err
		}
		if _, dup := e.clients[c.ID]; dup {
			return nil, fmt.Errorf("zoomemu: duplicate client %q", c.ID)
		}
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		e.clients[c.ID] = c
	}
	for _, u := range cfg.Users {
		if err := e.AddUser(u); err != nil {
			return nil, err
		}
	}
	if cfg.StateFile != "" {
		if err := e.loadState(); err != nil {
			return nil, err
		}
	}
	e.handler = e.routes()
	return e, nil
}

func validateClient(c Client) error {
	if c.ID == "" || c.Secret == "" {
		return errors.New("zoomemu: client needs an ID and a Secret")
	}
	for _, ru := range c.RedirectURIs {
		if _, ok := parseRedirect(ru); !ok {
			return fmt.Errorf("zoomemu: client %q: redirect URI %q is not an absolute http(s) URL without fragment", c.ID, ru)
		}
	}
	return nil
}

// parseRedirect accepts what a browser can be sent back to.
func parseRedirect(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return nil, false
	}
	return u, true
}

var defaultRoleNames = map[string]string{"0": "Owner", "1": "Admin", "2": "Member"}

// AddUser adds a user to an account (creating the account if it is new).
// Ids and emails (case-insensitively) must be unique.
func (e *Emulator) AddUser(u User) error {
	if u.ID == "" || u.AccountID == "" || u.Email == "" {
		return errors.New("zoomemu: user needs an ID, an AccountID and an Email")
	}
	if u.RoleID == "" {
		u.RoleID = "2"
	}
	if u.RoleName == "" {
		u.RoleName = defaultRoleNames[u.RoleID]
		if u.RoleName == "" {
			return fmt.Errorf("zoomemu: user %q: custom role %q needs a RoleName", u.ID, u.RoleID)
		}
	}
	if u.Status == "" {
		u.Status = "active"
	}
	if u.Type == 0 {
		u.Type = 2
	}
	if u.Timezone == "" {
		u.Timezone = "UTC"
	}
	email := strings.ToLower(u.Email)

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.users[u.ID]; dup {
		return fmt.Errorf("zoomemu: duplicate user id %q", u.ID)
	}
	if _, dup := e.byEmail[email]; dup {
		return fmt.Errorf("zoomemu: duplicate user email %q", u.Email)
	}
	e.users[u.ID] = userRecord{User: u, created: e.cfg.Now()}
	e.byEmail[email] = u.ID
	return nil
}

// SetUserRole changes a user's role, as an account owner would in Zoom's
// admin console. Tokens stay valid: Zoom documents no revocation on a role
// change, and the service must notice it through GET /users or the
// user.updated webhook sent when the role id or name changes (see
// Config.WebhookRoleFields). roleName may be empty for the default roles
// "0", "1" and "2". CanInstallAdminApps is cleared, because the new role's
// permissions are not known.
func (e *Emulator) SetUserRole(userID, roleID, roleName string) error {
	if roleName == "" {
		roleName = defaultRoleNames[roleID]
	}
	if roleID == "" || roleName == "" {
		return fmt.Errorf("zoomemu: role %q needs a name", roleID)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, ok := e.users[userID]
	if !ok {
		return fmt.Errorf("zoomemu: no user %q", userID)
	}
	old := rec.User
	rec.RoleID, rec.RoleName, rec.CanInstallAdminApps = roleID, roleName, false
	e.users[userID] = rec
	if old.RoleID != roleID || old.RoleName != roleName {
		e.emitRoleChange(old, rec.User, e.cfg.Now())
	}
	return nil
}

// RemoveUser deletes a user from their account and sends user.deleted.
// Their grants are kept, but refreshing them (or redeeming a code the user
// approved) fails with Zoom's 4735 "The owner of the token does not exist"
// as 400 invalid_grant. Their unexpired access tokens still authenticate
// (Zoom's are self-contained JWTs), but GET /users/me answers 404 1001
// because the user is gone. Their meetings are kept.
func (e *Emulator) RemoveUser(userID string) error {
	return e.removeUser(userID, EventUserDeleted)
}

// DisassociateUser removes a user from their account, as Zoom's
// "disassociate" does (the person keeps a Zoom login of their own, outside
// every emulated account), and sends user.disassociated. Otherwise it is
// RemoveUser.
func (e *Emulator) DisassociateUser(userID string) error {
	return e.removeUser(userID, EventUserDisassociated)
}

func (e *Emulator) removeUser(userID, event string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, ok := e.users[userID]
	if !ok {
		return fmt.Errorf("zoomemu: no user %q", userID)
	}
	delete(e.users, userID)
	delete(e.byEmail, strings.ToLower(rec.Email))
	e.emitUserEvent(event, rec.User, e.cfg.Now())
	return nil
}

// DeactivateUser sets an active or pending user's status to "inactive" and
// sends user.deactivated. The user can no longer sign in or host new
// meetings; their grants and tokens stay valid (what Zoom does to them is
// undocumented), so the service must act on the event or on GET /users.
func (e *Emulator) DeactivateUser(userID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec, ok := e.users[userID]
	switch {
	case !ok:
		return fmt.Errorf("zoomemu: no user %q", userID)
	case rec.Status == "inactive":
		return fmt.Errorf("zoomemu: user %q is already inactive", userID)
	}
	rec.Status = "inactive"
	e.users[userID] = rec
	e.emitUserEvent(EventUserDeactivated, rec.User, e.cfg.Now())
	return nil
}

// Uninstall ends the user's grant for the client as if the user removed the
// app in the Zoom App Marketplace: all its tokens die, app_deauthorized is
// sent and OnRevoke hooks run.
func (e *Emulator) Uninstall(clientID, userID string) error {
	e.mu.Lock()
	g := e.grants[grantKey{clientID, userID}]
	if g == nil {
		e.mu.Unlock()
		return fmt.Errorf("zoomemu: user %q has not authorized client %q", userID, clientID)
	}
	e.dropGrant(g)
	e.stats.Uninstalls++
	ev, hooks := e.revokeEvent(g)
	e.mu.Unlock()
	runHooks(hooks, ev)
	return nil
}

// OnRevoke registers f to run after every revocation through POST
// /oauth/revoke or Uninstall. Hooks run synchronously, before the revoke
// response is sent, so a client that saw the response can rely on them
// having run; they must not block for long.
func (e *Emulator) OnRevoke(f func(RevokeEvent)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hooks = append(e.hooks, f)
}

// revokeEvent queues the app_deauthorized webhook for a revoked grant and
// returns the hooks to run. Must be called with e.mu held.
func (e *Emulator) revokeEvent(g *grant) (RevokeEvent, []func(RevokeEvent)) {
	ev := RevokeEvent{ClientID: g.clientID, UserID: g.userID, AccountID: g.accountID, Time: e.cfg.Now()}
	e.emitDeauthorized(g, ev.Time)
	return ev, slices.Clone(e.hooks)
}

func runHooks(hooks []func(RevokeEvent), ev RevokeEvent) {
	for _, h := range hooks {
		h(ev)
	}
}

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.TokenRequests = maps.Clone(e.stats.TokenRequests)
	return s
}

// ActiveGrants counts the live grants (refresh token unexpired, owner still
// in the account) of clientID; userID "" counts every user's. Since the
// newest authorization wins, a single user has at most one.
func (e *Emulator) ActiveGrants(clientID, userID string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	n := 0
	for k, g := range e.grants {
		if k.clientID != clientID || (userID != "" && k.userID != userID) {
			continue
		}
		if _, ok := e.users[k.userID]; ok && now.Before(g.refreshExp) {
			n++
		}
	}
	return n
}

// Handler serves Zoom's paths. It can be mounted at a server's root or under
// a prefix with http.StripPrefix: its pages only use relative links.
func (e *Emulator) Handler() http.Handler { return e.handler }
