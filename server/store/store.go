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
	ReasonDisconnectedByUser  StateReason = "disconnected_by_user"
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
	SealedVerifier []byte `json:"sealed_verifier"`
	// BrowserHash is SHA-256 of the secret cookie of the browser that began
	// a personal connection: only that browser may complete it.
	BrowserHash []byte    `json:"browser_hash,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Member is the service's view of a member of a scheduling organization.
type Member struct {
	OrgID  string `json:"org_id"`
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	// Detached: the member removed the organization connection for
	// themself (allowed only while the org's settings permit it).
	Detached bool `json:"detached,omitempty"`
	// Match is the member's Zoom user in the org's Zoom account, as last
	// looked up; nil when never looked up (or invalidated).
	Match     *ZoomMatch `json:"match,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ZoomMatch is the result of looking a member up (by email) in the org's
// connected Zoom account.
type ZoomMatch struct {
	// ZoomAccountID is the account searched; a match for another account is stale.
	ZoomAccountID string `json:"zoom_account_id"`
	// NotInAccount: Zoom said the member has no user in that account.
	NotInAccount bool      `json:"not_in_account,omitempty"`
	ZoomUserID   string    `json:"zoom_user_id,omitempty"`
	ZoomEmail    string    `json:"zoom_email,omitempty"`
	CheckedAt    time.Time `json:"checked_at"`
}

// PersonalConnection is a member's own (user-managed) Zoom connection.
type PersonalConnection struct {
	OrgID         string          `json:"org_id"`
	UserID        string          `json:"user_id"`
	State         ConnectionState `json:"state"`
	Reason        StateReason     `json:"reason,omitempty"`
	ZoomAccountID string          `json:"zoom_account_id,omitempty"`
	ZoomUserID    string          `json:"zoom_user_id,omitempty"`
	ZoomEmail     string          `json:"zoom_email,omitempty"`
	ConnectedAt   time.Time       `json:"connected_at,omitzero"`
	SealedTokens  []byte          `json:"sealed_tokens,omitempty"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// OrgSettings are an organization's Zoom options.
type OrgSettings struct {
	AllowUsersToDetach  bool      `json:"allow_users_to_detach,omitempty"`
	ZoomDefaultLocation bool      `json:"zoom_default_location,omitempty"`
	AutoMeetingSummary  bool      `json:"auto_meeting_summary,omitempty"`
	WaitingRoom         bool      `json:"waiting_room,omitempty"`
	JoinBeforeHost      bool      `json:"join_before_host,omitempty"`
	RequirePasscode     bool      `json:"require_passcode,omitempty"`
	UpdatedAt           time.Time `json:"updated_at,omitzero"`
}

// ActivityRetention is how long activity entries are kept; the stores trim
// older entries when they append.
const ActivityRetention = 90 * 24 * time.Hour

// ActivityEntry records one change in an org's Zoom setup.
type ActivityEntry struct {
	// ID is assigned by the store when the entry is appended: opaque,
	// unique within the org, and ordered like Time.
	ID      string            `json:"id,omitempty"`
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"`
	Actor   string            `json:"actor"`
	UserID  string            `json:"user_id,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// UserRecords are one member's records.
type UserRecords struct {
	UserID string
	// Member is nil for a user the service was never told about.
	Member *Member
	// Personal is nil when the user never connected a personal account.
	Personal *PersonalConnection
}

// OrgSnapshot is what the resolver needs of one org, read at once.
type OrgSnapshot struct {
	// Connection and Settings are nil when absent.
	Connection *OrgConnection
	Settings   *OrgSettings
	// Users holds one entry per requested user id, in request order.
	Users []UserRecords
}

// OrgTx reads and writes the records of one org inside Store.Update. Reads
// see the transaction's own writes. Getters return (nil, nil) for records
// that do not exist; their results are private copies.
type OrgTx interface {
	OrgConnection() (*OrgConnection, error)
	SetOrgConnection(c *OrgConnection)
	Settings() (*OrgSettings, error)
	SetSettings(s *OrgSettings)
	Member(userID string) (*Member, error)
	SetMember(m *Member)
	DeleteMember(userID string)
	Personal(userID string) (*PersonalConnection, error)
	SetPersonal(p *PersonalConnection)
	DeletePersonal(userID string)
	// AppendActivity adds an entry (its ID is assigned on commit) and
	// trims entries older than ActivityRetention.
	AppendActivity(e ActivityEntry)
	// Meeting returns the meeting record of a booking. Meeting writes do
	// not notify Subscribe callbacks: no Snapshot reads them.
	Meeting(bookingID string) (*Meeting, error)
	SetMeeting(m *Meeting)
	DeleteMeeting(bookingID string)
	// AddEffect queues what the change must cause outside the org's
	// records (index entries, an event) in the same atomic commit: once
	// Update returns nil, the effect is applied exactly once (see
	// Store.ApplyEffects), even if the process dies right after.
	AddEffect(e Effect)
}

// Effect is what one committed change causes outside its org's records:
// changes of the indexes across orgs and an event in the global stream.
// A backend applies it in the commit itself (bbolt) or from a per-org
// outbox written in the commit (Redis, whose indexes and stream live in
// other cluster slots); either way it is applied once, in commit order.
type Effect struct {
	Index []IndexChange `json:"index,omitempty"`
	// Event is the payload appended to the event stream; nil for none.
	Event []byte `json:"event,omitempty"`
}

// IndexChange adds a member to (or, with Remove, removes it from) the
// entry key of an index across orgs (see Store.IndexMembers).
type IndexChange struct {
	Index  string `json:"index"`
	Key    string `json:"key"`
	Member string `json:"member"`
	Remove bool   `json:"remove,omitempty"`
}

// EffectsGrace is how long after a commit began an org may stay marked as
// having pending effects once its outbox is empty: a writer marks the org
// just before it commits, so the marker must outlive that window.
const EffectsGrace = 10 * time.Second

// MeetingState is where the creation of a booking's Zoom meeting stands.
type MeetingState string

const (
	// MeetingReserved: one caller holds the right to create the meeting
	// (until ReservedUntil); every other caller waits for its result.
	MeetingReserved MeetingState = "reserved"
	// MeetingCreated: Zoom has the meeting and the record says which.
	MeetingCreated MeetingState = "created"
)

// Meeting is the Zoom meeting of one booking, and the reservation that makes
// its creation happen exactly once across replicas.
type Meeting struct {
	OrgID     string `json:"org_id"`
	BookingID string `json:"booking_id"`
	// RequestHash fingerprints the create request's meaningful fields: a
	// retry with another fingerprint is a different request.
	RequestHash   string       `json:"request_hash"`
	State         MeetingState `json:"state"`
	ReservedBy    string       `json:"reserved_by,omitempty"`
	ReservedUntil time.Time    `json:"reserved_until,omitzero"`
	// Uncertain: an earlier attempt may have created the meeting in Zoom
	// without recording it; Zoom must be searched before creating again.
	Uncertain bool `json:"uncertain,omitempty"`

	UserID    string        `json:"user_id"`
	Topic     string        `json:"topic,omitempty"`
	StartTime time.Time     `json:"start_time,omitzero"`
	Duration  time.Duration `json:"duration,omitempty"`
	Timezone  string        `json:"timezone,omitempty"`
	Agenda    string        `json:"agenda,omitempty"`

	// Which connection created the meeting: its later changes use the
	// same one, whatever the host's effective account has become.
	Source        string `json:"source,omitempty"`
	ZoomAccountID string `json:"zoom_account_id,omitempty"`
	ZoomUserID    string `json:"zoom_user_id,omitempty"`
	HostEmail     string `json:"host_email,omitempty"`
	ZoomMeetingID int64  `json:"zoom_meeting_id,omitempty"`
	JoinURL       string `json:"join_url,omitempty"`
	Passcode      string `json:"passcode,omitempty"`
	// Gone: Zoom reported the meeting deleted; the next update recreates it.
	Gone bool `json:"gone,omitempty"`

	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Store is what zoomconnect persists. Every method is safe for concurrent
// use, including from several processes sharing one backend.
type Store interface {
	// Update runs fn over the records of one org and commits its writes
	// atomically with respect to every other writer of that org; nothing is
	// written if fn returns an error, which Update returns as is. fn may
	// run more than once (optimistic concurrency) and must have no side
	// effects beyond the OrgTx. After a commit that wrote anything but
	// meetings, every Subscribe callback (of every process sharing the
	// backend) learns that the org changed.
	Update(ctx context.Context, orgID string, fn func(tx OrgTx) error) error

	// Snapshot reads the org connection, the settings and the records of
	// userIDs (at most MaxSnapshotUsers) in one round trip.
	Snapshot(ctx context.Context, orgID string, userIDs []string) (*OrgSnapshot, error)

	// ListMembers returns up to limit members whose user id sorts after
	// `after` ("" for the first page), in ascending user id order, with
	// their personal connections.
	ListMembers(ctx context.Context, orgID, after string, limit int) ([]UserRecords, error)

	// ListActivity returns up to limit entries older than the entry with ID
	// `before` ("" for the newest), newest first.
	ListActivity(ctx context.Context, orgID, before string, limit int) ([]ActivityEntry, error)

	// Subscribe calls onChange with the id of every org whose records
	// change through Update, from any process sharing the backend. It
	// returns once the subscription is in place (changes committed after
	// that are delivered, typically within milliseconds) and delivers from
	// a background goroutine until ctx ends. After a gap in delivery (for
	// example a reconnect) it calls onChange with the empty string, meaning
	// "anything may have changed". Callbacks must be quick.
	Subscribe(ctx context.Context, onChange func(orgID string)) error

	// GetMeeting returns a booking's meeting record, or ErrNotFound.
	GetMeeting(ctx context.Context, orgID, bookingID string) (*Meeting, error)

	// AcquireLease makes owner the holder of the org's lease `name` for ttl
	// (from now, also when owner already held it) if it is free, expired or
	// owner's, and reports whether owner holds it. Leases keep one replica
	// at a time on work such as refreshing a connection's token; they are
	// not fencing tokens, so ttl must outlast the work, and the work should
	// re-check what it changes inside an Update.
	AcquireLease(ctx context.Context, orgID, name, owner string, ttl time.Duration) (bool, error)

	// ReleaseLease frees the lease if owner holds it.
	ReleaseLease(ctx context.Context, orgID, name, owner string) error

	// EnqueueWebhook durably queues a received webhook body unless an
	// event with the same dedupe key was queued within WebhookDedupeWindow
	// (then enqueued is false). Once it returns nil the event will be
	// delivered by ClaimWebhooks until acknowledged, even across crashes.
	EnqueueWebhook(ctx context.Context, dedupeKey string, body []byte) (enqueued bool, err error)

	// ClaimWebhooks hands consumer up to limit queued webhooks: new ones,
	// and ones another consumer claimed more than minIdle ago without
	// acknowledging them (it crashed or is stuck). Oldest first.
	ClaimWebhooks(ctx context.Context, consumer string, limit int, minIdle time.Duration) ([]WebhookDelivery, error)

	// AckWebhook removes a processed webhook from the queue.
	AckWebhook(ctx context.Context, id string) error

	// ApplyEffects applies the effects that committed Updates of orgID
	// queued (OrgTx.AddEffect) and that are still pending, in commit
	// order, and forgets them. It is idempotent and safe to call from any
	// number of processes at once: an event is appended to the stream
	// exactly once whatever fails or repeats, keeping its id. When it
	// returns nil, every effect committed before the call is applied.
	ApplyEffects(ctx context.Context, orgID string) error

	// PendingEffects lists the orgs that may have effects pending (a
	// superset: it includes orgs whose effects were just applied, for up
	// to EffectsGrace), so that a relay finds the work that a process
	// left behind when it died between a commit and ApplyEffects.
	PendingEffects(ctx context.Context) ([]string, error)

	// IndexMembers lists the members of an index entry across orgs (a
	// Zoom account to the orgs connected to it, a Zoom user or meeting to
	// the records naming it), sorted. Indexes change only through effects;
	// readers verify what they find against the records, and call
	// ApplyEffects first (or PendingEffects) when missing a pending entry
	// would matter.
	IndexMembers(ctx context.Context, index, key string) ([]string, error)

	// LastEventID is the id of the newest event ("0-0" when there is none):
	// a reader that wants only what comes next starts there and keeps its
	// cursor, so nothing appended between two reads is missed.
	LastEventID(ctx context.Context) (string, error)

	// ReadEvents returns up to limit events after the event with id after
	// ("" for: only events appended from now on; "0" for: from the oldest
	// kept), waiting up to wait for one to arrive when there is none.
	ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]Event, error)

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

// WebhookDedupeWindow is how long a webhook's dedupe key is remembered:
// longer than Zoom's retry schedule (5, 20 and 60 minutes).
const WebhookDedupeWindow = 24 * time.Hour

// WebhookDelivery is one queued webhook handed to a consumer.
type WebhookDelivery struct {
	// ID identifies the queued item for AckWebhook.
	ID   string
	Body []byte
	// Deliveries counts how often the item was handed out (1 the first time).
	Deliveries int
}

// MaxEvents bounds the global event stream.
const MaxEvents = 100_000

// Event is one entry of the global event stream.
type Event struct {
	// ID is opaque and increasing; pass it to ReadEvents to resume.
	ID      string
	Payload []byte
}

// MaxSnapshotUsers bounds one Snapshot (the batch resolver's limit).
const MaxSnapshotUsers = 100

// GetOrgConnection returns the org's connection, or ErrNotFound.
func GetOrgConnection(ctx context.Context, s Store, orgID string) (*OrgConnection, error) {
	snap, err := s.Snapshot(ctx, orgID, nil)
	if err != nil {
		return nil, err
	}
	if snap.Connection == nil {
		return nil, ErrNotFound
	}
	return snap.Connection, nil
}
