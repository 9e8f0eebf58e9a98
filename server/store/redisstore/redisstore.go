// Package redisstore is the Redis backend of store.Store, for a standalone
// server, Redis Cluster or Sentinel (see ParseURL). It lets several
// zoomconnect replicas share their state.
//
// Keys: every key of one org carries the hash tag {org:<orgID>}, so that all
// of them live in one cluster slot, where transactions and multi-key reads
// over one org work (org ids with braces are refused):
//
//	zc:{org:<orgID>}:conn                   JSON store.OrgConnection
//	zc:{org:<orgID>}:settings               JSON store.OrgSettings
//	zc:{org:<orgID>}:member:<userID>        JSON store.Member
//	zc:{org:<orgID>}:personal:<userID>      JSON store.PersonalConnection
//	zc:{org:<orgID>}:members                sorted set of the member user ids, all of score 0
//	zc:{org:<orgID>}:activity               stream of store.ActivityEntry
//	zc:{org:<orgID>}:state:<hex of IDHash>  JSON store.OAuthState, expiring at ExpiresAt
//	zc:{org:<orgID>}:meeting:<bookingID>    JSON store.Meeting
//	zc:{org:<orgID>}:lease:<name>           the owner of the lease, expiring with it
//	zc:{org:<orgID>}:outbox                 list of the org's committed effects not yet applied (see effects.go)
//
// The global parts of the contract have keys of their own (see keys.go):
//
//	zc:{webhooks}:inbox                 stream of queued webhooks (field "body"), read by the consumer group "zoomconnect"
//	zc:{webhooks}:seen:<hex of SHA-256 of the dedupe key>  "1", expiring after store.WebhookDedupeWindow
//	zoomconnect:events                  stream of events (field "payload"), trimmed to about store.MaxEvents
//	zc:idx:<index>:<key>                set of the members of an index key
//	zc:effects:pending                  sorted set of the orgs whose outbox may hold effects, scored by Redis time (ms)
//	zc:{zoomconnect:events}:applied:<entry id>  id of the event an outbox entry appended, for a day (same slot as the stream)
//
// The inbox and the dedupe keys share the hash tag {webhooks}: queueing a
// webhook is one script over both (see webhook.go). Claiming takes over
// the entries whose consumer left them unacknowledged for minIdle
// (XAUTOCLAIM, Redis 6.2 or later) before reading new ones (XREADGROUP),
// in one script; acknowledging deletes the entry (XACK and XDEL). Index
// names have no colon, so index keys are unambiguous; each index call is
// one command on one set, so indexes spread over a cluster.
//
// The members set mirrors the member records (Update changes both in one
// transaction) so that ListMembers pages with ZRANGE BYLEX instead of
// loading every member. An activity entry is a stream entry whose field
// "entry" holds its JSON without the ID: the stream ID is the entry's ID.
// Update chooses it explicitly ("<ms>-<seq>"): the entry's Time in Unix
// milliseconds, unless the stream already has a later one (see
// backend.NextActivityID), so that trimming with XADD MINID, which works on
// stream IDs, removes the entries whose Time is older than
// store.ActivityRetention. Every Update that changes an org publishes its
// id on the channel zoomconnect:changes, in its transaction; Subscribe
// listens to that channel. An Update that writes only meetings publishes
// nothing: no Snapshot reads them, and subscribers (the resolver caches of
// every replica) would drop the org for nothing on every booking.
//
// Update is optimistic (WATCH/MULTI/EXEC, retried with jittered backoff);
// Snapshot is one MGET; TakeOAuthState is a GETDEL, hence single use.
// AcquireLease and ReleaseLease are one Lua script each (see lease.go).
//
// Failures of Redis itself match store.ErrUnavailable; those caused by the
// caller's context match context.Canceled or context.DeadlineExceeded.
// Malformed stored data is reported as such.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

const (
	// maxUpdateAttempts bounds the optimistic retries of one update before
	// it fails with store.ErrConflict.
	maxUpdateAttempts = 20
	// The delay before retry n is random in [0, min(maxBackoff, baseBackoff<<n)).
	baseBackoff = time.Millisecond
	maxBackoff  = 64 * time.Millisecond
)

// Store is a store.Store on Redis.
type Store struct {
	client     redis.UniversalClient
	ownsClient bool
	// instrument, when set, is applied to the client New dials.
	instrument func(redis.UniversalClient) error
	// maxEvents is the length the event stream is trimmed to (about):
	// store.MaxEvents, but for tests of the trimming.
	maxEvents int64
}

var _ store.Store = (*Store)(nil)

// Option configures New.
type Option func(*Store)

// WithClient makes the store use c instead of dialling a URL (New's rawURL
// must then be empty), for example a client with hooks in tests. Close does
// not close c: its owner does.
func WithClient(c redis.UniversalClient) Option {
	return func(s *Store) { s.client = c }
}

// WithInstrumentation applies f (for example go-redis's OpenTelemetry
// tracing) to the client New dials from the URL.
func WithInstrumentation(f func(redis.UniversalClient) error) Option {
	return func(s *Store) { s.instrument = f }
}

// New connects to the Redis described by rawURL (see ParseURL) and checks
// that it answers.
func New(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	s := &Store{maxEvents: store.MaxEvents}
	for _, o := range opts {
		o(s)
	}
	switch {
	case s.client != nil && rawURL != "":
		return nil, errors.New("redisstore: a URL and WithClient are exclusive")
	case s.client == nil:
		o, err := ParseURL(rawURL)
		if err != nil {
			return nil, err
		}
		// Without this, a context deadline would not bound a blocked read.
		o.ContextTimeoutEnabled = true
		s.client, s.ownsClient = redis.NewUniversalClient(o), true
		if s.instrument != nil {
			if err := s.instrument(s.client); err != nil {
				_ = s.Close()
				return nil, fmt.Errorf("redisstore: instrumenting the client: %w", err)
			}
		}
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close() // the ping error says more
		return nil, err
	}
	return s, nil
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, orgID string, fn func(store.OrgTx) error) error {
	if err := backend.CheckOrgID(orgID); err != nil {
		return err
	}
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("redisstore: update: %w", err)
			}
		}
		var abort error
		// The connection key is watched up front: a cluster client needs a
		// key to pick the node. The others are watched as fn reads them.
		err := s.client.Watch(ctx, func(rtx *redis.Tx) error {
			t := newOrgTx(ctx, s.client, rtx, orgID)
			if abort = fn(t); abort != nil {
				return abort
			}
			if abort = t.err; abort != nil {
				return abort
			}
			return t.commit()
		}, connKey(orgID))
		switch {
		case abort != nil:
			return abort
		case err == nil:
			return nil
		case !errors.Is(err, redis.TxFailedErr):
			return redisErr(ctx, "update", err)
		}
	}
	return fmt.Errorf("redisstore: update: %w (%d attempts)", store.ErrConflict, maxUpdateAttempts)
}

// Snapshot implements store.Store in one MGET, which works in a cluster
// because all the keys of an org share a slot.
func (s *Store) Snapshot(ctx context.Context, orgID string, userIDs []string) (*store.OrgSnapshot, error) {
	if err := backend.CheckOrgID(orgID); err != nil {
		return nil, err
	}
	if err := backend.CheckSnapshot(userIDs); err != nil {
		return nil, err
	}
	keys := make([]string, 0, 2+2*len(userIDs))
	keys = append(keys, connKey(orgID), settingsKey(orgID))
	keys = appendUserKeys(keys, orgID, userIDs)
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, redisErr(ctx, "snapshot", err)
	}
	snap := &store.OrgSnapshot{}
	if snap.Connection, err = decodeValue[store.OrgConnection](keys[0], vals[0]); err != nil {
		return nil, err
	}
	if snap.Settings, err = decodeValue[store.OrgSettings](keys[1], vals[1]); err != nil {
		return nil, err
	}
	if snap.Users, err = decodeUsers(userIDs, keys[2:], vals[2:]); err != nil {
		return nil, err
	}
	return snap, nil
}

// ListMembers implements store.Store, usually in two round trips: the page
// of the members set, then one MGET of the page's records.
func (s *Store) ListMembers(ctx context.Context, orgID, after string, limit int) ([]store.UserRecords, error) {
	if err := backend.CheckOrgID(orgID); err != nil {
		return nil, err
	}
	if err := backend.CheckLimit(limit); err != nil {
		return nil, err
	}
	var page []store.UserRecords
	// A member deleted between the two round trips is left out; the next
	// ones make up for it, since callers take a short page for the last.
	for len(page) < limit {
		users, more, err := s.listMembers(ctx, orgID, after, limit-len(page))
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.Member != nil {
				page = append(page, u)
			}
		}
		if !more {
			break
		}
		after = users[len(users)-1].UserID
	}
	return page, nil
}

// listMembers reads the records of up to n user ids of the members set
// after `after`; more reports whether the set may have others.
func (s *Store) listMembers(ctx context.Context, orgID, after string, n int) (users []store.UserRecords, more bool, err error) {
	start := "-"
	if after != "" {
		start = "(" + after
	}
	userIDs, err := s.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: membersKey(orgID), Start: start, Stop: "+", ByLex: true, Count: int64(n),
	}).Result()
	if err != nil {
		return nil, false, redisErr(ctx, "list members", err)
	}
	if len(userIDs) == 0 {
		return nil, false, nil
	}
	keys := appendUserKeys(nil, orgID, userIDs)
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, false, redisErr(ctx, "list members", err)
	}
	users, err = decodeUsers(userIDs, keys, vals)
	return users, len(userIDs) == n, err
}

// ListActivity implements store.Store with one XREVRANGE.
func (s *Store) ListActivity(ctx context.Context, orgID, before string, limit int) ([]store.ActivityEntry, error) {
	if err := backend.CheckOrgID(orgID); err != nil {
		return nil, err
	}
	if err := backend.CheckLimit(limit); err != nil {
		return nil, err
	}
	start := "+"
	if before != "" {
		// Redis would take other forms of IDs; the store hands out only this one.
		id, err := backend.ParseActivityID(before)
		if err != nil {
			return nil, err
		}
		if id == (backend.ActivityID{}) {
			return nil, nil // nothing is older, and Redis refuses "(0-0"
		}
		start = "(" + id.String()
	}
	key := activityKey(orgID)
	msgs, err := s.client.XRevRangeN(ctx, key, start, "-", int64(limit)).Result()
	if err != nil {
		return nil, redisErr(ctx, "list activity", err)
	}
	page := make([]store.ActivityEntry, 0, len(msgs))
	for _, msg := range msgs {
		e, err := decodeEntry(key, msg)
		if err != nil {
			return nil, err
		}
		page = append(page, *e)
	}
	return page, nil
}

// GetMeeting implements store.Store with one GET.
func (s *Store) GetMeeting(ctx context.Context, orgID, bookingID string) (*store.Meeting, error) {
	if err := backend.CheckOrgID(orgID); err != nil {
		return nil, err
	}
	if err := backend.CheckID("booking id", bookingID); err != nil {
		return nil, err
	}
	key := meetingKey(orgID, bookingID)
	data, err := s.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, redisErr(ctx, "get meeting", err)
	}
	return decode[store.Meeting](key, data)
}

// PutOAuthState implements store.Store.
func (s *Store) PutOAuthState(ctx context.Context, st *store.OAuthState) error {
	if !st.ExpiresAt.After(time.Now()) {
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redisstore: encode oauth state: %w", err)
	}
	// Millisecond precision is what Redis keeps (PXAT).
	expireAt := st.ExpiresAt.Truncate(time.Millisecond)
	err = s.client.SetArgs(ctx, stateKey(st.OrgID, st.IDHash), data, redis.SetArgs{ExpireAt: expireAt}).Err()
	if err != nil {
		return redisErr(ctx, "put oauth state", err)
	}
	return nil
}

// TakeOAuthState implements store.Store.
func (s *Store) TakeOAuthState(ctx context.Context, orgID string, idHash []byte) (*store.OAuthState, error) {
	key := stateKey(orgID, idHash)
	data, err := s.client.GetDel(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, redisErr(ctx, "take oauth state", err)
	}
	st, err := decode[store.OAuthState](key, data)
	if err != nil {
		return nil, err
	}
	// Redis expires by its own clock, to the millisecond: ours decides.
	if !st.ExpiresAt.After(time.Now()) {
		return nil, store.ErrNotFound
	}
	return st, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return redisErr(ctx, "ping", err)
	}
	return nil
}

// Close implements store.Store. It leaves a client given by WithClient open
// (and the subscriptions on it, which end with their contexts).
func (s *Store) Close() error {
	if !s.ownsClient {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// redisErr classifies a failed Redis call: when the caller's context ended,
// the error matches the context's error (the caller gave up, Redis may be
// fine); otherwise it matches store.ErrUnavailable. err stays in the chain
// for logs.
func redisErr(ctx context.Context, op string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && pastDeadline(ctx, err) {
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		// An expired deadline may surface as a network timeout.
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if redis.HasErrorPrefix(err, "WRONGTYPE") {
		// Redis is fine; the data is not.
		return fmt.Errorf("redisstore: %s: malformed record: %w", op, err)
	}
	return fmt.Errorf("%w: redisstore: %s: %w", store.ErrUnavailable, op, err)
}

// pastDeadline reports whether err is a network timeout at or after ctx's
// deadline: go-redis sets the connection's deadline to ctx's, which may
// expire just before ctx's own timer marks ctx done.
func pastDeadline(ctx context.Context, err error) bool {
	deadline, ok := ctx.Deadline()
	var netErr net.Error
	return ok && !time.Now().Before(deadline) && errors.As(err, &netErr) && netErr.Timeout()
}

// appendUserKeys appends the member and personal keys of every user.
func appendUserKeys(keys []string, orgID string, userIDs []string) []string {
	for _, userID := range userIDs {
		keys = append(keys, memberKey(orgID, userID), personalKey(orgID, userID))
	}
	return keys
}

// decodeUsers decodes the values of the keys of appendUserKeys.
func decodeUsers(userIDs, keys []string, vals []any) ([]store.UserRecords, error) {
	users := make([]store.UserRecords, len(userIDs))
	for i, userID := range userIDs {
		m, err := decodeValue[store.Member](keys[2*i], vals[2*i])
		if err != nil {
			return nil, err
		}
		p, err := decodeValue[store.PersonalConnection](keys[2*i+1], vals[2*i+1])
		if err != nil {
			return nil, err
		}
		users[i] = store.UserRecords{UserID: userID, Member: m, Personal: p}
	}
	return users, nil
}

// decodeValue decodes one value of an MGET: nil when the key is absent.
func decodeValue[T any](key string, val any) (*T, error) {
	switch v := val.(type) {
	case nil:
		return nil, nil
	case string:
		return decode[T](key, []byte(v))
	default:
		return nil, fmt.Errorf("%s: unexpected MGET value of type %T", at(key), val)
	}
}

func decode[T any](key string, data []byte) (*T, error) {
	return backend.Decode[T](at(key), data)
}

// at names a key in errors.
func at(key string) string { return "redisstore: key " + strconv.Quote(key) }

// decodeEntry decodes an entry of the activity stream at key.
func decodeEntry(key string, msg redis.XMessage) (*store.ActivityEntry, error) {
	where := at(key) + ", entry " + msg.ID
	data, ok := msg.Values[entryField].(string)
	if !ok {
		return nil, fmt.Errorf("%s: malformed record: no field %q", where, entryField)
	}
	e, err := backend.Decode[store.ActivityEntry](where, []byte(data))
	if err != nil {
		return nil, err
	}
	e.ID = msg.ID
	return e, nil
}

// backoff returns a random delay growing with attempt ("full jitter"), so
// that writers that collided do not collide again in lockstep.
func backoff(attempt int) time.Duration {
	return rand.N(min(maxBackoff, baseBackoff<<attempt))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
