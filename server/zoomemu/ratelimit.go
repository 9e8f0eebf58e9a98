package zoomemu

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// accountRate counts one account's Medium-category requests in the current
// second and the current UTC day.
type accountRate struct {
	second time.Time
	inSec  int
	day    time.Time
	inDay  int
}

// isMedium tells the requests of Zoom's Medium rate category that the
// emulator serves: creating and listing meetings (zoom-api.md §4.1; the
// others it serves are Light).
func isMedium(r *http.Request) bool {
	return r.PathValue("userId") != "" && strings.HasSuffix(r.URL.Path, "/meetings") &&
		(r.Method == http.MethodPost || r.Method == http.MethodGet)
}

// takeAccountRate applies Config.MediumPerSecond and Config.MediumPerDay to
// a Medium request of account, as Zoom does (limits are per account, shared
// by all apps): a per-second 429 without Retry-After, and a daily one with
// X-RateLimit-Type: Daily-limit and an ISO-8601 Retry-After of the next
// 00:00 UTC. Must be called with e.mu held.
func (e *Emulator) takeAccountRate(account string, r *http.Request, now time.Time) *apiError {
	if (e.cfg.MediumPerSecond <= 0 && e.cfg.MediumPerDay <= 0) || !isMedium(r) {
		return nil
	}
	now = now.UTC()
	sec, day := now.Truncate(time.Second), time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	ar := e.accountRates[account]
	if !ar.second.Equal(sec) {
		ar.second, ar.inSec = sec, 0
	}
	if !ar.day.Equal(day) {
		ar.day, ar.inDay = day, 0
	}
	h := http.Header{}
	h.Set("X-RateLimit-Category", "Medium")
	switch {
	case e.cfg.MediumPerDay > 0 && ar.inDay >= e.cfg.MediumPerDay:
		e.stats.AccountRateLimited++
		h.Set("X-RateLimit-Type", "Daily-limit")
		h.Set("X-RateLimit-Limit", strconv.Itoa(e.cfg.MediumPerDay))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("Retry-After", day.AddDate(0, 0, 1).Format(time.RFC3339))
		return &apiError{status: http.StatusTooManyRequests, header: h, Code: http.StatusTooManyRequests,
			Message: "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."}
	case e.cfg.MediumPerSecond > 0 && ar.inSec >= e.cfg.MediumPerSecond:
		e.stats.AccountRateLimited++
		h.Set("X-RateLimit-Type", "QPS")
		return &apiError{status: http.StatusTooManyRequests, header: h, Code: http.StatusTooManyRequests,
			Message: "You have reached the maximum per-second rate limit for this API. Try again later."}
	}
	ar.inSec++
	ar.inDay++
	e.accountRates[account] = ar
	return nil
}
