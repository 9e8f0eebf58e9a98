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

	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
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
	ReasonZoomUnavailable        = tokens.ReasonZoomUnavailable
	ReasonZoomAppNotConfigured   = "ZOOM_APP_NOT_CONFIGURED"
	ReasonOrgNotConnected        = tokens.ReasonOrgNotConnected
	ReasonOrgNeedsReconnect      = tokens.ReasonOrgNeedsReconnect
	ReasonDetachNotAllowed       = "DETACH_NOT_ALLOWED"
	ReasonTooManyUsers           = "TOO_MANY_USERS"
	ReasonInvalidPageToken       = "INVALID_PAGE_TOKEN"
	ReasonInvalidUpdateMask      = "INVALID_UPDATE_MASK"
	ReasonNoZoomConnection       = tokens.ReasonNoZoomConnection
	ReasonPersonalNeedsReconnect = tokens.ReasonPersonalNeedsReconnect
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
	Now      func() time.Time
	Logger   *slog.Logger
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Effects == nil {
		cfg.Effects = outbox.New(cfg.Store, cfg.Logger)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger, nudges: make(chan matchRef, 256)}
}
