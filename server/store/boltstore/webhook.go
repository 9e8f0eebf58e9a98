package boltstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// inboxItem is the value of a queued webhook in the inbox bucket.
type inboxItem struct {
	Body []byte `json:"body"`
	// Deliveries counts the claims so far; 0 until the first.
	Deliveries int `json:"deliveries,omitempty"`
	// Consumer holds the item since ClaimedAt; "" before the first claim.
	Consumer  string    `json:"consumer,omitempty"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
}

// seen is the value of a dedupe key in the seen bucket; the janitor
// deletes it once expired (see sweep).
type seen struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// EnqueueWebhook implements store.Store in one write transaction, which
// bbolt syncs to disk before it returns. Concurrent enqueues share one
// transaction and one sync (bolt.DB.Batch): a burst of Zoom events would
// otherwise queue behind one disk sync each, and Zoom wants its answer
// within three seconds.
func (s *Store) EnqueueWebhook(ctx context.Context, dedupeKey string, body []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("boltstore: enqueue webhook: %w", err)
	}
	if err := backend.CheckDedupeKey(dedupeKey); err != nil {
		return false, fmt.Errorf("boltstore: enqueue webhook: %w", err)
	}
	seenKey := seenKey(dedupeKey)
	var enqueued bool
	var fnErr error // what fn failed with, as opposed to the commit
	// Batch may run fn again (in a transaction of its own) when another
	// function of the batch failed: fn starts from scratch each time.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		enqueued, fnErr = enqueue(tx, seenKey, body)
		return fnErr
	})
	switch {
	case err != nil && err == fnErr:
		return false, err
	case err != nil:
		return false, unavailable("enqueue webhook", err)
	}
	return enqueued, nil
}

// enqueue queues body unless its dedupe key was seen within the window.
func enqueue(tx *bolt.Tx, seenKey, body []byte) (bool, error) {
	prev, err := get[seen](tx, seenBucket, seenKey)
	if err != nil {
		return false, err
	}
	// The clock is read inside the transaction, like AcquireLease's.
	now := time.Now()
	if prev != nil && prev.ExpiresAt.After(now) {
		return false, nil
	}
	inbox := tx.Bucket(inboxBucket)
	seq, err := inbox.NextSequence()
	if err != nil {
		return false, fmt.Errorf("boltstore: enqueue webhook: %w", err)
	}
	if err := putJSON(inbox, seqKey(seq), inboxItem{Body: body}); err != nil {
		return false, fmt.Errorf("boltstore: enqueue webhook: %w", err)
	}
	if err := putJSON(tx.Bucket(seenBucket), seenKey, seen{ExpiresAt: now.Add(store.WebhookDedupeWindow)}); err != nil {
		return false, fmt.Errorf("boltstore: enqueue webhook: %w", err)
	}
	return true, nil
}

// ClaimWebhooks implements store.Store in one write transaction: a walk of
// the inbox in queueing order, which takes the items never claimed and
// those whose claim is minIdle old (whoever holds them: a consumer that
// restarted under the same name gets its items back too).
func (s *Store) ClaimWebhooks(ctx context.Context, consumer string, limit int, minIdle time.Duration) ([]store.WebhookDelivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: claim webhooks: %w", err)
	}
	if err := backend.CheckClaim(consumer, limit, minIdle); err != nil {
		return nil, fmt.Errorf("boltstore: claim webhooks: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return nil, unavailable("claim webhooks", err)
	}
	defer tx.Rollback()
	b := tx.Bucket(inboxBucket)
	now := time.Now()
	type claim struct {
		key  []byte
		item *inboxItem
	}
	var claims []claim
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(claims) < limit; k, v = c.Next() {
		if len(k) != 8 {
			return nil, fmt.Errorf("%s: malformed key", where(inboxBucket, k))
		}
		item, err := backend.Decode[inboxItem](where(inboxBucket, k), v)
		if err != nil {
			return nil, err
		}
		if item.Consumer != "" && now.Sub(item.ClaimedAt) < minIdle {
			continue // held
		}
		item.Consumer, item.ClaimedAt = consumer, now
		item.Deliveries++
		claims = append(claims, claim{key: k, item: item})
	}
	out := make([]store.WebhookDelivery, 0, len(claims))
	// Written after the walk: a cursor may skip keys after a write.
	for _, cl := range claims {
		if err := putJSON(b, cl.key, cl.item); err != nil {
			return nil, fmt.Errorf("%s: claim webhooks: %w", where(inboxBucket, cl.key), err)
		}
		out = append(out, store.WebhookDelivery{
			ID:         seqID(binary.BigEndian.Uint64(cl.key)),
			Body:       cl.item.Body, // decoded: not memory of the transaction
			Deliveries: cl.item.Deliveries,
		})
	}
	if len(claims) == 0 {
		return out, nil
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable("claim webhooks", err)
	}
	return out, nil
}

// AckWebhook implements store.Store. Acknowledging a webhook that is not
// queued (any more) does nothing.
func (s *Store) AckWebhook(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: ack webhook: %w", err)
	}
	parsed, err := backend.ParseWebhookID(id)
	if err != nil {
		return fmt.Errorf("boltstore: ack webhook: %w", err)
	}
	if parsed.Seq != 0 {
		return nil // not an ID of this store: nothing queued has it
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable("ack webhook", err)
	}
	defer tx.Rollback()
	key := seqKey(parsed.Ms)
	b := tx.Bucket(inboxBucket)
	if b.Get(key) == nil {
		return nil
	}
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("%s: ack webhook: %w", where(inboxBucket, key), err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable("ack webhook", err)
	}
	return nil
}

// seenKey is the key of a dedupe key in the seen bucket: hashed, since a
// dedupe key may be long.
func seenKey(dedupeKey string) []byte {
	sum := sha256.Sum256([]byte(dedupeKey))
	return sum[:]
}

// seqKey is the key of the inbox item or event of sequence number seq.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// seqID is the ID of the inbox item or event of sequence number seq,
// shaped like a Redis stream ID (see backend.ActivityID).
func seqID(seq uint64) string { return strconv.FormatUint(seq, 10) + "-0" }

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
