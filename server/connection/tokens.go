package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
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

// orgAccessToken returns a usable access token of the org connection,
// refreshing it first when it is about to expire. Zoom rotates refresh
// tokens, so the new pair is stored (compare-and-swap on the sealed bytes)
// before it is used, and only one refresh per org runs in this process.
func (s *Service) orgAccessToken(ctx context.Context, orgID string) (string, error) {
	conn, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conn.State != store.StateActive) {
		return "", errs.FailedPrecondition(ReasonOrgNotConnected, "organization %s is not connected to Zoom", orgID)
	}
	if err != nil {
		return "", err
	}
	t, err := s.openTokens(conn.SealedTokens, orgTokenAAD(orgID))
	if err != nil {
		return "", fmt.Errorf("opening org tokens: %w", err)
	}
	if s.cfg.Now().Add(refreshMargin).Before(t.Expiry) {
		return t.AccessToken, nil
	}
	v, err, _ := s.refreshes.Do("org/"+orgID, func() (any, error) {
		return s.refreshOrg(context.WithoutCancel(ctx), orgID, conn.SealedTokens, t)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (s *Service) refreshOrg(ctx context.Context, orgID string, sealed []byte, old *zoom.Tokens) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fresh, err := s.cfg.Zoom.Refresh(ctx, zoom.OrgApp, old.RefreshToken)
	var oe *zoom.OAuthError
	if errors.As(err, &oe) && oe.GrantDead() {
		return "", s.orgGrantDead(ctx, orgID, sealed, err)
	}
	if err != nil {
		return "", zoomFailure(err, ReasonZoomUnavailable, "Zoom did not refresh the organization's token. Try again in a moment.")
	}
	newSealed, err := s.sealTokens(fresh, orgTokenAAD(orgID))
	if err != nil {
		return "", err
	}
	err = s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.OrgConnection()
		if err != nil {
			return err
		}
		if cur == nil || string(cur.SealedTokens) != string(sealed) {
			return errors.New("org tokens changed during refresh")
		}
		cur.SealedTokens, cur.UpdatedAt = newSealed, s.cfg.Now()
		tx.SetOrgConnection(cur)
		return nil
	})
	if err != nil {
		// Zoom has rotated: the pair we hold is the only live one. Losing
		// it means the admin must reconnect, so say so loudly.
		s.log.ErrorContext(ctx, "could not store refreshed Zoom tokens", "org_id", orgID, "error", err)
		return "", err
	}
	return fresh.AccessToken, nil
}

// orgGrantDead handles Zoom refusing the stored refresh token: unless
// another process rotated it meanwhile, the connection needs reconnecting.
func (s *Service) orgGrantDead(ctx context.Context, orgID string, sealed []byte, cause error) error {
	now := s.cfg.Now()
	err := s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.OrgConnection()
		if err != nil || cur == nil || string(cur.SealedTokens) != string(sealed) {
			return err
		}
		cur.State, cur.Reason, cur.SealedTokens, cur.UpdatedAt = store.StateNeedsReconnect, store.ReasonInvalidGrant, nil, now
		tx.SetOrgConnection(cur)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgNeedsReconnect, Actor: ActorZoom,
			Details: map[string]string{"reason": string(store.ReasonInvalidGrant)}})
		return nil
	})
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "Zoom refused the organization's refresh token; the connection needs reconnecting", "org_id", orgID, "error", cause)
	return errs.FailedPrecondition(ReasonOrgNeedsReconnect,
		"Zoom no longer accepts the organization's connection; an owner or admin must reconnect Zoom").Wrap(cause)
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
