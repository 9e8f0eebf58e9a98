package redisstore

import (
	"context"
	"slices"

	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// An index key is a set of its members; each call is one command on it.

// IndexAdd implements store.Store with SADD.
func (s *Store) IndexAdd(ctx context.Context, index, key, member string) error {
	if err := checkIndex(index, key, member); err != nil {
		return err
	}
	if err := s.client.SAdd(ctx, indexKey(index, key), member).Err(); err != nil {
		return redisErr(ctx, "index add", err)
	}
	return nil
}

// IndexRemove implements store.Store with SREM; Redis deletes a set that
// becomes empty.
func (s *Store) IndexRemove(ctx context.Context, index, key, member string) error {
	if err := checkIndex(index, key, member); err != nil {
		return err
	}
	if err := s.client.SRem(ctx, indexKey(index, key), member).Err(); err != nil {
		return redisErr(ctx, "index remove", err)
	}
	return nil
}

// IndexMembers implements store.Store with SMEMBERS; the members are
// returned sorted, like bbolt's.
func (s *Store) IndexMembers(ctx context.Context, index, key string) ([]string, error) {
	if err := backend.CheckIndexKey(index, key); err != nil {
		return nil, err
	}
	members, err := s.client.SMembers(ctx, indexKey(index, key)).Result()
	if err != nil {
		return nil, redisErr(ctx, "index members", err)
	}
	slices.Sort(members)
	return members, nil
}

func checkIndex(index, key, member string) error {
	if err := backend.CheckIndexKey(index, key); err != nil {
		return err
	}
	return backend.CheckIndexMember(member)
}
