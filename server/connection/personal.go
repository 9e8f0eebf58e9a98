package connection

import (
	"context"
	"fmt"
	"strings"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/oauth2"
)

// StartPersonal returns where to send a member's browser to connect their
// own Zoom account (the user-managed app), and when that attempt expires.
// The URL is zoomconnect's own (PersonalPath): the browser that opens it
// first is bound to the attempt (BeginPersonal) and is the only one whose
// approval at Zoom counts, so a forwarded or stolen link cannot make
// someone else's Zoom user the member's host.
func (s *Service) StartPersonal(ctx context.Context, orgID, userID string) (string, time.Time, error) {
	if !s.cfg.Zoom.Configured(zoom.UserApp) {
		return "", time.Time{}, errs.FailedPrecondition(ReasonZoomAppNotConfigured,
			"the user-managed Zoom app is not configured on this server (ZOOM_USER_CLIENT_ID)")
	}
	expires := s.cfg.Now().Add(s.cfg.StateTTL)
	state, err := s.putState(ctx, store.OAuthState{
		OrgID: orgID, Kind: stateKindPersonal, UserID: userID, ExpiresAt: expires,
	}, secrets.NewToken(), oauth2.GenerateVerifier())
	if err != nil {
		return "", time.Time{}, err
	}
	return s.cfg.PublicURL + PersonalPath + state, expires, nil
}

// BeginPersonal binds a personal connection attempt to the browser holding
// browserKey (a secret cookie) and returns Zoom's authorization URL for
// it. The first browser to open the link is bound; it may open it again,
// any other browser is refused.
func (s *Service) BeginPersonal(ctx context.Context, state, browserKey string) (string, error) {
	st, err := s.takeState(ctx, state)
	if err != nil {
		return "", err
	}
	if st.Kind != stateKindPersonal || browserKey == "" {
		return "", errs.InvalidArgument("state", ReasonOAuthStateInvalid,
			"This is not a link to connect a personal Zoom account. Start connecting your Zoom account again.")
	}
	hash := secrets.Hash(browserKey)
	bound := st.BrowserHash == nil || secrets.Equal(hash, st.BrowserHash)
	if st.BrowserHash == nil {
		st.BrowserHash = hash
	}
	// Put back (a state is taken atomically): bound to this browser, or
	// left to the browser that opened it first.
	if err := s.cfg.Store.PutOAuthState(ctx, st); err != nil {
		return "", err
	}
	if !bound {
		return "", errs.PermissionDenied(ReasonOAuthBrowserMismatch,
			"This Zoom sign-in link was already opened in another browser, so it does not work here. "+
				"A personal Zoom account can only be connected from the browser where you started: start connecting your Zoom account again.")
	}
	verifier, err := s.cfg.Keyring.Open(st.SealedVerifier, verifierAAD(st.OrgID, st.IDHash))
	if err != nil {
		return "", fmt.Errorf("opening PKCE verifier: %w", err)
	}
	return s.cfg.Zoom.AuthCodeURL(zoom.UserApp, state, string(verifier))
}

// checkBrowser refuses a personal approval completed in a browser other
// than the one that began it (OAuth login CSRF).
func checkBrowser(st *store.OAuthState, browserKey string) error {
	if st.BrowserHash == nil || browserKey == "" || !secrets.Equal(secrets.Hash(browserKey), st.BrowserHash) {
		return errs.PermissionDenied(ReasonOAuthBrowserMismatch,
			"This Zoom approval did not come back to the browser that started it, so nothing was connected. "+
				"A personal Zoom account can only be connected from the browser where you started: start connecting your Zoom account again there.")
	}
	return nil
}

// completePersonal stores the member's personal connection (any Zoom role
// may connect), replacing and revoking an earlier one.
func (s *Service) completePersonal(ctx context.Context, st *store.OAuthState, code, verifier string) (*Completion, error) {
	pair, me, err := s.exchange(ctx, zoom.UserApp, code, verifier)
	if err != nil {
		return nil, err
	}
	ref := ConnRef{OrgID: st.OrgID, UserID: st.UserID}
	sealed, err := s.cfg.Tokens.Seal(ref, pair)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var replaced []byte
	err = s.cfg.Effects.Update(ctx, st.OrgID, func(tx store.OrgTx) error {
		old, err := tx.Personal(st.UserID)
		if err != nil {
			return err
		}
		replaced = nil
		var stale []store.IndexChange
		if old != nil {
			replaced = old.SealedTokens
			stale = indexChange(true, indexZoomUser, old.ZoomUserID, "personal/"+st.OrgID+"/"+st.UserID)
		}
		tx.SetPersonal(&store.PersonalConnection{
			OrgID: st.OrgID, UserID: st.UserID, State: store.StateActive,
			ZoomAccountID: me.AccountID, ZoomUserID: me.ID, ZoomEmail: me.Email,
			ConnectedAt: now, SealedTokens: sealed, UpdatedAt: now,
		})
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityPersonalConnected, Actor: st.UserID, UserID: st.UserID,
			Details: map[string]string{"zoom_account_id": me.AccountID, "zoom_email": me.Email}})
		tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_CONNECTED, orgID: st.OrgID, userID: st.UserID,
			state: store.StateActive, actor: st.UserID}, stale, indexChange(false, indexZoomUser, me.ID, "personal/"+st.OrgID+"/"+st.UserID)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if replaced != nil {
		s.cfg.Tokens.RevokeSealed(ctx, ref, replaced)
	}
	s.log.InfoContext(ctx, "personal Zoom account connected", "org_id", st.OrgID, "user_id", st.UserID, "zoom_user_id", me.ID)
	return &Completion{OrgID: st.OrgID, UserID: st.UserID, ZoomAccountID: me.AccountID, ZoomEmail: me.Email,
		ZoomName: strings.TrimSpace(me.FirstName + " " + me.LastName)}, nil
}

// DisconnectPersonal revokes (best effort) and deletes a member's personal
// connection; the organization connection, if any, takes over.
func (s *Service) DisconnectPersonal(ctx context.Context, orgID, userID, actor string) (*Setup, error) {
	snap, err := s.cfg.Store.Snapshot(ctx, orgID, []string{userID})
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	err = s.cfg.Effects.Update(ctx, orgID, func(tx store.OrgTx) error {
		p, err := tx.Personal(userID)
		if err != nil || p == nil {
			return err
		}
		tx.DeletePersonal(userID)
		tx.AppendActivity(store.ActivityEntry{Time: now, Kind: ActivityPersonalDisconnected, Actor: actor, UserID: userID,
			Details: map[string]string{"zoom_account_id": p.ZoomAccountID, "zoom_email": p.ZoomEmail}})
		tx.AddEffect(s.effect(change{kind: zcv1.ConnectionEventType_CONNECTION_EVENT_TYPE_DISCONNECTED, orgID: orgID, userID: userID,
			state: store.StateNotConnected, reason: store.ReasonDisconnectedByUser, actor: actor},
			indexChange(true, indexZoomUser, p.ZoomUserID, "personal/"+orgID+"/"+userID)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Revoked only now, as DisconnectOrg does: the app_deauthorized Zoom
	// sends back must not record the member's disconnect as Zoom's.
	if p := snap.Users[0].Personal; p != nil && p.SealedTokens != nil {
		s.cfg.Tokens.RevokeSealed(ctx, ConnRef{OrgID: orgID, UserID: userID}, p.SealedTokens)
	}
	return s.UserSetup(ctx, orgID, userID)
}
