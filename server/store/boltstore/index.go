package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// An index entry is a key of the indexes bucket, <index> NUL <key> NUL
// <member>, with an empty value: index names and keys have no NUL, so the
// members of one key are contiguous, sorted, and no others.

// applyEffect writes an effect inside the Update that queued it: the
// indexes and the events live in the same file, so the change and its
// effects commit together and nothing is ever pending. It reports whether
// an event was appended.
func (s *Store) applyEffect(tx *bolt.Tx, e store.Effect) (appended bool, err error) {
	for _, c := range e.Index {
		if err := backend.CheckIndexChange(c); err != nil {
			return false, err
		}
	}
	b := tx.Bucket(indexBucket)
	for _, c := range e.Index {
		k := append(indexPrefix(c.Index, c.Key), c.Member...)
		if c.Remove {
			err = b.Delete(k)
		} else {
			err = b.Put(k, nil)
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", where(indexBucket, k), err)
		}
	}
	if e.Event == nil {
		return false, nil
	}
	if err := s.appendEvent(tx, e.Event); err != nil {
		return false, err
	}
	return true, nil
}

// ApplyEffects implements store.Store: Update applied them already.
func (s *Store) ApplyEffects(ctx context.Context, orgID string) error {
	return begin(ctx, "apply effects", orgID)
}

// PendingEffects implements store.Store: none ever are.
func (s *Store) PendingEffects(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: pending effects: %w", err)
	}
	return nil, nil
}

// IndexMembers implements store.Store; the members come sorted.
func (s *Store) IndexMembers(ctx context.Context, index, key string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: index members: %w", err)
	}
	if err := backend.CheckIndexKey(index, key); err != nil {
		return nil, fmt.Errorf("boltstore: index members: %w", err)
	}
	var members []string
	err := s.view("index members", func(tx *bolt.Tx) error {
		prefix := indexPrefix(index, key)
		c := tx.Bucket(indexBucket).Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			members = append(members, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

func indexPrefix(index, key string) []byte {
	k := make([]byte, 0, len(index)+len(key)+2)
	k = append(k, index...)
	k = append(k, 0)
	k = append(k, key...)
	return append(k, 0)
}
