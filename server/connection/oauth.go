package connection

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"golang.org/x/oauth2"
)

// OAuth state kinds: which flow a callback completes.
const (
	stateKindOrg      = "org"
	stateKindPersonal = "personal"
)

func verifierAAD(orgID string, idHash []byte) []byte {
	return []byte("zoomconnect/oauth-verifier/" + orgID + "/" + hex.EncodeToString(idHash))
}

// newAuthorization stores a fresh single-use state (with its sealed PKCE
// verifier) and returns Zoom's authorization URL for it.
func (s *Service) newAuthorization(ctx context.Context, app zoom.App, st store.OAuthState) (string, error) {
	return s.authorization(ctx, app, st, secrets.NewToken(), oauth2.GenerateVerifier())
}

// authorization stores the single-use state named by stateSecret (with the
// sealed PKCE verifier), replacing one stored under the same name, and
// returns Zoom's authorization URL for it.
func (s *Service) authorization(ctx context.Context, app zoom.App, st store.OAuthState, stateSecret, verifier string) (string, error) {
	state, err := s.putState(ctx, st, stateSecret, verifier)
	if err != nil {
		return "", err
	}
	return s.cfg.Zoom.AuthCodeURL(app, state, verifier)
}

// putState stores st as the single-use state named by stateSecret, with
// the PKCE verifier sealed, and returns the `state` value.
func (s *Service) putState(ctx context.Context, st store.OAuthState, stateSecret, verifier string) (string, error) {
	st.IDHash = secrets.Hash(stateSecret)
	sealed, err := s.cfg.Keyring.Seal([]byte(verifier), verifierAAD(st.OrgID, st.IDHash))
	if err != nil {
		return "", fmt.Errorf("sealing PKCE verifier: %w", err)
	}
	st.SealedVerifier = sealed
	if err := s.cfg.Store.PutOAuthState(ctx, &st); err != nil {
		return "", err
	}
	return encodeOrgScoped(st.OrgID, stateSecret), nil
}

// takeState consumes the state named by an untrusted `state` parameter.
func (s *Service) takeState(ctx context.Context, state string) (*store.OAuthState, error) {
	invalid := errs.InvalidArgument("state", ReasonOAuthStateInvalid,
		"This sign-in attempt is unknown, was already used, or expired. Start connecting Zoom again.")
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
	return st, nil
}

// Deny handles Zoom's redirect when the person declined: the state is used
// up and nothing else changes.
func (s *Service) Deny(ctx context.Context, state string) error {
	if _, err := s.takeState(ctx, state); err != nil {
		return err
	}
	return errs.PermissionDenied(ReasonZoomAccessDenied,
		"The Zoom connection was not approved in Zoom, so nothing changed. Start again to approve it.")
}

// Completion describes a finished connection, for the page the person sees.
type Completion struct {
	OrgID string
	// UserID is set for a personal connection.
	UserID        string
	ZoomAccountID string
	ZoomEmail     string
	// ZoomName is the approving Zoom user's name.
	ZoomName string
}

// Complete finishes the OAuth flow for the callback, for whichever flow the
// state belongs to. browserKey is the browser's binding cookie, which a
// personal connection requires (the org flow's link is meant to be
// forwarded to a Zoom admin, so it is not bound).
func (s *Service) Complete(ctx context.Context, state, code, browserKey string) (*Completion, error) {
	st, err := s.takeState(ctx, state)
	if err != nil {
		return nil, err
	}
	if st.Kind == stateKindPersonal {
		if err := checkBrowser(st, browserKey); err != nil {
			return nil, err
		}
	}
	if code == "" {
		return nil, errs.InvalidArgument("code", ReasonZoomCodeExchangeFailed, "Zoom sent no authorization code. Start connecting Zoom again.")
	}
	verifier, err := s.cfg.Keyring.Open(st.SealedVerifier, verifierAAD(st.OrgID, st.IDHash))
	if err != nil {
		return nil, fmt.Errorf("opening PKCE verifier: %w", err)
	}
	switch st.Kind {
	case stateKindOrg:
		return s.completeOrg(ctx, st, code, string(verifier))
	case stateKindPersonal:
		return s.completePersonal(ctx, st, code, string(verifier))
	}
	return nil, fmt.Errorf("OAuth state of unknown kind %q", st.Kind)
}

// exchange trades the code for tokens of app and reads who approved.
func (s *Service) exchange(ctx context.Context, app zoom.App, code, verifier string) (*zoom.Tokens, *zoom.User, error) {
	pair, err := s.cfg.Zoom.Exchange(ctx, app, code, verifier)
	if err != nil {
		return nil, nil, tokens.ZoomFailure(err, ReasonZoomCodeExchangeFailed,
			"Zoom did not accept the authorization (it may have expired or been used already). Start connecting Zoom again.")
	}
	me, err := s.cfg.Zoom.GetUser(ctx, pair.AccessToken, "me")
	if err != nil {
		s.cfg.Tokens.Revoke(ctx, app, pair)
		var ae *zoom.APIError
		if errors.As(err, &ae) {
			if scopes, ok := ae.MissingScopes(); ok {
				return nil, nil, ScopeMissing(app, scopes, err)
			}
		}
		return nil, nil, tokens.ZoomFailure(err, ReasonZoomUnavailable, "Zoom did not tell who approved the connection. Try again.")
	}
	return pair, me, nil
}
