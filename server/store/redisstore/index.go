package redisstore

import (
	"context"
	"slices"

	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// An index key is a set of its members, changed by effects (effects.go).

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
