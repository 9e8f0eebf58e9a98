package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// Effects (store.Effect) go through a per-org outbox, because the indexes
// and the event stream live in other cluster slots than the org:
//
//  1. Update marks the org in the pending set (one script: ZADD with the
//     Redis server's time, so replicas' clocks do not matter), then
//     commits the change and RPUSHes its effects to the org's outbox in
//     the same MULTI/EXEC. A crash before the commit leaves a harmless
//     mark; after it, the mark and the outbox both exist.
//  2. ApplyEffects, under the org's "effects" lease (one applier at a
//     time, so index changes keep commit order), applies the outbox's
//     entries from the head and trims them. Index changes are SADD/SREM,
//     idempotent; an event is appended by a script that remembers the
//     entry's id beside the stream (same slot), so a repeat returns the
//     first append's id instead of appending again.
//  3. With the outbox empty, the mark is removed once it is older than
//     store.EffectsGrace: a younger mark may belong to a commit in flight.

// effectEntry is one outbox item: an effect and the id that makes its
// event's append happen once.
type effectEntry struct {
	ID     string       `json:"id"`
	Effect store.Effect `json:"effect"`
}

// effectLease keeps one applier per org; it outlasts applying a page of
// the outbox by far.
const (
	effectLease     = "effects"
	effectLeaseTTL  = 10 * time.Second
	effectPage      = 100
	appliedEventTTL = 24 * time.Hour
)

var (
	// markScript: KEYS[1] the pending set, ARGV[1] the org.
	markScript = redis.NewScript(`
local t = redis.call("TIME")
redis.call("ZADD", KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000), ARGV[1])
return 1
`)
	// unmarkScript: KEYS[1] the pending set, ARGV[1] the org, ARGV[2] the
	// grace in milliseconds. Removes the mark if it is older than that.
	unmarkScript = redis.NewScript(`
local score = redis.call("ZSCORE", KEYS[1], ARGV[1])
if not score then return 0 end
local t = redis.call("TIME")
if tonumber(score) <= t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[2]) then
	return redis.call("ZREM", KEYS[1], ARGV[1])
end
return 0
`)
	// appendOnceScript: KEYS[1] the event stream, KEYS[2] the applied
	// marker of the entry; ARGV[1] the payload, ARGV[2] the stream's
	// length, ARGV[3] the marker's lifetime in seconds. Returns the id of
	// the event, appended now or earlier.
	appendOnceScript = redis.NewScript(`
local id = redis.call("GET", KEYS[2])
if id then return id end
id = redis.call("XADD", KEYS[1], "MAXLEN", "~", ARGV[2], "*", "payload", ARGV[1])
redis.call("SET", KEYS[2], id, "EX", ARGV[3])
return id
`)
)

// AddEffect implements store.OrgTx: the effect goes to the outbox in the
// commit.
func (t *orgTx) AddEffect(e store.Effect) {
	for _, c := range e.Index {
		if err := backend.CheckIndexChange(c); err != nil {
			t.fail(fmt.Errorf("AddEffect: %w", err))
			return
		}
	}
	data, err := json.Marshal(effectEntry{ID: rand.Text(), Effect: e})
	if err != nil {
		t.fail(fmt.Errorf("redisstore: encode effect: %w", err))
		return
	}
	t.effects = append(t.effects, data)
}

// ApplyEffects implements store.Store (see the steps above). While
// another process holds the org's lease, it waits for that one to finish.
func (s *Store) ApplyEffects(ctx context.Context, orgID string) error {
	if err := backend.CheckOrgID(orgID); err != nil {
		return err
	}
	owner := rand.Text()
	for {
		n, err := s.client.LLen(ctx, outboxKey(orgID)).Result()
		if err != nil {
			return redisErr(ctx, "apply effects", err)
		}
		if n == 0 {
			err := unmarkScript.Run(ctx, s.client, []string{pendingKey}, orgID, store.EffectsGrace.Milliseconds()).Err()
			if err != nil {
				return redisErr(ctx, "apply effects", err)
			}
			return nil
		}
		held, err := s.AcquireLease(ctx, orgID, effectLease, owner, effectLeaseTTL)
		if err != nil {
			return err
		}
		if !held {
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return fmt.Errorf("redisstore: apply effects: %w", err)
			}
			continue
		}
		err = s.drainOutbox(ctx, orgID)
		if rerr := s.ReleaseLease(context.WithoutCancel(ctx), orgID, effectLease, owner); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
}

// drainOutbox applies the org's outbox from its head until it is empty.
// Only the lease holder calls it, and writers only append at the tail, so
// trimming the applied head is safe.
func (s *Store) drainOutbox(ctx context.Context, orgID string) error {
	return s.drainOutboxWith(ctx, orgID, true)
}

// drainOutboxWith is drainOutbox; without trim (for tests of a crash), it
// applies one page and leaves it in place.
func (s *Store) drainOutboxWith(ctx context.Context, orgID string, trim bool) error {
	key := outboxKey(orgID)
	for {
		items, err := s.client.LRange(ctx, key, 0, effectPage-1).Result()
		if err != nil {
			return redisErr(ctx, "apply effects", err)
		}
		if len(items) == 0 {
			return nil
		}
		for _, item := range items {
			var e effectEntry
			if err := json.Unmarshal([]byte(item), &e); err != nil {
				return fmt.Errorf("%s: malformed effect: %w", at(key), err)
			}
			if err := s.applyEffect(ctx, e); err != nil {
				return err
			}
		}
		if !trim {
			return nil
		}
		if err := s.client.LTrim(ctx, key, int64(len(items)), -1).Err(); err != nil {
			return redisErr(ctx, "apply effects", err)
		}
	}
}

func (s *Store) applyEffect(ctx context.Context, e effectEntry) error {
	if len(e.Effect.Index) > 0 {
		// One command per set: the sets spread over the cluster.
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range e.Effect.Index {
				if c.Remove {
					p.SRem(ctx, indexKey(c.Index, c.Key), c.Member)
				} else {
					p.SAdd(ctx, indexKey(c.Index, c.Key), c.Member)
				}
			}
			return nil
		})
		if err != nil {
			return redisErr(ctx, "apply effects: index", err)
		}
	}
	if e.Effect.Event == nil {
		return nil
	}
	err := appendOnceScript.Run(ctx, s.client, []string{eventsKey, appliedKey(e.ID)},
		e.Effect.Event, s.maxEvents, int64(appliedEventTTL/time.Second)).Err()
	if err != nil {
		return redisErr(ctx, "apply effects: append event", err)
	}
	return nil
}

// PendingEffects implements store.Store.
func (s *Store) PendingEffects(ctx context.Context) ([]string, error) {
	orgs, err := s.client.ZRange(ctx, pendingKey, 0, -1).Result()
	if err != nil {
		return nil, redisErr(ctx, "pending effects", err)
	}
	return orgs, nil
}
