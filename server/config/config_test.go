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
		c.ZoomAPIURL != "https://api.zoom.us/v2" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"ZOOMCONNECT_GRPC_ADDR":         "0.0.0.0:7000",
		"ZOOMCONNECT_PUBLIC_URL":        "https://zc.example.com",
		"ZOOMCONNECT_REDIS_URL":         "redis://127.0.0.1:6380/0",
		"ZOOMCONNECT_AUTH_HS256_SECRET": strings.Repeat("s", 32),
		"ZOOMCONNECT_INSTALL_LINK_TTL":  "48h",
		"ZOOM_ORG_CLIENT_ID":            "id",
		"ZOOM_ORG_CLIENT_SECRET":        "secret",
		"ZOOM_OAUTH_URL":                "http://127.0.0.1:9999",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DevMode() || c.GRPCAddr != "0.0.0.0:7000" || c.InstallLinkTTL != 48*time.Hour ||
		c.ZoomOrgApp != (ZoomApp{"id", "secret"}) || string(c.AuthHS256Secret) != strings.Repeat("s", 32) {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadConfigurationIsRefusedClearly(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"malformed public URL":  {map[string]string{"ZOOMCONNECT_PUBLIC_URL": "zc.example.com"}, "ZOOMCONNECT_PUBLIC_URL"},
		"public URL w/ query":   {map[string]string{"ZOOMCONNECT_PUBLIC_URL": "https://x?y=1"}, "query"},
		"short HS256 secret":    {map[string]string{"ZOOMCONNECT_AUTH_HS256_SECRET": "short"}, "at least 32 bytes"},
		"half-set org client":   {map[string]string{"ZOOM_ORG_CLIENT_ID": "id"}, "ZOOM_ORG_CLIENT_ID and ZOOM_ORG_CLIENT_SECRET"},
		"half-set user client":  {map[string]string{"ZOOM_USER_CLIENT_SECRET": "s"}, "ZOOM_USER_CLIENT_ID and ZOOM_USER_CLIENT_SECRET"},
		"bad address":           {map[string]string{"ZOOMCONNECT_GRPC_ADDR": "nonsense"}, "ZOOMCONNECT_GRPC_ADDR"},
		"bad redis scheme":      {map[string]string{"ZOOMCONNECT_REDIS_URL": "http://x"}, "ZOOMCONNECT_REDIS_URL"},
		"bad duration":          {map[string]string{"ZOOMCONNECT_INSTALL_LINK_TTL": "7 days"}, "ZOOMCONNECT_INSTALL_LINK_TTL"},
		"bad zoom URL":          {map[string]string{"ZOOM_API_URL": "ftp://zoom"}, "ZOOM_API_URL"},
		"bad log level":         {map[string]string{"ZOOMCONNECT_LOG_LEVEL": "loud"}, "ZOOMCONNECT_LOG_LEVEL"},
		"bad zoom rate":         {map[string]string{"ZOOMCONNECT_ZOOM_RATE": "-3"}, "ZOOMCONNECT_ZOOM_RATE"},
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
