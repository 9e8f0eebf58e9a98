// Package connection is the domain logic of Zoom connections: the
// organization connection (install link, OAuth callback, disconnect),
// personal connections, members and their Zoom identities, the precedence
// resolver, settings and the activity log. Handlers authorize callers;
// this package decides. Beside it: the Zoom credentials are package
// tokens', Zoom's events and the monitor package zoomevents' (which call
// the changes here), and a change's effects are committed with it and
// relayed by package outbox.
package connection

import (
	"log/slog"
	"strings"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// Reasons this package reports (google.rpc.ErrorInfo.reason).
const (
	ReasonOrgAlreadyConnected    = zcv1.ErrorReason_ERROR_REASON_ORG_ALREADY_CONNECTED
	ReasonInstallLinkInvalid     = zcv1.ErrorReason_ERROR_REASON_INSTALL_LINK_INVALID
	ReasonInstallLinkExpired     = zcv1.ErrorReason_ERROR_REASON_INSTALL_LINK_EXPIRED
	ReasonInstallLinkReplaced    = zcv1.ErrorReason_ERROR_REASON_INSTALL_LINK_REPLACED
	ReasonOAuthStateInvalid      = zcv1.ErrorReason_ERROR_REASON_OAUTH_STATE_INVALID
	ReasonOAuthBrowserMismatch   = zcv1.ErrorReason_ERROR_REASON_OAUTH_BROWSER_MISMATCH
	ReasonZoomAccessDenied       = zcv1.ErrorReason_ERROR_REASON_ZOOM_ACCESS_DENIED
	ReasonZoomUserNotAdmin       = zcv1.ErrorReason_ERROR_REASON_ZOOM_USER_NOT_ADMIN
	ReasonZoomCodeExchangeFailed = zcv1.ErrorReason_ERROR_REASON_ZOOM_CODE_EXCHANGE_FAILED
	ReasonZoomUnavailable        = tokens.ReasonZoomUnavailable
	ReasonZoomAppNotConfigured   = zcv1.ErrorReason_ERROR_REASON_ZOOM_APP_NOT_CONFIGURED
	ReasonOrgNotConnected        = tokens.ReasonOrgNotConnected
	ReasonOrgNeedsReconnect      = tokens.ReasonOrgNeedsReconnect
	ReasonDetachNotAllowed       = zcv1.ErrorReason_ERROR_REASON_DETACH_NOT_ALLOWED
	ReasonTooManyUsers           = zcv1.ErrorReason_ERROR_REASON_TOO_MANY_USERS
	ReasonInvalidPageToken       = zcv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN
	ReasonInvalidUpdateMask      = zcv1.ErrorReason_ERROR_REASON_INVALID_UPDATE_MASK
	ReasonNoZoomConnection       = tokens.ReasonNoZoomConnection
	ReasonPersonalNeedsReconnect = tokens.ReasonPersonalNeedsReconnect
	ReasonUserNotInZoomAccount   = zcv1.ErrorReason_ERROR_REASON_USER_NOT_IN_ZOOM_ACCOUNT
	ReasonInvalidEventID         = zcv1.ErrorReason_ERROR_REASON_INVALID_EVENT_ID
)

// Paths of the plain HTTP endpoints beside the gateway.
const (
	InstallPath  = "/oauth/zoom/install/"
	CallbackPath = "/oauth/zoom/callback"
	// PersonalPath begins a member's personal connection in their browser,
	// which it binds to the attempt before sending it on to Zoom.
	PersonalPath = "/oauth/zoom/personal/"
)

// Config wires a Service.
type Config struct {
	Store store.Store
	// Effects commits the changes that have effects (index entries,
	// events) and relays them; New makes one over Store if nil.
	Effects *outbox.Relay
	// Tokens holds the connections' Zoom credentials (package tokens).
	Tokens  Credentials
	Keyring *secrets.Keyring
	Zoom    *zoom.Client
	// PublicURL is the service's external base URL (no trailing slash).
	PublicURL      string
	InstallLinkTTL time.Duration
	StateTTL       time.Duration
	// MatchTTL is how long a member's Zoom identity match is trusted before
	// it is refreshed in the background.
	MatchTTL time.Duration
	// StreamHeartbeat is how often WatchEvents sends a heartbeat while no
	// event flows (default 15s).
	StreamHeartbeat time.Duration
	Now             func() time.Time
	Logger          *slog.Logger
}

// Service implements the connection flows.
type Service struct {
	cfg Config
	log *slog.Logger
	// nudges asks RunMatcher to look members up now (see matching.go).
	nudges chan matchRef
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MatchTTL <= 0 {
		cfg.MatchTTL = 24 * time.Hour
	}
	if cfg.StreamHeartbeat <= 0 {
		cfg.StreamHeartbeat = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Effects == nil {
		cfg.Effects = outbox.New(cfg.Store, cfg.Logger)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger, nudges: make(chan matchRef, 256)}
}

// ScopeMissing is the error for Zoom's answer that app's grant lacks a
// scope (HTTP 400, code 4711): it names the scopes Zoom named (any one
// would do) and says which app to fix and how; retrying cannot help.
func ScopeMissing(app zoom.App, scopes []string, cause error) *errs.Error {
	variable, again := "ZOOM_ORG_CLIENT_ID", "a Zoom admin must then approve the organization connection again (start it anew)"
	if app == zoom.UserApp {
		variable, again = "ZOOM_USER_CLIENT_ID", "the member must then connect their personal Zoom account again"
	}
	named := strings.Join(scopes, " or ")
	if named == "" {
		named = "(Zoom did not name it)"
	}
	return errs.FailedPrecondition(errs.ReasonZoomScopeMissing,
		"Zoom refused the call: the %s Zoom app (%s) lacks the scope %s. Add it to the app in the Zoom App Marketplace; %s.",
		app, variable, named, again).Wrap(cause)
}
