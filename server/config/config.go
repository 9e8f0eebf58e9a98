// Package config reads zoomconnect's configuration from the environment and
// validates it, so that a bad setting stops the start with one clear line.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	// PublicURL is the external base URL used in install links and the OAuth
	// redirect. Empty means http://{the bound HTTP address}.
	PublicURL string
	// RedisURL selects the Redis store; empty selects the embedded store.
	RedisURL string
	DataDir  string

	AuthHS256Secret []byte
	AuthJWKSURL     string
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
	// ZoomRate paces calls to each Zoom account (requests per second).
	ZoomRate float64
	// MonitorInterval is how often each org connection is probed.
	MonitorInterval time.Duration
	// WebhookWorker processes queued Zoom events in this process (a
	// replica may leave that to others).
	WebhookWorker bool
}

// DevMode reports whether no Zoom app is configured, in which case the
// service runs the built-in Zoom emulator and points itself at it.
func (c Config) DevMode() bool { return !c.ZoomOrgApp.Configured() && !c.ZoomUserApp.Configured() }

// Defaults returns the configuration used when no variable is set.
func Defaults() Config {
	return Config{
		GRPCAddr:           "127.0.0.1:9090",
		HTTPAddr:           "127.0.0.1:8080",
		DataDir:            "./data",
		ZoomOAuthURL:       "https://zoom.us",
		ZoomAPIURL:         "https://api.zoom.us/v2",
		InstallLinkTTL:     7 * 24 * time.Hour,
		OAuthStateTTL:      10 * time.Minute,
		RequestTimeout:     10 * time.Second,
		ShutdownTimeout:    15 * time.Second,
		ZoomRequestTimeout: 10 * time.Second,
		ZoomRate:           10,
		MonitorInterval:    15 * time.Minute,
		WebhookWorker:      true,
		LogLevel:           "info",
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
	str("ZOOMCONNECT_PUBLIC_URL", &c.PublicURL)
	str("ZOOMCONNECT_REDIS_URL", &c.RedisURL)
	str("ZOOMCONNECT_DATA_DIR", &c.DataDir)
	str("ZOOMCONNECT_AUTH_JWKS_URL", &c.AuthJWKSURL)
	str("ZOOMCONNECT_ENCRYPTION_KEYS", &c.EncryptionKeys)
	str("ZOOMCONNECT_LOG_LEVEL", &c.LogLevel)
	str("ZOOM_OAUTH_URL", &c.ZoomOAuthURL)
	str("ZOOM_API_URL", &c.ZoomAPIURL)
	str("ZOOM_ORG_CLIENT_ID", &c.ZoomOrgApp.ClientID)
	str("ZOOM_ORG_CLIENT_SECRET", &c.ZoomOrgApp.ClientSecret)
	str("ZOOM_USER_CLIENT_ID", &c.ZoomUserApp.ClientID)
	str("ZOOM_USER_CLIENT_SECRET", &c.ZoomUserApp.ClientSecret)
	str("ZOOM_WEBHOOK_SECRET_TOKEN", &c.ZoomWebhookSecret)
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

	for name, addr := range map[string]string{"ZOOMCONNECT_GRPC_ADDR": c.GRPCAddr, "ZOOMCONNECT_HTTP_ADDR": c.HTTPAddr} {
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
	} {
		if d.v <= 0 {
			add("%s: must be a positive duration (got %v)", d.name, d.v)
		}
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
