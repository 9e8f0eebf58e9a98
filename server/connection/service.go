// Package connection is the domain logic of Zoom connections: starting an
// organization connection, the install link and OAuth callback that complete
// it, and disconnecting. Handlers authorize callers; this package decides.
package connection

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/oauth2"
)

// Reasons this package reports (google.rpc.ErrorInfo.reason).
const (
	ReasonOrgAlreadyConnected    = "ORG_ALREADY_CONNECTED"
	ReasonInstallLinkInvalid     = "INSTALL_LINK_INVALID"
	ReasonInstallLinkExpired     = "INSTALL_LINK_EXPIRED"
	ReasonInstallLinkReplaced    = "INSTALL_LINK_REPLACED"
	ReasonOAuthStateInvalid      = "OAUTH_STATE_INVALID"
	ReasonZoomAccessDenied       = "ZOOM_ACCESS_DENIED"
	ReasonZoomUserNotAdmin       = "ZOOM_USER_NOT_ADMIN"
	ReasonZoomCodeExchangeFailed = "ZOOM_CODE_EXCHANGE_FAILED"
	ReasonZoomUnavailable        = "ZOOM_UNAVAILABLE"
	ReasonZoomAppNotConfigured   = "ZOOM_APP_NOT_CONFIGURED"
)

// Paths of the plain HTTP endpoints beside the gateway.
const (
	InstallPath  = "/oauth/zoom/install/"
	CallbackPath = "/oauth/zoom/callback"
)

const stateKindOrg = "org"

// Config wires a Service.
type Config struct {
	Store   store.Store
	Keyring *secrets.Keyring
	Zoom    *zoom.Client
	// PublicURL is the service's external base URL (no trailing slash).
	PublicURL      string
	InstallLinkTTL time.Duration
	StateTTL       time.Duration
	// RevokeTimeout bounds a best-effort token revocation at Zoom.
	RevokeTimeout time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service implements the connection flows.
type Service struct {
	cfg Config
	log *slog.Logger
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
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger}
}

// OrgView is an organization connection as callers see it: no tokens, and
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
	rec, err := s.cfg.Store.GetOrgConnection(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return viewOf(orgID, nil, s.cfg.Now()), nil
	}
	if err != nil {
		return OrgView{}, err
	}
	return viewOf(orgID, rec, s.cfg.Now()), nil
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
	rec, err := s.cfg.Store.UpdateOrgConnection(ctx, orgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		if cur == nil {
			cur = &store.OrgConnection{OrgID: orgID, State: store.StateNotConnected}
		}
		if cur.State == store.StateActive {
			return nil, errs.FailedPrecondition(ReasonOrgAlreadyConnected,
				"organization %s is already connected to Zoom account %s; disconnect it first", orgID, cur.ZoomAccountID)
		}
		cur.Pending = pending
		cur.UpdatedAt = now
		return cur, nil
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
// its visitor is sent to, with a fresh single-use state and PKCE verifier.
func (s *Service) BeginInstall(ctx context.Context, link string) (string, error) {
	invalid := errs.NotFound(ReasonInstallLinkInvalid,
		"This install link is unknown, was replaced by a newer link, or was already used. Ask an owner or admin of your scheduling organization for a new link.")
	orgID, secret, ok := decodeOrgScoped(link)
	if !ok {
		return "", invalid
	}
	rec, err := s.cfg.Store.GetOrgConnection(ctx, orgID)
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
	return s.newAuthorization(ctx, orgID, rec.Pending.AttemptID, now)
}

func (s *Service) newAuthorization(ctx context.Context, orgID, attemptID string, now time.Time) (string, error) {
	stateSecret := secrets.NewToken()
	idHash := secrets.Hash(stateSecret)
	verifier := oauth2.GenerateVerifier()
	sealed, err := s.cfg.Keyring.Seal([]byte(verifier), verifierAAD(orgID, idHash))
	if err != nil {
		return "", fmt.Errorf("sealing PKCE verifier: %w", err)
	}
	st := &store.OAuthState{
		OrgID: orgID, IDHash: idHash, Kind: stateKindOrg, AttemptID: attemptID,
		SealedVerifier: sealed, ExpiresAt: now.Add(s.cfg.StateTTL),
	}
	if err := s.cfg.Store.PutOAuthState(ctx, st); err != nil {
		return "", err
	}
	return s.cfg.Zoom.AuthCodeURL(zoom.OrgApp, encodeOrgScoped(orgID, stateSecret), verifier)
}

// Completion describes a finished organization connection.
type Completion struct {
	OrgID          string
	ZoomAccountID  string
	InstallerEmail string
}

// takeState consumes the state named by an untrusted `state` parameter.
func (s *Service) takeState(ctx context.Context, state string) (*store.OAuthState, error) {
	invalid := errs.InvalidArgument("state", ReasonOAuthStateInvalid,
		"This sign-in attempt is unknown, was already used, or expired. Open the install link again to start over.")
	orgID, secret, ok := decodeOrgScoped(state)
	if !ok {
		return nil, invalid
	}
	st, err := s.cfg.Store.TakeOAuthState(ctx, orgID, secrets.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if st.Kind != stateKindOrg {
		return nil, invalid
	}
	return st, nil
}

// Deny handles Zoom's redirect when the person declined: the state is used
// up and nothing else changes.
func (s *Service) Deny(ctx context.Context, state string) error {
	if _, err := s.takeState(ctx, state); err != nil {
		return err
	}
	return errs.PermissionDenied(ReasonZoomAccessDenied,
		"The Zoom connection was not approved in Zoom, so nothing changed. A Zoom admin can open the install link again to approve it.")
}

// Complete finishes the OAuth flow for the callback: it exchanges the code,
// checks that the approving Zoom user is an account Owner or Admin, and
// stores the connection. A non-admin's token is revoked and nothing stored.
func (s *Service) Complete(ctx context.Context, state, code string) (*Completion, error) {
	st, err := s.takeState(ctx, state)
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, errs.InvalidArgument("code", ReasonZoomCodeExchangeFailed, "Zoom sent no authorization code. Open the install link again.")
	}
	verifier, err := s.cfg.Keyring.Open(st.SealedVerifier, verifierAAD(st.OrgID, st.IDHash))
	if err != nil {
		return nil, fmt.Errorf("opening PKCE verifier: %w", err)
	}
	// Check the attempt before the code exchange: exchanging makes Zoom
	// revoke older grants of the same Zoom user, which would break a
	// connection completed meanwhile.
	rec, err := s.cfg.Store.GetOrgConnection(ctx, st.OrgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if rec == nil || rec.Pending == nil || rec.Pending.AttemptID != st.AttemptID {
		return nil, errs.FailedPrecondition(ReasonInstallLinkReplaced,
			"This install link was replaced by a newer one or the connection was completed or cancelled meanwhile. Nothing changed.")
	}

	tokens, err := s.cfg.Zoom.Exchange(ctx, zoom.OrgApp, code, string(verifier))
	if err != nil {
		return nil, s.zoomFailure(err, ReasonZoomCodeExchangeFailed,
			"Zoom did not accept the authorization (it may have expired or been used already). Open the install link again.")
	}
	me, err := s.cfg.Zoom.GetUser(ctx, tokens.AccessToken, "me")
	if err != nil {
		s.revokeQuietly(ctx, st.OrgID, tokens)
		return nil, s.zoomFailure(err, ReasonZoomUnavailable, "Zoom did not tell who approved the connection. Try the install link again.")
	}
	if !me.IsAccountAdmin() {
		s.revokeQuietly(ctx, st.OrgID, tokens)
		return nil, errs.PermissionDenied(ReasonZoomUserNotAdmin,
			"The Zoom user %s is not an Owner or Admin of Zoom account %s (role: %s), so the organization was not connected. "+
				"The install link must be opened by a Zoom admin of the account: send it to your Zoom admin.",
			me.Email, me.AccountID, roleLabel(me))
	}

	sealed, err := s.sealTokens(st.OrgID, tokens)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var replaced []byte
	_, err = s.cfg.Store.UpdateOrgConnection(ctx, st.OrgID, func(cur *store.OrgConnection) (*store.OrgConnection, error) {
		replaced = nil
		sameGrant := cur != nil && cur.State == store.StateActive &&
			cur.ZoomAccountID == me.AccountID && cur.InstallerZoomUserID == me.ID
		if sameGrant {
			// The same admin approved twice at once: Zoom keeps only the
			// newest grant, so keep these tokens.
			cur.SealedTokens, cur.UpdatedAt = sealed, now
			return cur, nil
		}
		if cur == nil || cur.Pending == nil || cur.Pending.AttemptID != st.AttemptID {
			return nil, errs.FailedPrecondition(ReasonInstallLinkReplaced,
				"This install link was replaced by a newer one or the connection was cancelled meanwhile. Nothing changed.")
		}
		replaced = cur.SealedTokens
		return &store.OrgConnection{
			OrgID: st.OrgID, State: store.StateActive,
			ZoomAccountID: me.AccountID, InstallerEmail: me.Email, InstallerZoomUserID: me.ID,
			ConnectedAt: now, ConnectedBy: cur.Pending.StartedBy,
			SealedTokens: sealed, UpdatedAt: now,
		}, nil
	})
	if err != nil {
		if e := errs.As(err); e != nil && e.Reason == ReasonInstallLinkReplaced {
			s.revokeQuietly(ctx, st.OrgID, tokens)
		}
		return nil, err
	}
	if replaced != nil {
		s.revokeSealedQuietly(ctx, st.OrgID, replaced)
	}
	s.log.InfoContext(ctx, "organization connected to Zoom", "org_id", st.OrgID, "zoom_account_id", me.AccountID, "installer_zoom_user_id", me.ID)
	return &Completion{OrgID: st.OrgID, ZoomAccountID: me.AccountID, InstallerEmail: me.Email}, nil
}

func roleLabel(u *zoom.User) string {
	if u.RoleName != "" {
		return u.RoleName
	}
	return "role id " + u.RoleID
}

// DisconnectOrg revokes the organization's token at Zoom (best effort: a Zoom
// failure never blocks the disconnect), deletes it, cancels any install link
// and leaves the connection NOT_CONNECTED. Disconnecting twice is harmless.
func (s *Service) DisconnectOrg(ctx context.Context, orgID, actor string) (OrgView, error) {
	rec, err := s.cfg.Store.GetOrgConnection(ctx, orgID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return OrgView{}, err
	}
	if rec != nil && rec.SealedTokens != nil {
		s.revokeSealedQuietly(ctx, orgID, rec.SealedTokens)
	}
	now := s.cfg.Now()
	rec, err = s.cfg.Store.UpdateOrgConnection(ctx, orgID, func(*store.OrgConnection) (*store.OrgConnection, error) {
		return &store.OrgConnection{
			OrgID: orgID, State: store.StateNotConnected, Reason: store.ReasonDisconnectedByAdmin, UpdatedAt: now,
		}, nil
	})
	if err != nil {
		return OrgView{}, err
	}
	s.log.InfoContext(ctx, "organization disconnected from Zoom", "org_id", orgID, "actor", actor)
	return viewOf(orgID, rec, now), nil
}

// zoomFailure turns a Zoom error into what the person is told; the cause is
// kept for the log.
func (s *Service) zoomFailure(err error, reason, message string) error {
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

func tokenAAD(orgID string) []byte { return []byte("zoomconnect/org-tokens/" + orgID) }

func verifierAAD(orgID string, idHash []byte) []byte {
	return []byte("zoomconnect/oauth-verifier/" + orgID + "/" + hex.EncodeToString(idHash))
}

func (s *Service) sealTokens(orgID string, t *zoom.Tokens) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return s.cfg.Keyring.Seal(plain, tokenAAD(orgID))
}

func (s *Service) openTokens(orgID string, sealed []byte) (*zoom.Tokens, error) {
	plain, err := s.cfg.Keyring.Open(sealed, tokenAAD(orgID))
	if err != nil {
		return nil, err
	}
	var t zoom.Tokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, fmt.Errorf("decoding sealed tokens: %w", err)
	}
	return &t, nil
}

func (s *Service) revokeSealedQuietly(ctx context.Context, orgID string, sealed []byte) {
	t, err := s.openTokens(orgID, sealed)
	if err != nil {
		s.log.WarnContext(ctx, "cannot open stored Zoom tokens to revoke them", "org_id", orgID, "error", err)
		return
	}
	s.revokeQuietly(ctx, orgID, t)
}

// revokeQuietly revokes a grant at Zoom on a bounded budget and only logs a
// failure: revocation is a courtesy that must never block the caller. The
// access token is tried first (Zoom documents it), then the refresh token.
func (s *Service) revokeQuietly(ctx context.Context, orgID string, t *zoom.Tokens) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.revokeBudget(ctx))
	defer cancel()
	err := s.cfg.Zoom.Revoke(ctx, zoom.OrgApp, t.AccessToken)
	var oe *zoom.OAuthError
	if errors.As(err, &oe) && t.RefreshToken != "" {
		err = s.cfg.Zoom.Revoke(ctx, zoom.OrgApp, t.RefreshToken)
	}
	if err != nil {
		s.log.WarnContext(ctx, "could not revoke Zoom token; continuing", "org_id", orgID, "error", err)
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
