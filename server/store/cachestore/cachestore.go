// Package cachestore is a store.Store decorator that keeps what Snapshot
// read in process memory, so that the resolver, which calls Snapshot on
// every request, usually costs no store round trip.
//
// Per org it caches the connection and settings, and per user their
// records, each for a TTL at most. Entries are dropped as soon as the org
// changes: Start subscribes to the inner store's change notifications (of
// every replica sharing the backend), and Update through this Store drops
// the org right after its commit, without waiting for the notification.
// The TTL is only a safety net, for notifications lost while the
// subscription is down; without a subscription (before Start, after its
// context ends) nothing is cached. Memory is bounded by bytes (an estimate
// of what the cached records hold, see WithMaxBytes), by the number of orgs
// and by the users per org (see the options): with many orgs and members,
// as at SaaS scale, the byte bound is the one that holds RSS down.
// Everything but Snapshot and
// Update passes through, meetings, leases, the webhook inbox, the effects,
// the indexes and the event stream included: they are never cached.
//
// Meetings are no part of a Snapshot, and the backends notify nobody of an
// Update that writes only meetings, so that other replicas keep their
// caches across bookings. Update through this Store still drops the org
// locally after every commit, meetings-only or not: telling the two apart
// would mean wrapping every OrgTx method (and missing one added later would
// serve this replica stale reads of its own writes), for the saving of one
// Snapshot per booking on the replica that handled it.
//
// A Snapshot is served from memory only if the connection, the settings
// and every requested user are cached and fresh; otherwise one inner
// Snapshot of the whole request refreshes them. A notification arriving
// while that Snapshot is in flight discards its result (see orgCache), so
// data read before a change is never cached after the change is known.
package cachestore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// Defaults of the options.
const (
	DefaultTTL            = 5 * time.Second
	DefaultMaxOrgs        = 10_000
	DefaultMaxUsersPerOrg = 1_000
	DefaultMaxBytes       = 32 << 20
)

// Store is a caching store.Store over another one.
type Store struct {
	inner          store.Store
	ttl            time.Duration
	maxOrgs        int
	maxUsersPerOrg int
	maxBytes       int

	mu sync.Mutex
	// bytes is the estimated size of everything cached (see sizeOf).
	bytes int
	// subscriptions counts the Start calls whose context is alive: the
	// cache is used only while notifications can reach it.
	subscriptions int
	orgs          map[string]*orgCache

	clock commitClock
}

var _ store.Store = (*Store)(nil)

// orgCache is what is cached of one org. It is replaced, never emptied, when
// the org changes: a Snapshot fills only the orgCache it started with, if
// that is still the org's, so data fetched across a change is dropped. Its
// identity is the org's generation.
type orgCache struct {
	conn     *store.OrgConnection
	settings *store.OrgSettings
	fetched  time.Time // of conn and settings; zero until then
	users    map[string]userCache
	// bytes estimates the memory this org's entries hold.
	bytes int
}

type userCache struct {
	records store.UserRecords
	fetched time.Time
	bytes   int
}

// Option configures New.
type Option func(*Store)

// WithTTL sets how long cached data may be served (DefaultTTL if not set);
// zero disables the cache.
func WithTTL(d time.Duration) Option { return func(s *Store) { s.ttl = d } }

// WithMaxOrgs bounds the number of orgs cached (at least 1); beyond it,
// arbitrary orgs are evicted.
func WithMaxOrgs(n int) Option { return func(s *Store) { s.maxOrgs = max(n, 1) } }

// WithMaxUsersPerOrg bounds the users cached per org (at least
// store.MaxSnapshotUsers, so that a Snapshot fits); beyond it, arbitrary
// users of the org are evicted.
func WithMaxUsersPerOrg(n int) Option {
	return func(s *Store) { s.maxUsersPerOrg = max(n, store.MaxSnapshotUsers) }
}

// WithMaxBytes bounds the estimated memory of the cached records (at least
// 64 KiB); beyond it, arbitrary orgs (or users of the only org cached) are
// evicted. The estimate counts the records' strings and a fixed overhead
// per entry for the structs and map slots, so the process's real share is
// of the same order, not exact.
func WithMaxBytes(n int) Option { return func(s *Store) { s.maxBytes = max(n, 64<<10) } }

// New returns a Store over inner. It caches nothing until Start.
func New(inner store.Store, opts ...Option) *Store {
	s := &Store{
		inner:          inner,
		ttl:            DefaultTTL,
		maxOrgs:        DefaultMaxOrgs,
		maxUsersPerOrg: DefaultMaxUsersPerOrg,
		maxBytes:       DefaultMaxBytes,
		orgs:           map[string]*orgCache{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start subscribes to the inner store's notifications and turns the cache
// on until ctx ends: without notifications, cached data could be stale for
// a whole TTL.
func (s *Store) Start(ctx context.Context) error {
	onChange := func(orgID string) {
		s.clock.notified(orgID)
		s.invalidate(orgID)
	}
	if err := s.inner.Subscribe(ctx, onChange); err != nil {
		return fmt.Errorf("cachestore: start: %w", err)
	}
	s.setSubscribed(+1)
	context.AfterFunc(ctx, func() { s.setSubscribed(-1) })
	return nil
}

// setSubscribed counts a subscription in or out, dropping everything: data
// fetched while no notification could arrive is not to be trusted.
func (s *Store) setSubscribed(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscriptions += delta
	clear(s.orgs)
	s.bytes = 0
}

// invalidate drops the cache of an org, or of all for "".
func (s *Store) invalidate(orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if orgID == "" {
		clear(s.orgs)
		s.bytes = 0
		return
	}
	s.dropOrg(orgID)
}

// Bytes returns the estimated memory of what is cached now (at most the
// WithMaxBytes bound), for tests and metrics.
func (s *Store) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// dropOrg forgets an org's cache; s.mu is held.
func (s *Store) dropOrg(orgID string) {
	if c, ok := s.orgs[orgID]; ok {
		s.bytes -= c.bytes
		delete(s.orgs, orgID)
	}
}

// Update implements store.Store. It drops the org's cache (this process's
// only) after every Update, also when inner reports a failure: the write
// may have landed all the same. Whether other replicas hear of the change
// is inner's business (see the package comment on meetings).
func (s *Store) Update(ctx context.Context, orgID string, fn func(store.OrgTx) error) error {
	defer s.invalidate(orgID)
	err := s.inner.Update(ctx, orgID, fn)
	if err == nil {
		s.clock.committed(orgID)
	}
	return err
}

// Snapshot implements store.Store, from memory when it can.
func (s *Store) Snapshot(ctx context.Context, orgID string, userIDs []string) (*store.OrgSnapshot, error) {
	if err := backend.CheckSnapshot(userIDs); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cachestore: snapshot: %w", err)
	}
	snap, c := s.lookup(orgID, userIDs)
	if snap != nil {
		metrics.CacheHits.Inc()
		return cloneSnapshot(snap), nil
	}
	if c != nil {
		metrics.CacheMisses.Inc()
	}
	snap, err := s.inner.Snapshot(ctx, orgID, userIDs)
	if err != nil {
		return nil, err
	}
	if c != nil {
		s.fill(orgID, c, cloneSnapshot(snap))
	}
	return snap, nil
}

// lookup returns the cached snapshot (shared: the caller must clone it)
// or, on a miss, the orgCache to fill; nil for both when not caching.
func (s *Store) lookup(orgID string, userIDs []string) (*store.OrgSnapshot, *orgCache) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subscriptions == 0 {
		return nil, nil
	}
	c := s.orgs[orgID]
	if c == nil {
		if len(s.orgs) >= s.maxOrgs {
			s.dropOrg(anyKey(s.orgs))
		}
		c = &orgCache{users: map[string]userCache{}, bytes: orgOverhead}
		s.orgs[orgID] = c
		s.bytes += c.bytes
	}
	now := time.Now()
	if !s.fresh(c.fetched, now) {
		return nil, c
	}
	snap := &store.OrgSnapshot{Connection: c.conn, Settings: c.settings, Users: make([]store.UserRecords, len(userIDs))}
	for i, userID := range userIDs {
		u, ok := c.users[userID]
		if !ok || !s.fresh(u.fetched, now) {
			return nil, c
		}
		snap.Users[i] = u.records
	}
	return snap, nil
}

// fill caches snap (which the Store owns) in c, unless the org changed
// since c was looked up.
func (s *Store) fill(orgID string, c *orgCache, snap *store.OrgSnapshot) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs[orgID] != c {
		return
	}
	grown := sizeOfOrg(snap) - sizeOfOrg(&store.OrgSnapshot{Connection: c.conn, Settings: c.settings})
	c.conn, c.settings, c.fetched = snap.Connection, snap.Settings, now
	for _, u := range snap.Users {
		if old, ok := c.users[u.UserID]; ok {
			grown -= old.bytes
		} else if len(c.users) >= s.maxUsersPerOrg {
			grown -= s.dropUser(c, anyKey(c.users))
		}
		entry := userCache{records: u, fetched: now, bytes: sizeOfUser(u)}
		c.users[u.UserID] = entry
		grown += entry.bytes
	}
	c.bytes += grown
	s.bytes += grown
	s.shrink(orgID)
}

// shrink evicts arbitrary orgs other than keep, then arbitrary users of
// keep, until the cache fits in maxBytes; s.mu is held.
func (s *Store) shrink(keep string) {
	for s.bytes > s.maxBytes && len(s.orgs) > 1 {
		for orgID := range s.orgs {
			if orgID != keep {
				s.dropOrg(orgID)
				break
			}
		}
	}
	if c := s.orgs[keep]; c != nil {
		for s.bytes > s.maxBytes && len(c.users) > 0 {
			n := s.dropUser(c, anyKey(c.users))
			c.bytes -= n
			s.bytes -= n
		}
	}
}

// dropUser deletes a user from c and returns the bytes it held (which the
// caller subtracts).
func (s *Store) dropUser(c *orgCache, userID string) int {
	n := c.users[userID].bytes
	delete(c.users, userID)
	return n
}

func (s *Store) fresh(fetched, now time.Time) bool {
	return !fetched.IsZero() && now.Sub(fetched) < s.ttl
}

// anyKey returns an arbitrary key, the one to evict: Go randomizes map
// iteration.
func anyKey[V any](m map[string]V) string {
	for k := range m {
		return k
	}
	return ""
}

// Estimated overheads, in bytes, of the structs, pointers, map slots and
// allocation rounding around the records' strings. With them, a matched
// member of loadgen's seeded kind is estimated at 495 bytes; the heap grew
// by 454 per such member cached (runtime.MemStats, 20,000 members), so the
// estimate errs on the safe side.
const (
	orgOverhead    = 512
	recordOverhead = 128
)

// sizeOfOrg estimates what an org's connection and settings hold.
func sizeOfOrg(snap *store.OrgSnapshot) int {
	n := 0
	if c := snap.Connection; c != nil {
		n += recordOverhead + len(c.OrgID) + len(c.ZoomAccountID) + len(c.InstallerEmail) + len(c.InstallerZoomUserID) +
			len(c.ConnectedBy) + len(c.SealedTokens)
		if p := c.Pending; p != nil {
			n += recordOverhead + len(p.AttemptID) + len(p.LinkHash) + len(p.StartedBy)
		}
	}
	if snap.Settings != nil {
		n += recordOverhead
	}
	return n
}

// sizeOfUser estimates what one user's cached records hold.
func sizeOfUser(u store.UserRecords) int {
	n := recordOverhead + len(u.UserID)
	if m := u.Member; m != nil {
		n += recordOverhead + len(m.OrgID) + len(m.UserID) + len(m.Email) + len(m.Name)
		if z := m.Match; z != nil {
			n += recordOverhead + len(z.ZoomAccountID) + len(z.ZoomUserID) + len(z.ZoomEmail)
		}
	}
	if p := u.Personal; p != nil {
		n += recordOverhead + len(p.OrgID) + len(p.UserID) + len(p.ZoomAccountID) + len(p.ZoomUserID) + len(p.ZoomEmail) + len(p.SealedTokens)
	}
	return n
}

// ListMembers implements store.Store by passing through.
func (s *Store) ListMembers(ctx context.Context, orgID, after string, limit int) ([]store.UserRecords, error) {
	return s.inner.ListMembers(ctx, orgID, after, limit)
}

// ListActivity implements store.Store by passing through.
func (s *Store) ListActivity(ctx context.Context, orgID, before string, limit int) ([]store.ActivityEntry, error) {
	return s.inner.ListActivity(ctx, orgID, before, limit)
}

// Subscribe implements store.Store by passing through.
func (s *Store) Subscribe(ctx context.Context, onChange func(orgID string)) error {
	return s.inner.Subscribe(ctx, onChange)
}

// GetMeeting implements store.Store by passing through.
func (s *Store) GetMeeting(ctx context.Context, orgID, bookingID string) (*store.Meeting, error) {
	return s.inner.GetMeeting(ctx, orgID, bookingID)
}

// AcquireLease implements store.Store by passing through.
func (s *Store) AcquireLease(ctx context.Context, orgID, name, owner string, ttl time.Duration) (bool, error) {
	return s.inner.AcquireLease(ctx, orgID, name, owner, ttl)
}

// ReleaseLease implements store.Store by passing through.
func (s *Store) ReleaseLease(ctx context.Context, orgID, name, owner string) error {
	return s.inner.ReleaseLease(ctx, orgID, name, owner)
}

// EnqueueWebhook implements store.Store by passing through.
func (s *Store) EnqueueWebhook(ctx context.Context, dedupeKey string, body []byte) (bool, error) {
	return s.inner.EnqueueWebhook(ctx, dedupeKey, body)
}

// ClaimWebhooks implements store.Store by passing through.
func (s *Store) ClaimWebhooks(ctx context.Context, consumer string, limit int, minIdle time.Duration) ([]store.WebhookDelivery, error) {
	return s.inner.ClaimWebhooks(ctx, consumer, limit, minIdle)
}

// AckWebhook implements store.Store by passing through.
func (s *Store) AckWebhook(ctx context.Context, id string) error { return s.inner.AckWebhook(ctx, id) }

// ApplyEffects implements store.Store by passing through.
func (s *Store) ApplyEffects(ctx context.Context, orgID string) error {
	return s.inner.ApplyEffects(ctx, orgID)
}

// PendingEffects implements store.Store by passing through.
func (s *Store) PendingEffects(ctx context.Context) ([]string, error) {
	return s.inner.PendingEffects(ctx)
}

// IndexMembers implements store.Store by passing through.
func (s *Store) IndexMembers(ctx context.Context, index, key string) ([]string, error) {
	return s.inner.IndexMembers(ctx, index, key)
}

// LastEventID passes through.
func (s *Store) LastEventID(ctx context.Context) (string, error) { return s.inner.LastEventID(ctx) }

// ReadEvents implements store.Store by passing through.
func (s *Store) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]store.Event, error) {
	return s.inner.ReadEvents(ctx, after, limit, wait)
}

// PutOAuthState implements store.Store by passing through.
func (s *Store) PutOAuthState(ctx context.Context, st *store.OAuthState) error {
	return s.inner.PutOAuthState(ctx, st)
}

// TakeOAuthState implements store.Store by passing through.
func (s *Store) TakeOAuthState(ctx context.Context, orgID string, idHash []byte) (*store.OAuthState, error) {
	return s.inner.TakeOAuthState(ctx, orgID, idHash)
}

// Ping implements store.Store by passing through.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }

// Close implements store.Store: it closes the inner store.
func (s *Store) Close() error { return s.inner.Close() }
