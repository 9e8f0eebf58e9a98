package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// LogTo sends go-redis's own messages (such as its connection pool failing
// to dial) to l at debug level. go-redis otherwise prints them to stderr
// with its own prefix, process-wide: lines that break the service's JSON
// log and, at start-up with Redis unreachable, bury the one-line error that
// names ZOOMCONNECT_REDIS_URL. Debug is enough: every store call that
// fails because of them is reported by the service itself.
func LogTo(l *slog.Logger) { redis.SetLogger(slogLogger{l}) }

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Printf(ctx context.Context, format string, v ...any) {
	s.l.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
