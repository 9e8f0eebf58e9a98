// Package connection is the domain logic of Zoom connections: the
// organization connection (install link, OAuth callback, disconnect),
// personal connections, members and their Zoom identities, the precedence
// resolver, settings and the activity log. Handlers authorize callers;
// this package decides.
package connection

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/sync/singleflight"
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
	ReasonZoomUnavailable        = zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE
	ReasonZoomAppNotConfigured   = zcv1.ErrorReason_ERROR_REASON_ZOOM_APP_NOT_CONFIGURED
	ReasonOrgNotConnected        = zcv1.ErrorReason_ERROR_REASON_ORG_NOT_CONNECTED
	ReasonOrgNeedsReconnect      = zcv1.ErrorReason_ERROR_REASON_ORG_NEEDS_RECONNECT
	ReasonDetachNotAllowed       = zcv1.ErrorReason_ERROR_REASON_DETACH_NOT_ALLOWED
	ReasonTooManyUsers           = zcv1.ErrorReason_ERROR_REASON_TOO_MANY_USERS
	ReasonInvalidPageToken       = zcv1.ErrorReason_ERROR_REASON_INVALID_PAGE_TOKEN
	ReasonInvalidUpdateMask      = zcv1.ErrorReason_ERROR_REASON_INVALID_UPDATE_MASK
	ReasonNoZoomConnection       = zcv1.ErrorReason_ERROR_REASON_NO_ZOOM_CONNECTION
	ReasonPersonalNeedsReconnect = zcv1.ErrorReason_ERROR_REASON_PERSONAL_NEEDS_RECONNECT
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
	Store   store.Store
	Keyring *secrets.Keyring
	Zoom    *zoom.Client
	// PublicURL is the service's external base URL (no trailing slash).
	PublicURL      string
	InstallLinkTTL time.Duration
	StateTTL       time.Duration
	// RevokeTimeout bounds a best-effort token revocation at Zoom.
	RevokeTimeout time.Duration
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
	// refreshes makes one token refresh per connection at a time in this
	// process: Zoom's refresh tokens are single use.
	refreshes singleflight.Group
	// matches makes one identity lookup per member at a time.
	matches singleflight.Group
	// background bounds identity lookups running off the request path.
	background chan struct{}
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RevokeTimeout <= 0 {
		cfg.RevokeTimeout = 5 * time.Second
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
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger, background: make(chan struct{}, 4)}
}

// zoomFailure turns a Zoom error into what the person is told; the cause is
// kept for the log.
func zoomFailure(err error, reason errs.Reason, message string) error {
	var oe *zoom.OAuthError
	var ae *zoom.APIError
	if errors.As(err, &oe) || errors.As(err, &ae) {
		return errs.FailedPrecondition(reason, "%s", message).Wrap(err)
	}
	if errs.IsContextError(err) {
		return err
	}
	return (&errs.Error{Kind: errs.KindUnavailable, Reason: ReasonZoomUnavailable,
		Message: "Zoom could not be reached. Try again in a moment."}).Wrap(err)
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
