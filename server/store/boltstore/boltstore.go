// Package boltstore is the embedded backend of store.Store: one bbolt file,
// for a single zoomconnect process that needs no Redis. bbolt locks the file,
// so two processes cannot share it.
//
// Values are JSON, one bucket per kind of record:
//
//	org_connections  <orgID>                    store.OrgConnection
//	org_settings     <orgID>                    store.OrgSettings
//	members          <orgID> NUL <userID>       store.Member
//	personal         <orgID> NUL <userID>       store.PersonalConnection
//	activity         <orgID> NUL <ms> <seq>     store.ActivityEntry (ID left out)
//	oauth_states     <len(orgID)> <orgID> <IDHash>  store.OAuthState
//	meetings         <orgID> NUL <bookingID>    store.Meeting
//	leases           <orgID> NUL <name>         owner and expiry (see lease)
//	webhook_inbox    <seq>                      a queued webhook and its claim (see inboxItem)
//	webhook_seen     <SHA-256 of dedupe key>    expiry (see seen)
//	indexes          <index> NUL <key> NUL <member>  nothing
//	events           <seq>                      the payload of an event
//
// The effects an Update queues (index changes, events) are written in its
// own transaction: nothing is ever pending, ApplyEffects has nothing to do.
//
// Org ids never contain NUL, so the records of one org are contiguous and
// sorted by user id (ListMembers is a cursor walk), and activity keys (ms
// and seq as 8-byte big-endian numbers, see backend.ActivityID) sort like
// the entries' IDs. Activity older than store.ActivityRetention is trimmed
// by every Update that appends.
//
// Every operation is one bbolt transaction: Update is one read-write
// transaction, so it is atomic, sees its own writes, and runs fn exactly
// once (bbolt has a single writer). Subscribe is an in-process fan-out, the
// file being private to this process; an Update that writes only meetings
// notifies nobody, since no Snapshot reads them. Expired OAuth states are
// refused by TakeOAuthState, expired leases are free, and a janitor
// goroutine that Close stops deletes both (and expired dedupe keys).
//
// The inbox and the events are keyed by their bucket's sequence (8-byte
// big-endian, so keys sort like it), which bbolt persists and never hands
// out twice; their IDs are "<seq>-0", like Redis stream IDs. A webhook's
// record holds its claim: claiming rewrites it, acknowledging deletes it.
// Appending an event deletes the events beyond store.MaxEvents; its commit
// wakes the ReadEvents that wait (in this process: the only one using the
// file).
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

const (
	// openTimeout bounds the wait for the file lock held by another process.
	openTimeout = time.Second
	// sweepInterval is how often expired OAuth states, leases and dedupe
	// keys are deleted. They are already ignored once expired: this only
	// bounds growth.
	sweepInterval = time.Minute
)

var (
	connBucket     = []byte("org_connections")
	settingsBucket = []byte("org_settings")
	memberBucket   = []byte("members")
	personalBucket = []byte("personal")
	activityBucket = []byte("activity")
	stateBucket    = []byte("oauth_states")
	meetingBucket  = []byte("meetings")
	leaseBucket    = []byte("leases")
	inboxBucket    = []byte("webhook_inbox")
	seenBucket     = []byte("webhook_seen")
	indexBucket    = []byte("indexes")
	eventBucket    = []byte("events")
)

// Store is a store.Store in a bbolt file.
type Store struct {
	db         *bolt.DB
	hub        hub
	stop       chan struct{} // closed by Close to stop the goroutines
	goroutines sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error

	// appended wakes the ReadEvents waiting for an event.
	appended signal
	// maxEvents is the number of events kept: store.MaxEvents, but for
	// tests of the trimming.
	maxEvents uint64
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the store at path, creating its directory (0700)
// and file (0600) as needed. It fails after about a second if another
// process holds the file.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: create directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: file locked by another process or Store (waited %v): %w", path, openTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{connBucket, settingsBucket, memberBucket, personalBucket, activityBucket, stateBucket, meetingBucket, leaseBucket, inboxBucket, seenBucket, indexBucket, eventBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close() // the first error says more
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, stop: make(chan struct{}), maxEvents: store.MaxEvents}
	s.goroutines.Go(s.sweepPeriodically)
	return s, nil
}

// Update implements store.Store. fn runs exactly once, inside the write
// transaction.
func (s *Store) Update(ctx context.Context, orgID string, fn func(store.OrgTx) error) error {
	if err := begin(ctx, "update", orgID); err != nil {
		return err
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable("update", err)
	}
	defer tx.Rollback()
	t := &orgTx{store: s, tx: tx, orgID: orgID}
	err = fn(t)
	t.done = true
	switch {
	case err != nil:
		return err
	case t.err != nil:
		return t.err
	case !t.written:
		return nil
	}
	if t.appended {
		if err := trimActivity(tx, orgID, time.Now()); err != nil {
			return fmt.Errorf("boltstore: trim activity: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return unavailable("update", err)
	}
	if t.changed {
		s.hub.publish(orgID)
	}
	if t.events {
		s.appended.broadcast()
	}
	return nil
}

// Snapshot implements store.Store.
func (s *Store) Snapshot(ctx context.Context, orgID string, userIDs []string) (*store.OrgSnapshot, error) {
	if err := backend.CheckSnapshot(userIDs); err != nil {
		return nil, err
	}
	if err := begin(ctx, "snapshot", orgID); err != nil {
		return nil, err
	}
	snap := &store.OrgSnapshot{Users: make([]store.UserRecords, 0, len(userIDs))}
	err := s.view("snapshot", func(tx *bolt.Tx) error {
		var err error
		if snap.Connection, err = get[store.OrgConnection](tx, connBucket, []byte(orgID)); err != nil {
			return err
		}
		if snap.Settings, err = get[store.OrgSettings](tx, settingsBucket, []byte(orgID)); err != nil {
			return err
		}
		for _, userID := range userIDs {
			u, err := userRecords(tx, orgID, userID)
			if err != nil {
				return err
			}
			snap.Users = append(snap.Users, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// ListMembers implements store.Store.
func (s *Store) ListMembers(ctx context.Context, orgID, after string, limit int) ([]store.UserRecords, error) {
	if err := backend.CheckLimit(limit); err != nil {
		return nil, err
	}
	if err := begin(ctx, "list members", orgID); err != nil {
		return nil, err
	}
	var page []store.UserRecords
	err := s.view("list members", func(tx *bolt.Tx) error {
		prefix := orgPrefix(orgID)
		c := tx.Bucket(memberBucket).Cursor()
		k, v := c.Seek(userKey(orgID, after))
		if after != "" && bytes.Equal(k, userKey(orgID, after)) {
			k, v = c.Next()
		}
		for ; bytes.HasPrefix(k, prefix) && len(page) < limit; k, v = c.Next() {
			m, err := backend.Decode[store.Member](where(memberBucket, k), v)
			if err != nil {
				return err
			}
			userID := string(k[len(prefix):])
			p, err := get[store.PersonalConnection](tx, personalBucket, k)
			if err != nil {
				return err
			}
			page = append(page, store.UserRecords{UserID: userID, Member: m, Personal: p})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// ListActivity implements store.Store.
func (s *Store) ListActivity(ctx context.Context, orgID, before string, limit int) ([]store.ActivityEntry, error) {
	if err := backend.CheckLimit(limit); err != nil {
		return nil, err
	}
	// The entries wanted sort before start.
	start := orgEnd(orgID)
	if before != "" {
		id, err := backend.ParseActivityID(before)
		if err != nil {
			return nil, err
		}
		start = activityKey(orgID, id)
	}
	if err := begin(ctx, "list activity", orgID); err != nil {
		return nil, err
	}
	var page []store.ActivityEntry
	err := s.view("list activity", func(tx *bolt.Tx) error {
		prefix := orgPrefix(orgID)
		c := tx.Bucket(activityBucket).Cursor()
		for k, v := lastBefore(c, start); bytes.HasPrefix(k, prefix) && len(page) < limit; k, v = c.Prev() {
			e, err := decodeEntry(len(prefix), k, v)
			if err != nil {
				return err
			}
			page = append(page, *e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// Subscribe implements store.Store: the subscriber hears of the Updates of
// this Store, the only writer of its file. Notifications are queued for
// each subscriber and delivered by its own goroutine, in order, so a slow
// callback delays no writer; a subscriber that falls far behind gets "" in
// place of its backlog. Close ends every subscription.
func (s *Store) Subscribe(ctx context.Context, onChange func(orgID string)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: subscribe: %w", err)
	}
	select {
	case <-s.stop:
		return unavailable("subscribe", bolterrors.ErrDatabaseNotOpen)
	default:
	}
	sub := s.hub.add(onChange)
	s.goroutines.Go(func() {
		defer s.hub.remove(sub)
		sub.deliver(ctx, s.stop)
	})
	return nil
}

// GetMeeting implements store.Store.
func (s *Store) GetMeeting(ctx context.Context, orgID, bookingID string) (*store.Meeting, error) {
	if err := begin(ctx, "get meeting", orgID); err != nil {
		return nil, err
	}
	if err := backend.CheckID("booking id", bookingID); err != nil {
		return nil, fmt.Errorf("boltstore: get meeting: %w", err)
	}
	var m *store.Meeting
	err := s.view("get meeting", func(tx *bolt.Tx) error {
		var err error
		m, err = get[store.Meeting](tx, meetingBucket, userKey(orgID, bookingID))
		return err
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, store.ErrNotFound
	}
	return m, nil
}

// PutOAuthState implements store.Store.
func (s *Store) PutOAuthState(ctx context.Context, st *store.OAuthState) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: put oauth state: %w", err)
	}
	if !st.ExpiresAt.After(time.Now()) {
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("boltstore: encode oauth state: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable("put oauth state", err)
	}
	defer tx.Rollback()
	if err := tx.Bucket(stateBucket).Put(stateKey(st.OrgID, st.IDHash), data); err != nil {
		return fmt.Errorf("boltstore: put oauth state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable("put oauth state", err)
	}
	return nil
}

// TakeOAuthState implements store.Store.
func (s *Store) TakeOAuthState(ctx context.Context, orgID string, idHash []byte) (*store.OAuthState, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: take oauth state: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return nil, unavailable("take oauth state", err)
	}
	defer tx.Rollback()
	b := tx.Bucket(stateBucket)
	key := stateKey(orgID, idHash)
	data := b.Get(key)
	if data == nil {
		return nil, store.ErrNotFound
	}
	st, err := backend.Decode[store.OAuthState](where(stateBucket, key), data)
	if err != nil {
		return nil, err
	}
	// Deleted even when expired: it can never be taken.
	if err := b.Delete(key); err != nil {
		return nil, fmt.Errorf("boltstore: delete oauth state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable("take oauth state", err)
	}
	if !st.ExpiresAt.After(time.Now()) {
		return nil, store.ErrNotFound
	}
	return st, nil
}

// Ping implements store.Store: it reports whether the file is still open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: ping: %w", err)
	}
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close implements store.Store: it ends the subscriptions, stops the
// janitor and closes the file. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.goroutines.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("boltstore: close: %w", err)
		}
	})
	return s.closeErr
}

// view runs fn in a read-only transaction; errors of bbolt itself match
// store.ErrUnavailable, those of fn (malformed data) are returned as is.
func (s *Store) view(op string, fn func(*bolt.Tx) error) error {
	tx, err := s.db.Begin(false)
	if err != nil {
		return unavailable(op, err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func (s *Store) sweepPeriodically() {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			// A failed sweep is retried at the next tick; nothing else
			// depends on it.
			_ = s.sweep(now)
		}
	}
}

// sweep deletes the OAuth states, the leases and the webhook dedupe keys
// expired at now, and those that cannot be decoded: a state that could
// never be taken, a lease that could never be acquired again, a dedupe
// key on which every EnqueueWebhook of its key would fail.
func (s *Store) sweep(now time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		// All these records have an "expires_at".
		for _, name := range [][]byte{stateBucket, leaseBucket, seenBucket} {
			b := tx.Bucket(name)
			var doomed [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var r struct {
					ExpiresAt time.Time `json:"expires_at"`
				}
				if json.Unmarshal(v, &r) != nil || !r.ExpiresAt.After(now) {
					// A bucket must not change during ForEach: delete after.
					doomed = append(doomed, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := deleteKeys(b, doomed); err != nil {
				return err
			}
		}
		return nil
	})
}

// trimActivity deletes the org's entries older than the retention at now.
func trimActivity(tx *bolt.Tx, orgID string, now time.Time) error {
	b := tx.Bucket(activityBucket)
	cutoff := activityKey(orgID, backend.ActivityCutoff(now))
	var doomed [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(orgPrefix(orgID)); k != nil && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
		// Deleting under a cursor may make it skip keys: delete after.
		doomed = append(doomed, k)
	}
	return deleteKeys(b, doomed)
}

func deleteKeys(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// begin checks the arguments common to the org-scoped methods.
func begin(ctx context.Context, op, orgID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	if err := backend.CheckOrgID(orgID); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	return nil
}

// orgPrefix starts the keys of an org's users, activity, meetings and
// leases; orgEnd sorts after all of them.
func orgPrefix(orgID string) []byte { return append([]byte(orgID), 0) }
func orgEnd(orgID string) []byte    { return append([]byte(orgID), 1) }

// userKey is the key of a user's records; meetings (by booking id) and
// leases (by name) have keys of the same form.
func userKey(orgID, userID string) []byte { return append(orgPrefix(orgID), userID...) }

func activityKey(orgID string, id backend.ActivityID) []byte {
	k := binary.BigEndian.AppendUint64(orgPrefix(orgID), id.Ms)
	return binary.BigEndian.AppendUint64(k, id.Seq)
}

// stateKey is the org id, length-prefixed so that no (org id, IDHash) pair
// can produce another pair's key, then the IDHash.
func stateKey(orgID string, idHash []byte) []byte {
	k := binary.AppendUvarint(nil, uint64(len(orgID)))
	k = append(k, orgID...)
	return append(k, idHash...)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: boltstore: %s: %w", store.ErrUnavailable, op, err)
}

// where names a record in errors.
func where(bucket, key []byte) string {
	return fmt.Sprintf("boltstore: bucket %s, key %q", bucket, key)
}

// get returns the record at key, or nil when there is none.
func get[T any](tx *bolt.Tx, bucket, key []byte) (*T, error) {
	data := tx.Bucket(bucket).Get(key)
	if data == nil {
		return nil, nil
	}
	return backend.Decode[T](where(bucket, key), data)
}

func userRecords(tx *bolt.Tx, orgID, userID string) (store.UserRecords, error) {
	key := userKey(orgID, userID)
	m, err := get[store.Member](tx, memberBucket, key)
	if err != nil {
		return store.UserRecords{}, err
	}
	p, err := get[store.PersonalConnection](tx, personalBucket, key)
	if err != nil {
		return store.UserRecords{}, err
	}
	return store.UserRecords{UserID: userID, Member: m, Personal: p}, nil
}

// decodeEntry decodes the activity entry at k, after an org prefix of
// prefixLen bytes, and gives it the ID that k holds.
func decodeEntry(prefixLen int, k, v []byte) (*store.ActivityEntry, error) {
	id, ok := keyActivityID(k[prefixLen:])
	if !ok {
		return nil, fmt.Errorf("%s: malformed key", where(activityBucket, k))
	}
	e, err := backend.Decode[store.ActivityEntry](where(activityBucket, k), v)
	if err != nil {
		return nil, err
	}
	e.ID = id.String()
	return e, nil
}

// keyActivityID reads the ID encoded by activityKey after the org prefix.
func keyActivityID(tail []byte) (backend.ActivityID, bool) {
	if len(tail) != 16 {
		return backend.ActivityID{}, false
	}
	return backend.ActivityID{Ms: binary.BigEndian.Uint64(tail), Seq: binary.BigEndian.Uint64(tail[8:])}, true
}
