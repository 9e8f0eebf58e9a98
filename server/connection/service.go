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

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/sync/singleflight"
)

// Reasons this package reports (google.rpc.ErrorInfo.reason).
const (
	ReasonOrgAlreadyConnected    = "ORG_ALREADY_CONNECTED"
	ReasonInstallLinkInvalid     = "INSTALL_LINK_INVALID"
	ReasonInstallLinkExpired     = "INSTALL_LINK_EXPIRED"
	ReasonInstallLinkReplaced    = "INSTALL_LINK_REPLACED"
	ReasonOAuthStateInvalid      = "OAUTH_STATE_INVALID"
	ReasonZoomAccessDenied       = "ZOOM_ACCESS_DENIED"
	ReasonZoomUserNotAdmin       = "ZOOM_USER_NOT_ADMIN"
	ReasonZoomCodeExchangeFailed = "ZOOM_CODE_EXCHANGE_FAILED"
	ReasonZoomUnavailable        = "ZOOM_UNAVAILABLE"
	ReasonZoomAppNotConfigured   = "ZOOM_APP_NOT_CONFIGURED"
	ReasonOrgNotConnected        = "ORG_NOT_CONNECTED"
	ReasonOrgNeedsReconnect      = "ORG_NEEDS_RECONNECT"
	ReasonDetachNotAllowed       = "DETACH_NOT_ALLOWED"
	ReasonTooManyUsers           = "TOO_MANY_USERS"
	ReasonInvalidPageToken       = "INVALID_PAGE_TOKEN"
	ReasonInvalidUpdateMask      = "INVALID_UPDATE_MASK"
	ReasonNoZoomConnection       = "NO_ZOOM_CONNECTION"
	ReasonPersonalNeedsReconnect = "PERSONAL_NEEDS_RECONNECT"
	ReasonUserNotInZoomAccount   = "USER_NOT_IN_ZOOM_ACCOUNT"
)

// Paths of the plain HTTP endpoints beside the gateway.
const (
	InstallPath  = "/oauth/zoom/install/"
	CallbackPath = "/oauth/zoom/callback"
)

// Config wires a Service.
type Config struct {
	Store store.Store
	// Effects commits the changes that have effects (index entries,
	// events) and relays them; New makes one over Store if nil.
	Effects *outbox.Relay
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
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service implements the connection flows.
type Service struct {
	cfg Config
	log *slog.Logger
	// refreshes makes one token refresh per connection at a time in this
	// process: Zoom's refresh tokens are single use.
	refreshes singleflight.Group
	// nudges asks RunMatcher to look members up now (see matching.go).
	nudges chan matchRef
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Effects == nil {
		cfg.Effects = outbox.New(cfg.Store, cfg.Logger)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger, nudges: make(chan matchRef, 256)}
}

// zoomFailure turns a Zoom error into what the person is told; the cause is
// kept for the log.
func zoomFailure(err error, reason, message string) error {
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
