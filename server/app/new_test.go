package app

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/config"
)

// TestNewFailsCleanly: a start that fails halfway (here: the HTTP port is
// taken) returns the error and releases what it had acquired, instead of
// crashing on its own cleanup.
func TestNewFailsCleanly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr, cfg.DataDir = "127.0.0.1:0", taken.Addr().String(), "127.0.0.1:0", t.TempDir()
	a, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || a != nil || !strings.Contains(err.Error(), "ZOOMCONNECT_HTTP_ADDR") {
		t.Fatalf("New = %v, %v; want the HTTP listener's error", a, err)
	}
}
