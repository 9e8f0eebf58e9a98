// Package config reads zoomconnect's configuration from the environment and
// validates it, so that a bad setting stops the start with one clear line.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/console"
)

// ZoomApp is one Zoom OAuth app (client id and secret).
type ZoomApp struct {
	ClientID     string
	ClientSecret string
}

// Configured reports whether the app has credentials.
func (a ZoomApp) Configured() bool { return a.ClientID != "" }

// Config is the whole configuration of the service.
type Config struct {
	GRPCAddr string
	HTTPAddr string
	// AdminAddr serves /metrics, /debug/pprof/ and the probes, apart from
	// the public HTTP port; empty disables it.
	AdminAddr string
	// PublicURL is the external base URL used in install links and the OAuth
	// redirect. Empty means http://{the bound HTTP address}.
	PublicURL string
	// RedisURL selects the Redis store; empty selects the embedded store.
	RedisURL string
	DataDir  string

	AuthHS256Secret []byte
	AuthJWKSURL     string
	// AuthIssuer and AuthAudience, when set, must match a caller token's
	// iss and aud; both are required with AuthJWKSURL (an identity
	// provider signs tokens for many services). See AuthClaims.
	AuthIssuer   string
	AuthAudience string
	// AuthMaxTokenLifetime bounds exp - iat of person tokens.
	AuthMaxTokenLifetime time.Duration
	// EncryptionKeys is the keyring spec for tokens at rest ("id:base64key,…").
	EncryptionKeys string

	ZoomOAuthURL       string
	ZoomAPIURL         string
	ZoomOrgApp         ZoomApp
	ZoomUserApp        ZoomApp
	ZoomWebhookSecret  string
	InstallLinkTTL     time.Duration
	OAuthStateTTL      time.Duration
	RequestTimeout     time.Duration
	ShutdownTimeout    time.Duration
	LogLevel           string
	ZoomRequestTimeout time.Duration
	// ZoomRate paces calls to each Zoom account (requests per second). The
	// default, DefaultZoomRate, is Zoom's per-account limit for Medium APIs
	// (creating meetings) on its smallest (Free) plan; a deployment whose
	// customers are on larger plans may raise it.
	ZoomRate float64
	// MonitorInterval is how often each org connection is probed.
	MonitorInterval time.Duration
	// WebhookWorker processes queued Zoom events in this process (a
	// replica may leave that to others).
	WebhookWorker bool
	// StreamHeartbeat is how often an event stream with nothing to send
	// sends a heartbeat, so that proxies keep it open.
	StreamHeartbeat time.Duration
	// ConsoleFrameAncestors are the pages allowed to embed the admin console
	// (CSP frame-ancestors); empty allows none.
	ConsoleFrameAncestors string
	// Limits bound what one client can make the service hold.
	Limits Limits
}

// Limits bound untrusted input and the connections it arrives on. They are
// not read from the environment: the defaults suit this API, and tests
// shorten them.
type Limits struct {
	// MaxRequestBytes caps a REST body and a gRPC request message.
	MaxRequestBytes int
	// MaxHeaderBytes caps HTTP request headers and gRPC metadata.
	MaxHeaderBytes int
	// HTTP server timeouts. Event streams are exempt from ReadTimeout and
	// WriteTimeout as a whole; each of their writes gets WriteTimeout.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	// GRPCMaxConnectionIdle closes gRPC connections without calls for this
	// long (clients reconnect by themselves).
	GRPCMaxConnectionIdle time.Duration
	// GRPCKeepaliveTime and GRPCKeepaliveTimeout: the server pings a client
	// that has been silent for GRPCKeepaliveTime and closes the connection
	// when the ping is not answered within GRPCKeepaliveTimeout (half-open
	// connections).
	GRPCKeepaliveTime    time.Duration
	GRPCKeepaliveTimeout time.Duration
	// GRPCKeepaliveMinTime is the shortest ping interval a client may use;
	// a client pinging more often is disconnected.
	GRPCKeepaliveMinTime time.Duration
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{
		MaxRequestBytes:       256 << 10,
		MaxHeaderBytes:        32 << 10,
		HTTPReadHeaderTimeout: 10 * time.Second,
		HTTPReadTimeout:       30 * time.Second,
		HTTPWriteTimeout:      60 * time.Second,
		HTTPIdleTimeout:       2 * time.Minute,
		GRPCMaxConnectionIdle: 15 * time.Minute,
		GRPCKeepaliveTime:     2 * time.Minute,
		GRPCKeepaliveTimeout:  20 * time.Second,
		GRPCKeepaliveMinTime:  time.Minute,
	}
}

// DevMode reports whether no Zoom app is configured, in which case the
// service runs the built-in Zoom emulator and points itself at it.
func (c Config) DevMode() bool { return !c.ZoomOrgApp.Configured() && !c.ZoomUserApp.Configured() }

// DefaultZoomRate is Zoom's per-account rate for its Medium API category
// (which creating meetings belongs to) on the Free plan: 2 requests a
// second (Pro 20, Business and up 60). Zoom's limits are per account and
// shared by every app and replica calling it.
const DefaultZoomRate = 2

// Dev-mode caller-token issuer and audience: dev-token mints tokens with
// them and the service requires them, as it would an identity provider's.
const (
	DevAuthIssuer   = "zoomconnect-dev"
	DevAuthAudience = "zoomconnect"
)

// AuthClaims returns the issuer and audience caller tokens must carry: the
// configured ones, or in dev mode without a JWKS the dev ones.
func (c Config) AuthClaims() (issuer, audience string) {
	if c.DevMode() && c.AuthJWKSURL == "" {
		return cmp.Or(c.AuthIssuer, DevAuthIssuer), cmp.Or(c.AuthAudience, DevAuthAudience)
	}
	return c.AuthIssuer, c.AuthAudience
}

// AdminAddrVar names the admin listener's variable. Set to the empty string
// (or to AdminOff) it disables the admin listener.
const (
	AdminAddrVar = "ZOOMCONNECT_ADMIN_ADDR"
	AdminOff     = "off"
)

// Getenv is os.Getenv for FromEnv, except that a variable whose emptiness
// means something (ZOOMCONNECT_ADMIN_ADDR set to "") reads as AdminOff
// rather than as unset.
func Getenv(lookup func(string) (string, bool)) func(string) string {
	return func(name string) string {
		v, ok := lookup(name)
		if name == AdminAddrVar && ok && strings.TrimSpace(v) == "" {
			return AdminOff
		}
		return v
	}
}

// Defaults returns the configuration used when no variable is set.
func Defaults() Config {
	return Config{
		GRPCAddr:             "127.0.0.1:9090",
		HTTPAddr:             "127.0.0.1:8080",
		AdminAddr:            "127.0.0.1:9091",
		DataDir:              "./data",
		ZoomOAuthURL:         "https://zoom.us",
		ZoomAPIURL:           "https://api.zoom.us/v2",
		InstallLinkTTL:       7 * 24 * time.Hour,
		OAuthStateTTL:        10 * time.Minute,
		RequestTimeout:       10 * time.Second,
		ShutdownTimeout:      15 * time.Second,
		ZoomRequestTimeout:   10 * time.Second,
		ZoomRate:             DefaultZoomRate,
		MonitorInterval:      15 * time.Minute,
		WebhookWorker:        true,
		LogLevel:             "info",
		AuthMaxTokenLifetime: 24 * time.Hour,
		StreamHeartbeat:      15 * time.Second,
		Limits:               DefaultLimits(),
	}
}

// FromEnv reads the configuration from getenv (os.Getenv in production) over
// the defaults and validates it.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	str := func(name string, dst *string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	str("ZOOMCONNECT_GRPC_ADDR", &c.GRPCAddr)
	str("ZOOMCONNECT_HTTP_ADDR", &c.HTTPAddr)
	str(AdminAddrVar, &c.AdminAddr)
	if strings.EqualFold(c.AdminAddr, AdminOff) {
		c.AdminAddr = ""
	}
	str("ZOOMCONNECT_PUBLIC_URL", &c.PublicURL)
	str("ZOOMCONNECT_REDIS_URL", &c.RedisURL)
	str("ZOOMCONNECT_DATA_DIR", &c.DataDir)
	str("ZOOMCONNECT_AUTH_JWKS_URL", &c.AuthJWKSURL)
	str("ZOOMCONNECT_AUTH_ISSUER", &c.AuthIssuer)
	str("ZOOMCONNECT_AUTH_AUDIENCE", &c.AuthAudience)
	str("ZOOMCONNECT_ENCRYPTION_KEYS", &c.EncryptionKeys)
	str("ZOOMCONNECT_LOG_LEVEL", &c.LogLevel)
	str("ZOOM_OAUTH_URL", &c.ZoomOAuthURL)
	str("ZOOM_API_URL", &c.ZoomAPIURL)
	str("ZOOM_ORG_CLIENT_ID", &c.ZoomOrgApp.ClientID)
	str("ZOOM_ORG_CLIENT_SECRET", &c.ZoomOrgApp.ClientSecret)
	str("ZOOM_USER_CLIENT_ID", &c.ZoomUserApp.ClientID)
	str("ZOOM_USER_CLIENT_SECRET", &c.ZoomUserApp.ClientSecret)
	str("ZOOM_WEBHOOK_SECRET_TOKEN", &c.ZoomWebhookSecret)
	str("ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS", &c.ConsoleFrameAncestors)
	if v := getenv("ZOOMCONNECT_AUTH_HS256_SECRET"); v != "" {
		c.AuthHS256Secret = []byte(v)
	}
	var errs []error
	// parse applies a variable that must be parsed; a bad value is
	// reported with what was expected.
	parse := func(name, want string, apply func(string) bool) {
		if v := strings.TrimSpace(getenv(name)); v != "" && !apply(v) {
			errs = append(errs, fmt.Errorf("%s: %q is not %s", name, v, want))
		}
	}
	dur := func(name string, dst *time.Duration) {
		parse(name, "a positive duration such as 168h or 30s", func(v string) bool {
			d, err := time.ParseDuration(v)
			*dst = d
			return err == nil && d > 0
		})
	}
	dur("ZOOMCONNECT_INSTALL_LINK_TTL", &c.InstallLinkTTL)
	dur("ZOOMCONNECT_OAUTH_STATE_TTL", &c.OAuthStateTTL)
	dur("ZOOMCONNECT_REQUEST_TIMEOUT", &c.RequestTimeout)
	dur("ZOOMCONNECT_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	dur("ZOOMCONNECT_ZOOM_TIMEOUT", &c.ZoomRequestTimeout)
	dur("ZOOMCONNECT_MONITOR_INTERVAL", &c.MonitorInterval)
	dur("ZOOMCONNECT_STREAM_HEARTBEAT", &c.StreamHeartbeat)
	dur("ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME", &c.AuthMaxTokenLifetime)
	parse("ZOOMCONNECT_WEBHOOK_WORKER", "true or false", func(v string) bool {
		b, err := strconv.ParseBool(v)
		c.WebhookWorker = b
		return err == nil
	})
	parse("ZOOMCONNECT_ZOOM_RATE", "a positive number of requests per second", func(v string) bool {
		r, err := strconv.ParseFloat(v, 64)
		c.ZoomRate = r
		return err == nil && r > 0
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate checks every setting and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	addrs := map[string]string{"ZOOMCONNECT_GRPC_ADDR": c.GRPCAddr, "ZOOMCONNECT_HTTP_ADDR": c.HTTPAddr}
	if c.AdminAddr != "" {
		addrs[AdminAddrVar] = c.AdminAddr
	}
	for name, addr := range addrs {
		if _, port, err := net.SplitHostPort(addr); err != nil {
			add("%s: %q is not host:port", name, addr)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			add("%s: %q has no valid port", name, addr)
		}
	}
	if c.PublicURL != "" {
		if err := checkBaseURL(c.PublicURL); err != nil {
			add("ZOOMCONNECT_PUBLIC_URL: %v", err)
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			add("ZOOMCONNECT_REDIS_URL: must be a redis:// or rediss:// URL")
		}
	}
	if c.DataDir == "" {
		add("ZOOMCONNECT_DATA_DIR: must not be empty")
	}
	if len(c.AuthHS256Secret) > 0 && len(c.AuthHS256Secret) < 32 {
		add("ZOOMCONNECT_AUTH_HS256_SECRET: must be at least 32 bytes long (got %d)", len(c.AuthHS256Secret))
	}
	if c.AuthJWKSURL != "" {
		if err := checkBaseURL(c.AuthJWKSURL); err != nil {
			add("ZOOMCONNECT_AUTH_JWKS_URL: %v", err)
		}
		if c.AuthIssuer == "" || c.AuthAudience == "" {
			add("ZOOMCONNECT_AUTH_ISSUER and ZOOMCONNECT_AUTH_AUDIENCE are required with ZOOMCONNECT_AUTH_JWKS_URL: an identity provider signs tokens for other services too")
		}
	}
	if c.AuthMaxTokenLifetime <= 0 {
		add("ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME: must be positive")
	}
	if err := checkBaseURL(c.ZoomOAuthURL); err != nil {
		add("ZOOM_OAUTH_URL: %v", err)
	}
	if err := checkBaseURL(c.ZoomAPIURL); err != nil {
		add("ZOOM_API_URL: %v", err)
	}
	for prefix, app := range map[string]ZoomApp{"ZOOM_ORG_CLIENT": c.ZoomOrgApp, "ZOOM_USER_CLIENT": c.ZoomUserApp} {
		if (app.ClientID == "") != (app.ClientSecret == "") {
			add("%s_ID and %s_SECRET must be set together", prefix, prefix)
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		add("ZOOMCONNECT_LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if _, err := console.ParseFrameAncestors(c.ConsoleFrameAncestors); err != nil {
		add("ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS: %v", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ZOOMCONNECT_INSTALL_LINK_TTL", c.InstallLinkTTL},
		{"ZOOMCONNECT_OAUTH_STATE_TTL", c.OAuthStateTTL},
		{"ZOOMCONNECT_REQUEST_TIMEOUT", c.RequestTimeout},
		{"ZOOMCONNECT_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"ZOOMCONNECT_ZOOM_TIMEOUT", c.ZoomRequestTimeout},
		{"ZOOMCONNECT_MONITOR_INTERVAL", c.MonitorInterval},
		{"ZOOMCONNECT_STREAM_HEARTBEAT", c.StreamHeartbeat},
		{"Limits.HTTPReadHeaderTimeout", c.Limits.HTTPReadHeaderTimeout},
		{"Limits.HTTPReadTimeout", c.Limits.HTTPReadTimeout},
		{"Limits.HTTPWriteTimeout", c.Limits.HTTPWriteTimeout},
		{"Limits.HTTPIdleTimeout", c.Limits.HTTPIdleTimeout},
		{"Limits.GRPCMaxConnectionIdle", c.Limits.GRPCMaxConnectionIdle},
		{"Limits.GRPCKeepaliveTime", c.Limits.GRPCKeepaliveTime},
		{"Limits.GRPCKeepaliveTimeout", c.Limits.GRPCKeepaliveTimeout},
		{"Limits.GRPCKeepaliveMinTime", c.Limits.GRPCKeepaliveMinTime},
	} {
		if d.v <= 0 {
			add("%s: must be a positive duration (got %v)", d.name, d.v)
		}
	}
	if c.Limits.MaxRequestBytes <= 0 || c.Limits.MaxHeaderBytes <= 0 {
		add("Limits.MaxRequestBytes and Limits.MaxHeaderBytes: must be positive (got %d, %d)", c.Limits.MaxRequestBytes, c.Limits.MaxHeaderBytes)
	}
	if c.MonitorInterval > 0 && c.MonitorInterval < MinMonitorInterval {
		add("ZOOMCONNECT_MONITOR_INTERVAL: %v would probe Zoom in a tight loop; at least %v", c.MonitorInterval, MinMonitorInterval)
	}
	if !(c.ZoomRate > 0) || math.IsInf(c.ZoomRate, 0) {
		add("ZOOMCONNECT_ZOOM_RATE: must be a positive, finite number of requests per second (got %v)", c.ZoomRate)
	}
	return errors.Join(errs...)
}

// MinMonitorInterval bounds how often the monitor may probe a connection.
const MinMonitorInterval = 100 * time.Millisecond

// checkBaseURL accepts an absolute http(s) URL without query or fragment.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return nil
}
