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
	burst    int
	accounts map[string]*rate.Limiter
}

func (l *accountLimiter) wait(ctx context.Context, account string) error {
	l.mu.Lock()
	lim, ok := l.accounts[account]
	if !ok {
		lim = rate.NewLimiter(l.perSec, l.burst)
		l.accounts[account] = lim
	}
	l.mu.Unlock()
	return lim.Wait(ctx)
}

// call runs one Zoom call for connection ref with a fresh access token:
// paced per account, retried once with a refreshed token when Zoom says
// the token is invalid (code 124), and retried with jittered backoff on 5xx
// and network failures while the caller's deadline allows (only when
// retryable: creating a meeting is not).
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
			return rateLimited(ae, s.cfg.Now())
		case errors.As(err, &ae) && ae.HTTPStatus < 500:
			return err
		case errs.IsContextError(err) && ctx.Err() != nil:
			return unavailable(err)
		case !retryable:
			return err
		}
		delay := backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay+50*time.Millisecond {
			return unavailable(err)
		}
		select {
		case <-ctx.Done():
			return unavailable(err)
		case <-time.After(delay):
		}
	}
}

// backoff is full jitter over 100 ms·2^attempt, capped at 2 s.
func backoff(attempt int) time.Duration {
	ceiling := min(100*time.Millisecond<<min(attempt, 5), 2*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling))) + 10*time.Millisecond
}

func unavailable(cause error) error {
	return (&errs.Error{Kind: errs.KindUnavailable, Reason: connection.ReasonZoomUnavailable,
		Message: "Zoom is not answering; nothing was changed. Retry later."}).Wrap(cause)
}

// rateLimited reports Zoom's 429 with when to retry: Retry-After when Zoom
// sent it, else a second (per-second limits reset quickly).
func rateLimited(ae *zoom.APIError, now time.Time) error {
	after := time.Second
	if !ae.RetryAfter.IsZero() {
		after = max(ae.RetryAfter.Sub(now), time.Second)
	}
	return (&errs.Error{Kind: errs.KindResourceExhausted, Reason: ReasonZoomRateLimited, RetryAfter: after,
		Message: "Zoom's rate limit is reached: " + ae.Message}).Wrap(ae)
}
