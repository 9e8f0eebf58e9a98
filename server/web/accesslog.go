package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/httprec"
)

// AccessLog writes one line per HTTP request: at debug level, or at info
// level when the request failed (status 400 and above) or took Slow or
// longer. A line names the method, the route (a pattern, never the raw path:
// paths carry ids and install links), the status, the duration and the
// authenticated caller (never the token).
type AccessLog struct {
	Logger *slog.Logger
	// Route names the route of a request that has been served.
	Route func(*http.Request) string
	// Caller names the request's authenticated caller, "" when none.
	Caller func(*http.Request) string
	Slow   time.Duration
}

// Wrap logs the requests next serves.
func (l AccessLog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &httprec.Recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		status := rec.Status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelDebug
		if status >= 400 || d >= l.Slow {
			level = slog.LevelInfo
		}
		if !l.Logger.Enabled(r.Context(), level) {
			return
		}
		caller := ""
		if status != http.StatusUnauthorized { // no caller to name, and no token worth verifying twice
			caller = l.Caller(r)
		}
		l.Logger.Log(r.Context(), level, "HTTP request", "method", r.Method, "route", l.Route(r),
			"status", status, "duration", d, "caller", caller)
	})
}
