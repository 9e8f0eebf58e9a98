// Package redisstore is the Redis backend of store.Store, for a standalone
// server, Redis Cluster or Sentinel (see ParseURL). It lets several
// zoomconnect replicas share their state.
//
// Keys: every key of one org carries the hash tag {org:<orgID>}, so that all
// of them live in one cluster slot and a future multi-key operation on one
// org stays possible in a cluster:
//
//	zc:{org:<orgID>}:conn                  JSON store.OrgConnection
//	zc:{org:<orgID>}:state:<hex of IDHash>  JSON store.OAuthState, expiring at ExpiresAt
//
// UpdateOrgConnection is optimistic (WATCH/MULTI/EXEC, retried with jittered
// backoff); TakeOAuthState is a GETDEL, hence single use.
//
// Failures of Redis itself match store.ErrUnavailable; those caused by the
// caller's context match context.Canceled or context.DeadlineExceeded.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
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
}

var _ store.Store = (*Store)(nil)

// Option configures New.
type Option func(*Store)

// WithClient makes the store use c instead of dialling a URL (New's rawURL
// must then be empty). Close does not close c: its owner does.
func WithClient(c redis.UniversalClient) Option {
	return func(s *Store) { s.client = c }
}

// New connects to the Redis described by rawURL (see ParseURL) and checks
// that it answers.
func New(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	s := &Store{}
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
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close() // the ping error says more
		return nil, err
	}
	return s, nil
}

// GetOrgConnection implements store.Store.
func (s *Store) GetOrgConnection(ctx context.Context, orgID string) (*store.OrgConnection, error) {
	key := connKey(orgID)
	data, err := s.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, redisErr(ctx, "get org connection", err)
	}
	return decode[store.OrgConnection](key, data)
}

// UpdateOrgConnection implements store.Store.
func (s *Store) UpdateOrgConnection(ctx context.Context, orgID string, mutate func(*store.OrgConnection) (*store.OrgConnection, error)) (*store.OrgConnection, error) {
	key := connKey(orgID)
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, fmt.Errorf("redisstore: update org connection: %w", err)
			}
		}
		var result *store.OrgConnection
		var abort error
		err := s.client.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			result, abort, err = updateTx(ctx, tx, key, mutate)
			if abort != nil {
				return abort
			}
			return err
		}, key)
		switch {
		case abort != nil:
			return nil, abort
		case err == nil:
			return result, nil
		case !errors.Is(err, redis.TxFailedErr):
			return nil, redisErr(ctx, "update org connection", err)
		}
	}
	return nil, fmt.Errorf("redisstore: update org connection: %w (%d attempts)", store.ErrConflict, maxUpdateAttempts)
}

// updateTx is one optimistic attempt, inside WATCH. abort is an error from
// mutate or bad stored data: returned as is, never retried. err is a Redis
// error, redis.TxFailedErr when another writer changed the key meanwhile.
func updateTx(ctx context.Context, tx *redis.Tx, key string, mutate func(*store.OrgConnection) (*store.OrgConnection, error)) (result *store.OrgConnection, abort, err error) {
	data, err := tx.Get(ctx, key).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, err
	}
	// current decodes afresh each time: mutate may change its copy.
	current := func() (*store.OrgConnection, error) {
		if data == nil {
			return nil, nil
		}
		return decode[store.OrgConnection](key, data)
	}
	cur, abort := current()
	if abort != nil {
		return nil, abort, nil
	}
	next, abort := mutate(cur)
	if abort != nil {
		return nil, abort, nil
	}
	if next == nil {
		cur, abort = current()
		return cur, abort, nil
	}
	newData, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("redisstore: encode org connection: %w", err), nil
	}
	// EXEC fails with redis.TxFailedErr if the key changed since WATCH.
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		return p.Set(ctx, key, newData, 0).Err()
	})
	return next, nil, err
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

// Close implements store.Store. It leaves a client given by WithClient open.
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
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		// An expired deadline may surface as a network timeout.
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return fmt.Errorf("%w: redisstore: %s: %w", store.ErrUnavailable, op, err)
}

// decode parses a stored value; bad data is reported, never a panic.
func decode[T any](key string, data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("redisstore: malformed value at key %q: %w", key, err)
	}
	return v, nil
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
