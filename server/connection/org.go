package connection

import (
	"context"
	"errors"
	"strconv"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
)

// OrgView is an organization connection as callers see it: no pair, and
// PENDING while a live install link exists over the stored state.
type OrgView struct {
	OrgID               string
	State               store.ConnectionState
	Pending             bool
	Reason              store.StateReason
	ZoomAccountID       string
	InstallerEmail      string
	InstallerZoomUserID string
	ConnectedAt         time.Time
	ConnectedBy         string
	LinkExpiresAt       time.Time
	PendingStartedBy    string
	UpdatedAt           time.Time
}

func viewOf(orgID string, rec *store.OrgConnection, now time.Time) OrgView {
	if rec == nil {
		return OrgView{OrgID: orgID, State: store.StateNotConnected}
	}
	v := OrgView{
		OrgID: rec.OrgID, State: rec.State, Reason: rec.Reason,
		ZoomAccountID: rec.ZoomAccountID, InstallerEmail: rec.InstallerEmail,
		InstallerZoomUserID: rec.InstallerZoomUserID, ConnectedAt: rec.ConnectedAt,
		ConnectedBy: rec.ConnectedBy, UpdatedAt: rec.UpdatedAt,
	}
	if p := rec.Pending; p != nil && rec.State != store.StateActive {
		if now.Before(p.ExpiresAt) {
			v.Pending, v.Reason = true, store.ReasonNone
			v.LinkExpiresAt, v.PendingStartedBy = p.ExpiresAt, p.StartedBy
		} else if rec.State == store.StateNotConnected {
			v.Reason = store.ReasonInstallLinkExpired
		}
	}
	return v
}

// GetOrg returns the organization's connection; an organization that never
// started one is NOT_CONNECTED.
func (s *Service) GetOrg(ctx context.Context, orgID string) (OrgView, error) {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, nil)
	if err != nil {
		return OrgView{}, err
	}
	return viewOf(orgID, snap.Connection, s.cfg.Now()), nil
}

// StartResult is what StartOrg hands out.
type StartResult struct {
	InstallURL string
	ExpiresAt  time.Time
	View       OrgView
}

// StartOrg issues a new install link for the organization, replacing any
// earlier one. It is refused while the organization is connected.
func (s *Service) StartOrg(ctx context.Context, orgID, actor string) (*StartResult, error) {
	if !s.cfg.Zoom.Configured(zoom.OrgApp) {
		return nil, errs.FailedPrecondition(ReasonZoomAppNotConfigured, "the admin-managed Zoom app is not configured on this server (ZOOM_ORG_CLIENT_ID)")
	}
	now := s.cfg.Now()
	linkSecret := secrets.NewToken()
	pending := &store.PendingInstall{
		AttemptID: secrets.NewToken(),
		LinkHash:  secrets.Hash(linkSecret),
		StartedBy: actor,
		StartedAt: now,
		ExpiresAt: now.Add(s.cfg.InstallLinkTTL),
	}
	var rec *store.OrgConnection
	err := s.cfg.Store.Update(ctx, orgID, func(tx store.OrgTx) error {
		cur, err := tx.OrgConnection()
		if err != nil {
			return err
		}
		if cur == nil {
			cur = &store.OrgConnection{OrgID: orgID, State: store.StateNotConnected}
		}
		if cur.State == store.StateActive {
			return errs.FailedPrecondition(ReasonOrgAlreadyConnected,
				"organization %s is already connected to Zoom account %s; disconnect it first", orgID, cur.ZoomAccountID)
		}
		cur.Pending, cur.UpdatedAt = pending, now
		tx.SetOrgConnection(cur)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgConnectionStarted, Actor: actor,
			Details: map[string]string{"link_expires_at": pending.ExpiresAt.UTC().Format(time.RFC3339)}})
		rec = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &StartResult{
		InstallURL: s.cfg.PublicURL + InstallPath + encodeOrgScoped(orgID, linkSecret),
		ExpiresAt:  pending.ExpiresAt,
		View:       viewOf(orgID, rec, now),
	}, nil
}

// BeginInstall checks an install link and returns the Zoom authorization URL
// its visitor is sent to, with a single-use state and PKCE verifier.
func (s *Service) BeginInstall(ctx context.Context, link string) (string, error) {
	invalid := errs.NotFound(ReasonInstallLinkInvalid,
		"This install link is unknown, was replaced by a newer link, or was already used. Ask an owner or admin of your scheduling organization for a new link.")
	orgID, secret, ok := decodeOrgScoped(link)
	if !ok {
		return "", invalid
	}
	rec, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalid
	}
	if err != nil {
		return "", err
	}
	if rec.State == store.StateActive || rec.Pending == nil || !secrets.Equal(secrets.Hash(secret), rec.Pending.LinkHash) {
		return "", invalid
	}
	now := s.cfg.Now()
	if !now.Before(rec.Pending.ExpiresAt) {
		return "", errs.FailedPrecondition(ReasonInstallLinkExpired,
			"This install link expired on %s. Ask an owner or admin of your scheduling organization for a new link.",
			rec.Pending.ExpiresAt.UTC().Format(time.RFC1123))
	}
	// Every visit of the link within one StateTTL window gets the same
	// state and PKCE verifier, derived from the link's secret, and re-arms
	// it for StateTTL: reloading the link (or a bot following it a thousand
	// times) stores no new state, so a link has at most two live states,
	// and two tabs of one visit both work.
	window := strconv.FormatInt(now.Truncate(s.cfg.StateTTL).Unix(), 10)
	label := rec.Pending.AttemptID + "/" + window
	return s.authorization(ctx, zoom.OrgApp, store.OAuthState{
		OrgID: orgID, Kind: stateKindOrg, AttemptID: rec.Pending.AttemptID, ExpiresAt: now.Add(s.cfg.StateTTL),
	}, secrets.Derive(secret, "zoomconnect/oauth-state/"+label), secrets.Derive(secret, "zoomconnect/pkce-verifier/"+label))
}

// completeOrg checks that the approving Zoom user is an account Owner or
// Admin and stores the connection. A non-admin's token is revoked and
// nothing is stored.
func (s *Service) completeOrg(ctx context.Context, st *store.OAuthState, code, verifier string) (*Completion, error) {
	// Check the attempt before the code exchange: exchanging makes Zoom
	// revoke older grants of the same Zoom user, which would break a
	// connection completed meanwhile.
	rec, err := store.GetOrgConnection(ctx, s.cfg.Store, st.OrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if rec == nil || rec.Pending == nil || rec.Pending.AttemptID != st.AttemptID {
		return nil, errs.FailedPrecondition(ReasonInstallLinkReplaced,
			"This install link was replaced by a newer one or the connection was completed or cancelled meanwhile. Nothing changed.")
	}
	pair, me, err := s.exchange(ctx, zoom.OrgApp, code, verifier)
	if err != nil {
		return nil, err
	}
	if !me.IsAccountAdmin() {
		s.cfg.Tokens.Revoke(ctx, zoom.OrgApp, pair)
		return nil, errs.PermissionDenied(ReasonZoomUserNotAdmin,
			"The Zoom user %s is not an Owner or Admin of Zoom account %s (role: %s), so the organization was not connected. "+
				"The install link must be opened by a Zoom admin of the account: send it to your Zoom admin.",
			me.Email, me.AccountID, roleLabel(me))
	}
	sealed, err := s.cfg.Tokens.Seal(ConnRef{OrgID: st.OrgID}, pair)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var replaced []byte
	err = s.cfg.Effects.Update(ctx, st.OrgID, func(tx store.OrgTx) error {
		replaced = nil
		cur, err := tx.OrgConnection()
		if err != nil {
			return err
		}
		if cur != nil && cur.State == store.StateActive && cur.ZoomAccountID == me.AccountID && cur.InstallerZoomUserID == me.ID {
			// The same admin approved twice at once: Zoom keeps only the
			// newest grant, so keep these pair.
			cur.SealedTokens, cur.UpdatedAt = sealed, now
			tx.SetOrgConnection(cur)
			return nil
		}
		if cur == nil || cur.Pending == nil || cur.Pending.AttemptID != st.AttemptID {
			return errs.FailedPrecondition(ReasonInstallLinkReplaced,
				"This install link was replaced by a newer one or the connection was cancelled meanwhile. Nothing changed.")
		}
		replaced = cur.SealedTokens
		tx.SetOrgConnection(&store.OrgConnection{
			OrgID: st.OrgID, State: store.StateActive,
			ZoomAccountID: me.AccountID, InstallerEmail: me.Email, InstallerZoomUserID: me.ID,
			ConnectedAt: now, ConnectedBy: cur.Pending.StartedBy,
			SealedTokens: sealed, UpdatedAt: now,
		})
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgConnected, Actor: cur.Pending.StartedBy,
			Details: map[string]string{"zoom_account_id": me.AccountID, "approved_by": me.Email}})
		var stale []store.IndexChange
		if cur.State != store.StateNotConnected { // reconnected: the old entries go first
			stale = orgIndexes(true, st.OrgID, cur.ZoomAccountID, cur.InstallerZoomUserID)
		}
		tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED, orgID: st.OrgID,
			state: store.StateActive, actor: cur.Pending.StartedBy}, stale, orgIndexes(false, st.OrgID, me.AccountID, me.ID),
			[]store.IndexChange{queueMatch(st.OrgID, "")}))
		return nil
	})
	if err != nil {
		if e := errs.As(err); e != nil && e.Reason == ReasonInstallLinkReplaced {
			s.cfg.Tokens.Revoke(ctx, zoom.OrgApp, pair)
		}
		return nil, err
	}
	if replaced != nil {
		s.cfg.Tokens.RevokeSealed(ctx, ConnRef{OrgID: st.OrgID}, replaced)
	}
	s.log.InfoContext(ctx, "organization connected to Zoom", "org_id", st.OrgID, "zoom_account_id", me.AccountID, "installer_zoom_user_id", me.ID)
	s.nudge(st.OrgID, "")
	return &Completion{OrgID: st.OrgID, ZoomAccountID: me.AccountID, ZoomEmail: me.Email}, nil
}

func roleLabel(u *zoom.User) string {
	if u.RoleName != "" {
		return u.RoleName
	}
	return "role id " + u.RoleID
}

// DisconnectOrg revokes the organization's token at Zoom (best effort: a Zoom
// failure never blocks the disconnect), deletes it, cancels any install link
// and leaves the connection NOT_CONNECTED. Personal connections stay.
// Disconnecting twice is harmless. It returns the members who lost Zoom
// (as PreviewDisconnect lists them, and the disconnect event names them).
func (s *Service) DisconnectOrg(ctx context.Context, orgID, actor string) (OrgView, []store.Member, error) {
	rec, err := store.GetOrgConnection(ctx, s.cfg.Store, orgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return OrgView{}, nil, err
	}
	affected := s.affectedMembers(ctx, orgID, rec)
	var affectedIDs []string
	for _, m := range affected {
		affectedIDs = append(affectedIDs, m.UserID)
	}
	now := s.cfg.Now()
	next := &store.OrgConnection{OrgID: orgID, State: store.StateNotConnected, Reason: store.ReasonDisconnectedByAdmin, UpdatedAt: now}
	disconnected := false
	err = s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		disconnected = false
		cur, err := tx.OrgConnection()
		if err != nil {
			return err
		}
		tx.SetOrgConnection(next)
		if cur != nil && (cur.State != store.StateNotConnected || cur.Pending != nil) {
			tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityOrgDisconnected, Actor: actor,
				Details: map[string]string{"zoom_account_id": cur.ZoomAccountID, "reason": string(store.ReasonDisconnectedByAdmin)}})
		}
		if cur != nil && cur.State != store.StateNotConnected {
			disconnected = true
			tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED, orgID: orgID,
				state: store.StateNotConnected, reason: store.ReasonDisconnectedByAdmin, actor: actor, affected: affectedIDs},
				orgIndexes(true, orgID, cur.ZoomAccountID, cur.InstallerZoomUserID)))
		}
		return nil
	})
	if err != nil {
		return OrgView{}, nil, err
	}
	s.log.InfoContext(ctx, "organization disconnected from Zoom", "org_id", orgID, "actor", actor)
	if !disconnected {
		affected = nil
	}
	// Revoked only now that the connection is gone from the store and the
	// indexes: Zoom answers a revocation with app_deauthorized, which must
	// find nothing left to take away rather than win the race and record
	// the admin's disconnect as Zoom's deauthorization.
	if rec != nil && rec.SealedTokens != nil {
		s.cfg.Tokens.RevokeSealed(ctx, ConnRef{OrgID: orgID}, rec.SealedTokens)
	}
	return viewOf(orgID, next, now), affected, nil
}
