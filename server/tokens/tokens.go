// Package tokens holds the Zoom credentials of the connections: it seals
// token pairs before they reach the store, hands out a usable access token
// (refreshing it a minute before it expires, or when Zoom refused it with
// code 124), and revokes grants. Zoom's refresh tokens are single use, so
// one refresh per connection runs at a time, in a process (single-flight)
// and across replicas (a store lease), and the rotated pair is stored
// before it is used. What a dead grant means for the connection (its state,
// the activity log, the event) is its owner's business: Config.GrantDead.
package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/sync/singleflight"
)

// Reasons this package reports (google.rpc.ErrorInfo.reason).
const (
	ReasonOrgNotConnected        = zcv1.ErrorReason_ERROR_REASON_ORG_NOT_CONNECTED
	ReasonOrgNeedsReconnect      = zcv1.ErrorReason_ERROR_REASON_ORG_NEEDS_RECONNECT
	ReasonNoZoomConnection       = zcv1.ErrorReason_ERROR_REASON_NO_ZOOM_CONNECTION
	ReasonPersonalNeedsReconnect = zcv1.ErrorReason_ERROR_REASON_PERSONAL_NEEDS_RECONNECT
	ReasonZoomUnavailable        = zcv1.ErrorReason_ERROR_REASON_ZOOM_UNAVAILABLE
)

// refreshMargin: access tokens are refreshed this long before they expire.
const refreshMargin = time.Minute

// refreshLease outlives one refresh call to Zoom.
const refreshLease = 30 * time.Second

// Ref names one connection: the org's, or a member's personal one.
type Ref struct {
	OrgID string
	// UserID is set for a personal connection.
	UserID string
}

// Personal reports whether the reference is to a personal connection.
func (r Ref) Personal() bool { return r.UserID != "" }

// App is the Zoom app the connection was made with.
func (r Ref) App() zoom.App {
	if r.Personal() {
		return zoom.UserApp
	}
	return zoom.OrgApp
}

// aad binds sealed tokens to the record they belong to, so that a sealed
// value copied into another record does not open.
func (r Ref) aad() []byte {
	if r.Personal() {
		return []byte("zoomconnect/personal-tokens/" + r.OrgID + "/" + r.UserID)
	}
	return []byte("zoomconnect/org-tokens/" + r.OrgID)
}

// kind names the connection's kind in metrics.
func (r Ref) kind() string {
	if r.Personal() {
		return "personal"
	}
	return "org"
}

// leaseName is the store lease a replica holds while it refreshes r.
func (r Ref) leaseName() string {
	if r.Personal() {
		return "refresh:personal:" + r.UserID
	}
	return "refresh:org"
}

// ErrChanged is what Config.GrantDead returns when r's stored tokens are no
// longer those Zoom refused (another replica rotated them meanwhile).
var ErrChanged = errors.New("stored tokens changed during refresh")

// Config wires a Service.
type Config struct {
	Store   store.Store
	Keyring *secrets.Keyring
	Zoom    *zoom.Client
	// GrantDead records that Zoom refused r's refresh token for good,
	// unless r's stored tokens are no longer seen (then ErrChanged), and
	// returns the error the caller gets.
	GrantDead func(ctx context.Context, r Ref, seen []byte, cause error) error
	// RevokeTimeout bounds a best-effort revocation at Zoom.
	RevokeTimeout time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service implements the credentials of the connections.
type Service struct {
	cfg Config
	log *slog.Logger
	// refreshes makes one token refresh per connection at a time in this
	// process: Zoom's refresh tokens are single use.
	refreshes singleflight.Group
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RevokeTimeout <= 0 {
		cfg.RevokeTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger}
}

// Seal encrypts a token pair for r's record.
func (s *Service) Seal(r Ref, t *zoom.Tokens) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return s.cfg.Keyring.Seal(plain, r.aad())
}

func (s *Service) open(r Ref, sealed []byte) (*zoom.Tokens, error) {
	plain, err := s.cfg.Keyring.Open(sealed, r.aad())
	if err != nil {
		return nil, err
	}
	var t zoom.Tokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("decoding sealed tokens: %w", err)
	}
	return &t, nil
}

// sealedTokens reads the connection's sealed tokens, refusing connections
// that cannot be used.
func (s *Service) sealedTokens(ctx context.Context, r Ref) ([]byte, error) {
	users := []string(nil)
	if r.Personal() {
		users = []string{r.UserID}
	}
	snap, err := s.cfg.Store.Snapshot(ctx, r.OrgID, users)
	if err != nil {
		return nil, err
	}
	if r.Personal() {
		p := snap.Users[0].Personal
		switch {
		case p == nil || p.State == store.StateNotConnected:
			return nil, errs.FailedPrecondition(ReasonNoZoomConnection, "user %s has no personal Zoom connection", r.UserID)
		case p.State != store.StateActive || p.SealedTokens == nil:
			return nil, errs.FailedPrecondition(ReasonPersonalNeedsReconnect, "user %s must reconnect their personal Zoom account", r.UserID)
		}
		return p.SealedTokens, nil
	}
	c := snap.Connection
	switch {
	case c == nil || c.State == store.StateNotConnected:
		return nil, errs.FailedPrecondition(ReasonOrgNotConnected, "organization %s is not connected to Zoom", r.OrgID)
	case c.State != store.StateActive || c.SealedTokens == nil:
		return nil, errs.FailedPrecondition(ReasonOrgNeedsReconnect,
			"the Zoom connection of organization %s needs an owner or admin to reconnect it", r.OrgID)
	}
	return c.SealedTokens, nil
}

// AccessToken returns a usable access token of connection r. It refreshes
// the token when it is about to expire, or when failed is the token Zoom
// just refused (code 124); the others wait for that refresh's result.
func (s *Service) AccessToken(ctx context.Context, r Ref, failed string) (string, error) {
	sealed, err := s.sealedTokens(ctx, r)
	if err != nil {
		return "", err
	}
	t, err := s.open(r, sealed)
	if err != nil {
		return "", fmt.Errorf("opening tokens: %w", err)
	}
	if t.AccessToken != failed && s.cfg.Now().Add(refreshMargin).Before(t.Expiry) {
		return t.AccessToken, nil
	}
	v, err, _ := s.refreshes.Do(r.OrgID+"\x00"+r.UserID, func() (any, error) {
		return s.refresh(ctx, r, sealed)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Call calls f with an access token of r; when Zoom refuses the token as
// invalid (code 124), it refreshes it once and calls f again, as every
// Zoom call of the service does.
func (s *Service) Call(ctx context.Context, r Ref, f func(token string) error) error {
	token, err := s.AccessToken(ctx, r, "")
	if err != nil {
		return err
	}
	err = f(token)
	if InvalidToken(err) {
		if token, err = s.AccessToken(ctx, r, token); err != nil {
			return err
		}
		err = f(token)
	}
	return err
}

// InvalidToken reports whether Zoom refused a call's access token (code 124).
func InvalidToken(err error) bool {
	var ae *zoom.APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusUnauthorized && ae.Code == zoom.CodeInvalidAccessToken
}

// refresh rotates r's tokens under the connection's lease. seen is the
// sealed pair the caller found stale: if the stored pair differs by the
// time the lease is held, another replica has already refreshed.
func (s *Service) refresh(ctx context.Context, r Ref, seen []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	owner := secrets.NewToken()
	for waited := false; ; waited = true {
		held, err := s.cfg.Store.AcquireLease(ctx, r.OrgID, r.leaseName(), owner, refreshLease)
		if err != nil {
			return "", err
		}
		if held {
			token, err := s.refreshHolding(ctx, r, seen)
			if rerr := s.cfg.Store.ReleaseLease(context.WithoutCancel(ctx), r.OrgID, r.leaseName(), owner); rerr != nil {
				s.log.WarnContext(ctx, "releasing the refresh lease", "org_id", r.OrgID, "error", rerr)
			}
			return token, err
		}
		// Another replica is refreshing: use its result once stored.
		if !waited {
			metrics.TokenRefreshLeaseWaits.WithLabelValues(r.kind()).Inc()
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if token, ok := s.refreshedMeanwhile(ctx, r, seen); ok {
			return token, nil
		}
	}
}

// refreshedMeanwhile returns the stored access token if the stored pair is
// no longer `seen`. It reads the backend itself (inside a transaction), not
// the cache, which may lag another replica's write by a few milliseconds.
func (s *Service) refreshedMeanwhile(ctx context.Context, r Ref, seen []byte) (string, bool) {
	var current []byte
	err := s.cfg.Store.Update(ctx, r.OrgID, func(tx store.OrgTx) error {
		return swapSealed(tx, r, seen, func(sealed *[]byte) { current = *sealed }, time.Time{})
	})
	if !errors.Is(err, ErrChanged) || current == nil {
		return "", false
	}
	t, err := s.open(r, current)
	if err != nil {
		return "", false
	}
	return t.AccessToken, true
}

func (s *Service) refreshHolding(ctx context.Context, r Ref, seen []byte) (string, error) {
	if token, ok := s.refreshedMeanwhile(ctx, r, seen); ok {
		return token, nil
	}
	old, err := s.open(r, seen)
	if err != nil {
		return "", err
	}
	fresh, err := s.cfg.Zoom.Refresh(ctx, r.App(), old.RefreshToken)
	var oe *zoom.OAuthError
	if errors.As(err, &oe) && oe.GrantDead() {
		metrics.TokenRefreshes.WithLabelValues(r.kind(), "invalid_grant").Inc()
		return "", s.cfg.GrantDead(ctx, r, seen, err)
	}
	if err != nil {
		metrics.TokenRefreshes.WithLabelValues(r.kind(), "transient").Inc()
		return "", ZoomFailure(err, ReasonZoomUnavailable, "Zoom did not refresh the connection's token. Try again in a moment.")
	}
	newSealed, err := s.Seal(r, fresh)
	if err != nil {
		return "", err
	}
	now := s.cfg.Now()
	err = s.cfg.Store.Update(ctx, r.OrgID, func(tx store.OrgTx) error {
		return swapSealed(tx, r, seen, func(sealed *[]byte) { *sealed = newSealed }, now)
	})
	if err != nil {
		// Zoom has rotated: the pair we hold is the only live one. Losing
		// it means reconnecting, so say so loudly.
		s.log.ErrorContext(ctx, "could not store refreshed Zoom tokens", "org_id", r.OrgID, "user_id", r.UserID, "error", err)
		metrics.TokenRefreshes.WithLabelValues(r.kind(), "transient").Inc()
		return "", err
	}
	metrics.TokenRefreshes.WithLabelValues(r.kind(), "ok").Inc()
	return fresh.AccessToken, nil
}

// swapSealed calls change on r's sealed tokens if they are still `seen`,
// and stores the result when now is set. Otherwise it returns ErrChanged
// and lets change see the current tokens (nil when the connection is gone)
// without storing anything.
func swapSealed(tx store.OrgTx, r Ref, seen []byte, change func(*[]byte), now time.Time) error {
	if r.Personal() {
		p, err := tx.Personal(r.UserID)
		if err != nil {
			return err
		}
		if p == nil || !bytes.Equal(p.SealedTokens, seen) {
			if p != nil {
				change(&p.SealedTokens)
			}
			return ErrChanged
		}
		if !now.IsZero() {
			change(&p.SealedTokens)
			p.UpdatedAt = now
			tx.SetPersonal(p)
		}
		return nil
	}
	c, err := tx.OrgConnection()
	if err != nil {
		return err
	}
	if c == nil || !bytes.Equal(c.SealedTokens, seen) {
		if c != nil {
			change(&c.SealedTokens)
		}
		return ErrChanged
	}
	if !now.IsZero() {
		change(&c.SealedTokens)
		c.UpdatedAt = now
		tx.SetOrgConnection(c)
	}
	return nil
}

// RevokeSealed revokes the grant behind r's sealed tokens, best effort.
func (s *Service) RevokeSealed(ctx context.Context, r Ref, sealed []byte) {
	t, err := s.open(r, sealed)
	if err != nil {
		s.log.WarnContext(ctx, "cannot open stored Zoom tokens to revoke them", "error", err)
		return
	}
	s.Revoke(ctx, r.App(), t)
}

// Revoke revokes a grant at Zoom on a bounded budget and only logs a
// failure: revocation is a courtesy that must never block the caller. The
// access token is tried first (Zoom documents it), then the refresh token.
func (s *Service) Revoke(ctx context.Context, app zoom.App, t *zoom.Tokens) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.revokeBudget(ctx))
	defer cancel()
	err := s.cfg.Zoom.Revoke(ctx, app, t.AccessToken)
	var oe *zoom.OAuthError
	if errors.As(err, &oe) && t.RefreshToken != "" {
		err = s.cfg.Zoom.Revoke(ctx, app, t.RefreshToken)
	}
	if err != nil {
		s.log.WarnContext(ctx, "could not revoke Zoom token; continuing", "app", app.String(), "error", err)
	}
}

// revokeBudget is RevokeTimeout, but at most half of what is left of the
// caller's deadline, so that the store write after it still fits.
func (s *Service) revokeBudget(ctx context.Context) time.Duration {
	budget := s.cfg.RevokeTimeout
	if dl, ok := ctx.Deadline(); ok {
		if half := time.Until(dl) / 2; half < budget {
			budget = half
		}
	}
	return max(budget, 0)
}

// ZoomFailure turns a Zoom error into what the person is told; the cause
// is kept for the log.
func ZoomFailure(err error, reason errs.Reason, message string) error {
	var oe *zoom.OAuthError
	var ae *zoom.APIError
	if errors.As(err, &oe) || errors.As(err, &ae) {
		return errs.FailedPrecondition(reason, "%s", message).Wrap(err)
	}
	if errs.IsContextError(err) {
		return err
	}
	return (&errs.Error{Kind: errs.KindUnavailable, Reason: ReasonZoomUnavailable,
		Message: "Zoom could not be reached. Try again in a moment."}).Wrap(err)
}
