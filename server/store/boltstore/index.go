package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// An index entry is a key of the indexes bucket, <index> NUL <key> NUL
// <member>, with an empty value: index names and keys have no NUL, so the
// members of one key are contiguous, sorted, and no others.

// IndexAdd implements store.Store.
func (s *Store) IndexAdd(ctx context.Context, index, key, member string) error {
	return s.updateIndex(ctx, "index add", index, key, member, func(b *bolt.Bucket, k []byte) error {
		return b.Put(k, nil)
	})
}

// IndexRemove implements store.Store.
func (s *Store) IndexRemove(ctx context.Context, index, key, member string) error {
	return s.updateIndex(ctx, "index remove", index, key, member, func(b *bolt.Bucket, k []byte) error {
		return b.Delete(k)
	})
}

func (s *Store) updateIndex(ctx context.Context, op, index, key, member string, write func(*bolt.Bucket, []byte) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	if err := backend.CheckIndexKey(index, key); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	if err := backend.CheckIndexMember(member); err != nil {
		return fmt.Errorf("boltstore: %s: %w", op, err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable(op, err)
	}
	defer tx.Rollback()
	k := append(indexPrefix(index, key), member...)
	if err := write(tx.Bucket(indexBucket), k); err != nil {
		return fmt.Errorf("%s: %s: %w", where(indexBucket, k), op, err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable(op, err)
	}
	return nil
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
