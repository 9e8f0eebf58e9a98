package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreDevMode(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.DevMode() || c.GRPCAddr != "127.0.0.1:9090" || c.HTTPAddr != "127.0.0.1:8080" || c.RedisURL != "" ||
		c.DataDir != "./data" || c.InstallLinkTTL != 7*24*time.Hour || c.ZoomOAuthURL != "https://zoom.us" ||
		c.ZoomAPIURL != "https://api.zoom.us/v2" || c.StreamHeartbeat != 15*time.Second || c.Limits != DefaultLimits() ||
		c.AuthMaxTokenLifetime != 24*time.Hour {
		t.Fatalf("defaults = %+v", c)
	}
	if iss, aud := c.AuthClaims(); iss != DevAuthIssuer || aud != DevAuthAudience {
		t.Fatalf("dev mode caller tokens: issuer %q, audience %q", iss, aud)
	}
}

func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"ZOOMCONNECT_GRPC_ADDR":               "0.0.0.0:7000",
		"ZOOMCONNECT_PUBLIC_URL":              "https://zc.example.com",
		"ZOOMCONNECT_REDIS_URL":               "redis://127.0.0.1:6380/0",
		"ZOOMCONNECT_AUTH_HS256_SECRET":       strings.Repeat("s", 32),
		"ZOOMCONNECT_INSTALL_LINK_TTL":        "48h",
		"ZOOMCONNECT_STREAM_HEARTBEAT":        "5s",
		"ZOOM_ORG_CLIENT_ID":                  "id",
		"ZOOM_ORG_CLIENT_SECRET":              "secret",
		"ZOOM_OAUTH_URL":                      "http://127.0.0.1:9999",
		"ZOOMCONNECT_AUTH_JWKS_URL":           "https://idp.example.com/jwks",
		"ZOOMCONNECT_AUTH_ISSUER":             "https://idp.example.com",
		"ZOOMCONNECT_AUTH_AUDIENCE":           "zoomconnect",
		"ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME": "2h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if iss, aud := c.AuthClaims(); iss != "https://idp.example.com" || aud != "zoomconnect" || c.AuthMaxTokenLifetime != 2*time.Hour {
		t.Fatalf("auth claims %q %q, max lifetime %s", iss, aud, c.AuthMaxTokenLifetime)
	}
	if c.DevMode() || c.GRPCAddr != "0.0.0.0:7000" || c.InstallLinkTTL != 48*time.Hour || c.StreamHeartbeat != 5*time.Second ||
		c.ZoomOrgApp != (ZoomApp{"id", "secret"}) || string(c.AuthHS256Secret) != strings.Repeat("s", 32) {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadConfigurationIsRefusedClearly(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"malformed public URL": {map[string]string{"ZOOMCONNECT_PUBLIC_URL": "zc.example.com"}, "ZOOMCONNECT_PUBLIC_URL"},
		"public URL w/ query":  {map[string]string{"ZOOMCONNECT_PUBLIC_URL": "https://x?y=1"}, "query"},
		"short HS256 secret":   {map[string]string{"ZOOMCONNECT_AUTH_HS256_SECRET": "short"}, "at least 32 bytes"},
		"half-set org client":  {map[string]string{"ZOOM_ORG_CLIENT_ID": "id"}, "ZOOM_ORG_CLIENT_ID and ZOOM_ORG_CLIENT_SECRET"},
		"half-set user client": {map[string]string{"ZOOM_USER_CLIENT_SECRET": "s"}, "ZOOM_USER_CLIENT_ID and ZOOM_USER_CLIENT_SECRET"},
		"bad address":          {map[string]string{"ZOOMCONNECT_GRPC_ADDR": "nonsense"}, "ZOOMCONNECT_GRPC_ADDR"},
		"bad redis scheme":     {map[string]string{"ZOOMCONNECT_REDIS_URL": "http://x"}, "ZOOMCONNECT_REDIS_URL"},
		"bad duration":         {map[string]string{"ZOOMCONNECT_INSTALL_LINK_TTL": "7 days"}, "ZOOMCONNECT_INSTALL_LINK_TTL"},
		"bad zoom URL":         {map[string]string{"ZOOM_API_URL": "ftp://zoom"}, "ZOOM_API_URL"},
		"bad log level":        {map[string]string{"ZOOMCONNECT_LOG_LEVEL": "loud"}, "ZOOMCONNECT_LOG_LEVEL"},
		"bad zoom rate":        {map[string]string{"ZOOMCONNECT_ZOOM_RATE": "-3"}, "ZOOMCONNECT_ZOOM_RATE"},
		"zero heartbeat":       {map[string]string{"ZOOMCONNECT_STREAM_HEARTBEAT": "0s"}, "ZOOMCONNECT_STREAM_HEARTBEAT"},
		"JWKS without issuer": {map[string]string{"ZOOMCONNECT_AUTH_JWKS_URL": "https://idp/jwks", "ZOOMCONNECT_AUTH_AUDIENCE": "zc"},
			"ZOOMCONNECT_AUTH_ISSUER and ZOOMCONNECT_AUTH_AUDIENCE are required"},
		"JWKS without audience": {map[string]string{"ZOOMCONNECT_AUTH_JWKS_URL": "https://idp/jwks", "ZOOMCONNECT_AUTH_ISSUER": "https://idp"},
			"ZOOMCONNECT_AUTH_ISSUER and ZOOMCONNECT_AUTH_AUDIENCE are required"},
		"bad token lifetime":    {map[string]string{"ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME": "0s"}, "ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME"},
		"infinite zoom rate":    {map[string]string{"ZOOMCONNECT_ZOOM_RATE": "Inf"}, "ZOOMCONNECT_ZOOM_RATE"},
		"tiny monitor interval": {map[string]string{"ZOOMCONNECT_MONITOR_INTERVAL": "1ns"}, "ZOOMCONNECT_MONITOR_INTERVAL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromEnv(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret\"") {
				t.Fatalf("error echoes a secret: %v", err)
			}
		})
	}
}

func TestAdminAddr(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.AdminAddr != "127.0.0.1:9091" {
		t.Fatalf("default admin address %q, %v", c.AdminAddr, err)
	}
	// Set to the empty string in the process environment, it disables the
	// admin listener; unset, it keeps the default.
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"unset":   {map[string]string{}, "127.0.0.1:9091"},
		"empty":   {map[string]string{AdminAddrVar: ""}, ""},
		"off":     {map[string]string{AdminAddrVar: "off"}, ""},
		"address": {map[string]string{AdminAddrVar: "0.0.0.0:9500"}, "0.0.0.0:9500"},
	} {
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		c, err := FromEnv(Getenv(lookup))
		if err != nil || c.AdminAddr != tc.want {
			t.Errorf("%s: admin address %q (%v), want %q", name, c.AdminAddr, err, tc.want)
		}
	}
	if _, err := FromEnv(env(map[string]string{AdminAddrVar: "nonsense"})); err == nil || !strings.Contains(err.Error(), AdminAddrVar) {
		t.Fatalf("a bad admin address was not refused clearly: %v", err)
	}
}

// TestValidateChecksEveryDurationAndRate: a Config built in code (not from
// the environment) is checked as strictly; a zero monitor interval would
// make the monitor busy-loop.
func TestValidateChecksEveryDurationAndRate(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"zero monitor interval": {func(c *Config) { c.MonitorInterval = 0 }, "ZOOMCONNECT_MONITOR_INTERVAL"},
		"zero shutdown timeout": {func(c *Config) { c.ShutdownTimeout = 0 }, "ZOOMCONNECT_SHUTDOWN_TIMEOUT"},
		"negative zoom timeout": {func(c *Config) { c.ZoomRequestTimeout = -time.Second }, "ZOOMCONNECT_ZOOM_TIMEOUT"},
		"zero state TTL":        {func(c *Config) { c.OAuthStateTTL = 0 }, "ZOOMCONNECT_OAUTH_STATE_TTL"},
		"zero link TTL":         {func(c *Config) { c.InstallLinkTTL = 0 }, "ZOOMCONNECT_INSTALL_LINK_TTL"},
		"zero request timeout":  {func(c *Config) { c.RequestTimeout = 0 }, "ZOOMCONNECT_REQUEST_TIMEOUT"},
		"zero zoom rate":        {func(c *Config) { c.ZoomRate = 0 }, "ZOOMCONNECT_ZOOM_RATE"},
		"NaN zoom rate":         {func(c *Config) { c.ZoomRate = math.NaN() }, "ZOOMCONNECT_ZOOM_RATE"},
		"zero heartbeat":        {func(c *Config) { c.StreamHeartbeat = 0 }, "ZOOMCONNECT_STREAM_HEARTBEAT"},
		"zero token lifetime":   {func(c *Config) { c.AuthMaxTokenLifetime = 0 }, "ZOOMCONNECT_AUTH_MAX_TOKEN_LIFETIME"},
		"zero write timeout":    {func(c *Config) { c.Limits.HTTPWriteTimeout = 0 }, "Limits.HTTPWriteTimeout"},
		"zero keepalive time":   {func(c *Config) { c.Limits.GRPCKeepaliveTime = 0 }, "Limits.GRPCKeepaliveTime"},
		"zero body limit":       {func(c *Config) { c.Limits.MaxRequestBytes = 0 }, "Limits.MaxRequestBytes"},
		"bad frame ancestors":   {func(c *Config) { c.ConsoleFrameAncestors = "javascript:x" }, "ZOOMCONNECT_CONSOLE_FRAME_ANCESTORS"},
		"bad admin address":     {func(c *Config) { c.AdminAddr = "nonsense" }, "ZOOMCONNECT_ADMIN_ADDR"},
		"JWKS without audience": {func(c *Config) { c.AuthJWKSURL, c.AuthIssuer = "https://idp/jwks", "https://idp" }, "ZOOMCONNECT_AUTH_AUDIENCE"},
	} {
		t.Run(name, func(t *testing.T) {
			c := Defaults()
			tc.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want mention of %s", err, tc.want)
			}
		})
	}
	if err := Defaults().Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
}
