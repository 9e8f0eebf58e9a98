// Package store defines the persistence contract of zoomconnect: a small
// interface with several backends (Redis, embedded bbolt) that all pass the
// conformance suite in package storetest.
//
// The store never sees a token in clear: callers seal tokens before they are
// put into a record (see package secrets).
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every backend returns (wrapped or not); callers match them
// with errors.Is.
var (
	// ErrNotFound: the record does not exist (or a single-use item was
	// already taken, or has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: an optimistic update lost against concurrent writers too
	// many times in a row.
	ErrConflict = errors.New("store: too much contention")
	// ErrUnavailable: the backend cannot be reached or answered with an
	// error; details are logged by the backend, never returned to API callers.
	ErrUnavailable = errors.New("store: unavailable")
)

// ConnectionState is the lifecycle state of a Zoom connection.
type ConnectionState string

// A pending install is not a stored state: it is an attempt (Pending) laid
// over the stored state, which shows through again when the link expires.
const (
	StateNotConnected   ConnectionState = "not_connected"
	StateActive         ConnectionState = "active"
	StateNeedsReconnect ConnectionState = "needs_reconnect"
)

// StateReason explains a state that is not ACTIVE.
type StateReason string

const (
	ReasonNone                StateReason = ""
	ReasonDisconnectedByAdmin StateReason = "disconnected_by_admin"
	ReasonInstallLinkExpired  StateReason = "install_link_expired"
	ReasonDeauthorized        StateReason = "deauthorized"
	ReasonAdminRoleLost       StateReason = "admin_role_lost"
	ReasonInstallerRemoved    StateReason = "installer_removed"
	ReasonInvalidGrant        StateReason = "invalid_grant"
)

// OrgConnection is the organization-wide (admin-managed) Zoom connection of
// one scheduling organization. There is at most one per org.
type OrgConnection struct {
	OrgID  string          `json:"org_id"`
	State  ConnectionState `json:"state"`
	Reason StateReason     `json:"reason,omitempty"`

	ZoomAccountID       string    `json:"zoom_account_id,omitempty"`
	InstallerEmail      string    `json:"installer_email,omitempty"`
	InstallerZoomUserID string    `json:"installer_zoom_user_id,omitempty"`
	ConnectedAt         time.Time `json:"connected_at,omitzero"`
	// ConnectedBy is the scheduling user id of the owner/admin who started
	// the connection that became active.
	ConnectedBy string `json:"connected_by,omitempty"`

	// Pending is the install attempt in flight, if any.
	Pending *PendingInstall `json:"pending,omitempty"`

	// SealedTokens is the encrypted OAuth token set (nil when none is held).
	SealedTokens []byte `json:"sealed_tokens,omitempty"`

	UpdatedAt time.Time `json:"updated_at"`
}

// PendingInstall is a shareable install link handed out by StartOrgConnection.
type PendingInstall struct {
	// AttemptID identifies the attempt; OAuth states carry it so that a
	// replaced link also kills the states issued for it.
	AttemptID string `json:"attempt_id"`
	// LinkHash is SHA-256 of the link's secret part; the secret itself is
	// never stored.
	LinkHash  []byte    `json:"link_hash"`
	StartedBy string    `json:"started_by"`
	StartedAt time.Time `json:"started_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OAuthState is the server side of one OAuth `state` parameter: single use,
// short-lived, bound to one install attempt.
type OAuthState struct {
	// OrgID scopes the state (and, in Redis, its hash slot).
	OrgID string `json:"org_id"`
	// IDHash is SHA-256 of the state's secret part, used as its key.
	IDHash []byte `json:"id_hash"`
	// Kind says which flow the state belongs to ("org" or "personal").
	Kind      string `json:"kind"`
	AttemptID string `json:"attempt_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// SealedVerifier is the encrypted PKCE code verifier.
	SealedVerifier []byte    `json:"sealed_verifier"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// Store is what zoomconnect persists. Every method is safe for concurrent
// use, including from several processes sharing one backend.
type Store interface {
	// GetOrgConnection returns the org's connection or ErrNotFound.
	GetOrgConnection(ctx context.Context, orgID string) (*OrgConnection, error)

	// UpdateOrgConnection reads the org's connection (nil when there is
	// none), calls mutate with a private copy, and stores what mutate
	// returns, atomically with respect to every other writer of that org.
	// mutate may run more than once (optimistic concurrency) and must have
	// no side effects. An error from mutate aborts the update and is
	// returned as is. The stored record is returned. If mutate returns
	// (nil, nil), nothing is written and the current record (nil when there
	// is none) is returned with a nil error.
	UpdateOrgConnection(ctx context.Context, orgID string, mutate func(current *OrgConnection) (*OrgConnection, error)) (*OrgConnection, error)

	// PutOAuthState stores a state until st.ExpiresAt. A state that has
	// already expired (including a zero ExpiresAt) is not stored.
	PutOAuthState(ctx context.Context, st *OAuthState) error

	// TakeOAuthState removes and returns the state atomically: a second take
	// of the same state, an unknown or an expired one, returns ErrNotFound.
	TakeOAuthState(ctx context.Context, orgID string, idHash []byte) (*OAuthState, error)

	// Ping reports whether the backend answers (readiness, health).
	Ping(ctx context.Context) error

	// Close releases the backend.
	Close() error
}
