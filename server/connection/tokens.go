package connection

import (
	"bytes"
	"context"
	"errors"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// ConnRef names one connection: the org's, or a member's personal one.
type ConnRef = tokens.Ref

// Credentials is what connections need of package tokens: sealing a new
// pair, calling Zoom with a usable token, revoking a grant.
type Credentials interface {
	Seal(r tokens.Ref, t *zoom.Tokens) ([]byte, error)
	Call(ctx context.Context, r tokens.Ref, f func(token string) error) error
	Revoke(ctx context.Context, app zoom.App, t *zoom.Tokens)
	RevokeSealed(ctx context.Context, r tokens.Ref, sealed []byte)
}

// GrantDead handles Zoom refusing the stored refresh token for good (it is
// tokens.Config.GrantDead): the connection needs reconnecting, the activity
// log and the event stream say so, and the caller gets the reason.
func (s *Service) GrantDead(ctx context.Context, r ConnRef, seen []byte, cause error) error {
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
				return tokens.ErrChanged
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
			return tokens.ErrChanged
		}
		c.State, c.Reason, c.SealedTokens, c.UpdatedAt = store.StateNeedsReconnect, store.ReasonInvalidGrant, nil, now
		tx.SetOrgConnection(c)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgNeedsReconnect, Actor: ActorZoom,
			Details: map[string]string{"reason": string(store.ReasonInvalidGrant)}})
		tx.AddEffect(s.effect(ev))
		return nil
	})
	if errors.Is(err, tokens.ErrChanged) {
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
