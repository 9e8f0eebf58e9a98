package redisstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

// TestLogTo: go-redis's own messages about an unreachable Redis reach the
// service's logger, not stderr (where they broke the JSON log and the
// one-line start-up error).
func TestLogTo(t *testing.T) {
	var buf bytes.Buffer
	redisstore.LogTo(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { redisstore.LogTo(slog.New(slog.DiscardHandler)) })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := redisstore.New(ctx, "redis://"+webtest.FreeAddr(t)); err == nil {
		t.Fatal("New reached a Redis on a free port")
	}
	if !strings.Contains(buf.String(), `"msg":"go-redis: `) || !strings.Contains(buf.String(), `"level":"DEBUG"`) {
		t.Fatalf("service log = %q; want go-redis's dial failures at debug level", buf.String())
	}
}
