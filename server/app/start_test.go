package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/config"
)

// TestTakenPortIsAnError: a start that fails half-way (here the HTTP port
// is taken, after the gRPC listener was bound) returns an error naming the
// cause and releases what it had bound, instead of panicking.
func TestTakenPortIsAnError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", taken.Addr().String(), t.TempDir()
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || a != nil || !strings.Contains(err.Error(), "HTTP listener") {
		t.Fatalf("New with a taken HTTP port = %v, %v; want no App and an HTTP listener error", a, err)
	}
}
