// Package boltstore is the embedded backend of store.Store: one bbolt file,
// for a single zoomconnect process that needs no Redis. bbolt locks the file,
// so two processes cannot share it.
//
// Values are JSON in two buckets: org connections keyed by org id, and OAuth
// states keyed by (org id, IDHash). Every operation is one bbolt transaction,
// so updates and takes are trivially atomic. Expired states are refused by
// TakeOAuthState and deleted by a janitor goroutine that Close stops.
package boltstore

import (
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
)

const (
	// openTimeout bounds the wait for the file lock held by another process.
	openTimeout = time.Second
	// sweepInterval is how often expired OAuth states are deleted. They are
	// short-lived and already refused once expired: this only bounds growth.
	sweepInterval = time.Minute
)

var (
	connBucket  = []byte("org_connections")
	stateBucket = []byte("oauth_states")
)

// Store is a store.Store in a bbolt file.
type Store struct {
	db        *bolt.DB
	stop      chan struct{} // closed by Close to stop the janitor
	janitor   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
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
		for _, b := range [][]byte{connBucket, stateBucket} {
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
	s := &Store{db: db, stop: make(chan struct{})}
	s.janitor.Go(s.sweepPeriodically)
	return s, nil
}

// GetOrgConnection implements store.Store.
func (s *Store) GetOrgConnection(ctx context.Context, orgID string) (*store.OrgConnection, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: get org connection: %w", err)
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, unavailable("get org connection", err)
	}
	defer tx.Rollback()
	data := tx.Bucket(connBucket).Get([]byte(orgID))
	if data == nil {
		return nil, store.ErrNotFound
	}
	return decode[store.OrgConnection]("org connection", data)
}

// UpdateOrgConnection implements store.Store. mutate runs exactly once,
// inside the write transaction.
func (s *Store) UpdateOrgConnection(ctx context.Context, orgID string, mutate func(*store.OrgConnection) (*store.OrgConnection, error)) (*store.OrgConnection, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: update org connection: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return nil, unavailable("update org connection", err)
	}
	defer tx.Rollback()
	b := tx.Bucket(connBucket)
	// current decodes afresh each time: mutate may change its copy.
	current := func() (*store.OrgConnection, error) {
		data := b.Get([]byte(orgID))
		if data == nil {
			return nil, nil
		}
		return decode[store.OrgConnection]("org connection", data)
	}
	cur, err := current()
	if err != nil {
		return nil, err
	}
	next, err := mutate(cur)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return current()
	}
	data, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("boltstore: encode org connection: %w", err)
	}
	if err := b.Put([]byte(orgID), data); err != nil {
		return nil, fmt.Errorf("boltstore: put org connection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable("update org connection", err)
	}
	return next, nil
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
	st, err := decode[store.OAuthState]("oauth state", data)
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

// Close implements store.Store: it stops the janitor and closes the file.
// Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.janitor.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("boltstore: close: %w", err)
		}
	})
	return s.closeErr
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

// sweep deletes the OAuth states expired at now, and those that cannot be
// decoded, which could never be taken either.
func (s *Store) sweep(now time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(stateBucket)
		var doomed [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var st struct {
				ExpiresAt time.Time `json:"expires_at"`
			}
			if json.Unmarshal(v, &st) != nil || !st.ExpiresAt.After(now) {
				// A bucket must not change during ForEach: delete after.
				doomed = append(doomed, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
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

// decode parses a stored value; bad data is reported, never a panic.
func decode[T any](what string, data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("boltstore: malformed %s in the database: %w", what, err)
	}
	return v, nil
}
