package meeting

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/time/rate"
)

// accountLimiter paces calls per Zoom account: Zoom's rate limits are
// shared by every app on an account, so one busy org must not exhaust it.
type accountLimiter struct {
	mu       sync.Mutex
	perSec   rate.Limit
	accounts map[string]*rate.Limiter
}

// newAccountLimiter paces at perSec less 5%, one call at a time (no burst):
// Zoom counts calls per second, and evenly spaced calls a little slower
// than the limit stay under it despite the network's jitter.
func newAccountLimiter(perSec float64) *accountLimiter {
	return &accountLimiter{perSec: rate.Limit(perSec * 0.95), accounts: map[string]*rate.Limiter{}}
}

func (l *accountLimiter) wait(ctx context.Context, account string) error {
	l.mu.Lock()
	lim, ok := l.accounts[account]
	if !ok {
		lim = rate.NewLimiter(l.perSec, 1)
		l.accounts[account] = lim
	}
	l.mu.Unlock()
	return lim.Wait(ctx)
}

// call runs one Zoom call for connection ref with a fresh access token:
// paced per account, retried once with a refreshed token when Zoom says
// the token is invalid (code 124), retried after a jittered pause on Zoom's
// per-second 429 (Zoom did nothing, so a create may retry too), and retried
// with jittered backoff on 5xx and network failures (only when retryable:
// creating a meeting is not), all while the caller's deadline allows. A
// missing scope is never retried: only the Zoom app's configuration fixes it.
func (s *Service) call(ctx context.Context, ref connection.ConnRef, account string, retryable bool, fn func(token string) error) error {
	token, err := s.cfg.Tokens.AccessToken(ctx, ref, "")
	if err != nil {
		return err
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		if err := s.limiter.wait(ctx, account); err != nil {
			return unavailable(err)
		}
		err := fn(token)
		var ae *zoom.APIError
		var delay time.Duration
		switch {
		case err == nil:
			return nil
		case tokens.InvalidToken(err) && !refreshed:
			refreshed = true
			if token, err = s.cfg.Tokens.AccessToken(ctx, ref, token); err != nil {
				return err
			}
			continue
		case errors.As(err, &ae) && ae.HTTPStatus == http.StatusTooManyRequests:
			wait := retryAfter(ae, s.cfg.Now())
			if ae.DailyLimit() || attempt >= 3 || !fitsDeadline(ctx, wait) {
				return rateLimited(ae, wait)
			}
			delay = wait
		case errors.As(err, &ae):
			if scopes, ok := ae.MissingScopes(); ok {
				return s.scopeMissing(ctx, ref, scopes, ae)
			}
			if ae.HTTPStatus < 500 || !retryable {
				return err
			}
			delay = backoff(attempt)
		case errs.IsContextError(err) && ctx.Err() != nil:
			return unavailable(err)
		case !retryable:
			return err
		default:
			delay = backoff(attempt)
		}
		if !fitsDeadline(ctx, delay) {
			return unavailable(err)
		}
		select {
		case <-ctx.Done():
			return unavailable(err)
		case <-time.After(delay):
		}
	}
}

// fitsDeadline reports whether ctx leaves time to wait d and try again.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) >= d+50*time.Millisecond
}

// backoff is full jitter over 100 ms·2^attempt, capped at 2 s.
func backoff(attempt int) time.Duration {
	ceiling := min(100*time.Millisecond<<min(attempt, 5), 2*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling))) + 10*time.Millisecond
}

func unavailable(cause error) error {
	return (&errs.Error{Kind: errs.KindUnavailable, Reason: connection.ReasonZoomUnavailable,
		Message: "Zoom did not answer, so whether it carried out the request is unknown. Retrying the same request is safe: a meeting Zoom made meanwhile is found, not made twice."}).Wrap(cause)
}

// retryAfter is how long Zoom's 429 asks to wait: until its Retry-After
// when sent; else until 00:00 UTC for a daily limit (Zoom may leave
// Retry-After out, and the per-user cap names itself only in its message);
// else, for the per-second limit, one to two seconds with jitter, so that
// callers held back together do not return together.
func retryAfter(ae *zoom.APIError, now time.Time) time.Duration {
	switch {
	case !ae.RetryAfter.IsZero():
		return max(ae.RetryAfter.Sub(now), 0)
	case ae.DailyLimit():
		return zoom.NextUTCMidnight(now).Sub(now)
	}
	return time.Second + time.Duration(rand.Int64N(int64(time.Second)))
}

// rateLimited reports Zoom's 429 with the real wait as RetryInfo.
func rateLimited(ae *zoom.APIError, wait time.Duration) error {
	msg := "Zoom's per-second rate limit for this Zoom account is reached; retry in a moment"
	if ae.DailyLimit() {
		msg = "Zoom's daily limit is used up (for this host's meeting creates and updates, or the Zoom account's daily calls); Zoom resets it at 00:00 UTC"
	}
	return (&errs.Error{Kind: errs.KindResourceExhausted, Reason: ReasonZoomRateLimited, RetryAfter: max(wait, time.Second),
		Message: msg + " (Zoom: " + ae.Message + ")"}).Wrap(ae)
}
