package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// refreshMargin: access tokens are refreshed this long before they expire.
const refreshMargin = time.Minute

// Associated data binds sealed material to the record it belongs to, so a
// sealed value copied into another record does not open.
func orgTokenAAD(orgID string) []byte { return []byte("zoomconnect/org-tokens/" + orgID) }

func personalTokenAAD(orgID, userID string) []byte {
	return []byte("zoomconnect/personal-tokens/" + orgID + "/" + userID)
}

func (s *Service) sealTokens(t *zoom.Tokens, aad []byte) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return s.cfg.Keyring.Seal(plain, aad)
}

func (s *Service) openTokens(sealed, aad []byte) (*zoom.Tokens, error) {
	plain, err := s.cfg.Keyring.Open(sealed, aad)
	if err != nil {
		return nil, err
	}
	var t zoom.Tokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("decoding sealed tokens: %w", err)
	}
	return &t, nil
}

// ConnRef names one connection: the org's, or a member's personal one.
type ConnRef struct {
	OrgID string
	// UserID is set for a personal connection.
	UserID string
}

// Personal reports whether the reference is to a personal connection.
func (r ConnRef) Personal() bool { return r.UserID != "" }

func (r ConnRef) app() zoom.App {
	if r.Personal() {
		return zoom.UserApp
	}
	return zoom.OrgApp
}

func (r ConnRef) aad() []byte {
	if r.Personal() {
		return personalTokenAAD(r.OrgID, r.UserID)
	}
	return orgTokenAAD(r.OrgID)
}

// leaseName is the store lease a replica holds while it refreshes r.
func (r ConnRef) leaseName() string {
	if r.Personal() {
		return "refresh:personal:" + r.UserID
	}
	return "refresh:org"
}

// sealedTokens reads the connection's sealed tokens, refusing connections
// that cannot be used.
func (s *Service) sealedTokens(ctx context.Context, r ConnRef) ([]byte, error) {
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
// just refused (code 124). Zoom's refresh tokens are single use, so one
// refresh per connection runs at a time: in this process (single-flight)
// and across replicas (a store lease); the others wait for its result. The
// new pair is stored before it is used.
func (s *Service) AccessToken(ctx context.Context, r ConnRef, failed string) (string, error) {
	sealed, err := s.sealedTokens(ctx, r)
	if err != nil {
		return "", err
	}
	t, err := s.openTokens(sealed, r.aad())
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

// withToken calls f with an access token of r; when Zoom refuses the
// token as invalid (code 124), it refreshes it once and calls f again, as
// every Zoom call of the service does.
func (s *Service) withToken(ctx context.Context, r ConnRef, f func(token string) error) error {
	token, err := s.AccessToken(ctx, r, "")
	if err != nil {
		return err
	}
	err = f(token)
	var ae *zoom.APIError
	if errors.As(err, &ae) && ae.HTTPStatus == http.StatusUnauthorized && ae.Code == zoom.CodeInvalidAccessToken {
		if token, err = s.AccessToken(ctx, r, token); err != nil {
			return err
		}
		err = f(token)
	}
	return err
}

// refresh rotates r's tokens under the connection's lease. seen is the
// sealed pair the caller found stale: if the stored pair differs by the
// time the lease is held, another replica has already refreshed.
func (s *Service) refresh(ctx context.Context, r ConnRef, seen []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	owner := secrets.NewToken()
	for {
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

// refreshLease outlives one refresh call to Zoom.
const refreshLease = 30 * time.Second

// refreshedMeanwhile returns the stored access token if the stored pair is
// no longer `seen`. It reads the backend itself (inside a transaction), not
// the cache, which may lag another replica's write by a few milliseconds.
func (s *Service) refreshedMeanwhile(ctx context.Context, r ConnRef, seen []byte) (string, bool) {
	var current []byte
	err := s.cfg.Store.Update(ctx, r.OrgID, func(tx store.OrgTx) error {
		return swapSealed(tx, r, seen, func(sealed *[]byte) { current = *sealed }, time.Time{})
	})
	if !errors.Is(err, errTokensChanged) || current == nil {
		return "", false
	}
	t, err := s.openTokens(current, r.aad())
	if err != nil {
		return "", false
	}
	return t.AccessToken, true
}

func (s *Service) refreshHolding(ctx context.Context, r ConnRef, seen []byte) (string, error) {
	if token, ok := s.refreshedMeanwhile(ctx, r, seen); ok {
		return token, nil
	}
	old, err := s.openTokens(seen, r.aad())
	if err != nil {
		return "", err
	}
	fresh, err := s.cfg.Zoom.Refresh(ctx, r.app(), old.RefreshToken)
	var oe *zoom.OAuthError
	if errors.As(err, &oe) && oe.GrantDead() {
		return "", s.grantDead(ctx, r, seen, err)
	}
	if err != nil {
		return "", zoomFailure(err, ReasonZoomUnavailable, "Zoom did not refresh the connection's token. Try again in a moment.")
	}
	newSealed, err := s.sealTokens(fresh, r.aad())
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
		return "", err
	}
	return fresh.AccessToken, nil
}

var errTokensChanged = errors.New("stored tokens changed during refresh")

// swapSealed calls change on r's sealed tokens if they are still `seen`,
// and stores the result when now is set. Otherwise it returns
// errTokensChanged and lets change see the current tokens (nil when the
// connection is gone) without storing anything.
func swapSealed(tx store.OrgTx, r ConnRef, seen []byte, change func(*[]byte), now time.Time) error {
	if r.Personal() {
		p, err := tx.Personal(r.UserID)
		if err != nil {
			return err
		}
		if p == nil || !bytes.Equal(p.SealedTokens, seen) {
			if p != nil {
				change(&p.SealedTokens)
			}
			return errTokensChanged
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
		return errTokensChanged
	}
	if !now.IsZero() {
		change(&c.SealedTokens)
		c.UpdatedAt = now
		tx.SetOrgConnection(c)
	}
	return nil
}

// grantDead handles Zoom refusing the stored refresh token for good: the
// connection needs reconnecting, the activity log says so, and the caller
// gets the reason.
func (s *Service) grantDead(ctx context.Context, r ConnRef, seen []byte, cause error) error {
	var affected []string
	if !r.Personal() {
		pre, err := store.GetOrgConnection(ctx, s.cfg.Store, r.OrgID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		affected = s.affectedBy(ctx, r.OrgID, pre)
	}
	now := s.cfg.Now()
	ev := change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_NEEDS_RECONNECT, orgID: r.OrgID, userID: r.UserID,
		state: store.StateNeedsReconnect, reason: store.ReasonInvalidGrant, actor: ActorZoom, affected: affected}
	err := s.cfg.Effects.Update(ctx, r.OrgID, func(tx store.OrgTx) error {
		if r.Personal() {
			p, err := tx.Personal(r.UserID)
			if err != nil {
				return err
			}
			if p == nil || !bytes.Equal(p.SealedTokens, seen) {
				return errTokensChanged
			}
			p.State, p.Reason, p.SealedTokens, p.UpdatedAt = store.StateNeedsReconnect, store.ReasonInvalidGrant, nil, now
			tx.SetPersonal(p)
			tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityPersonalNeedsReconnect, Actor: ActorZoom, UserID: r.UserID,
				Details: map[string]string{"reason": string(store.ReasonInvalidGrant)}})
			tx.AddEffect(s.effect(ev))
			return nil
		}
		c, err := tx.OrgConnection()
		if err != nil {
			return err
		}
		if c == nil || !bytes.Equal(c.SealedTokens, seen) {
			return errTokensChanged
		}
		c.State, c.Reason, c.SealedTokens, c.UpdatedAt = store.StateNeedsReconnect, store.ReasonInvalidGrant, nil, now
		tx.SetOrgConnection(c)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgNeedsReconnect, Actor: ActorZoom,
			Details: map[string]string{"reason": string(store.ReasonInvalidGrant)}})
		tx.AddEffect(s.effect(ev))
		return nil
	})
	if errors.Is(err, errTokensChanged) {
		// Another replica rotated (or the connection changed) meanwhile:
		// that was not the grant dying.
		return errs.New(errs.KindUnavailable, ReasonZoomUnavailable, "the connection's tokens changed meanwhile; retry").Wrap(cause)
	}
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "Zoom refused the stored refresh token; the connection needs reconnecting", "org_id", r.OrgID, "user_id", r.UserID, "error", cause)
	if r.Personal() {
		return errs.FailedPrecondition(ReasonPersonalNeedsReconnect,
			"Zoom no longer accepts the personal Zoom connection of user %s; they must reconnect it", r.UserID).Wrap(cause)
	}
	return errs.FailedPrecondition(ReasonOrgNeedsReconnect,
		"Zoom no longer accepts the organization's Zoom connection; an owner or admin must reconnect Zoom").Wrap(cause)
}

func (s *Service) revokeSealedQuietly(ctx context.Context, app zoom.App, sealed, aad []byte) {
	t, err := s.openTokens(sealed, aad)
	if err != nil {
		s.log.WarnContext(ctx, "cannot open stored Zoom tokens to revoke them", "error", err)
		return
	}
	s.revokeQuietly(ctx, app, t)
}

// revokeQuietly revokes a grant at Zoom on a bounded budget and only logs a
// failure: revocation is a courtesy that must never block the caller. The
// access token is tried first (Zoom documents it), then the refresh token.
func (s *Service) revokeQuietly(ctx context.Context, app zoom.App, t *zoom.Tokens) {
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
