package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// A lease is a string key holding its owner, which expires with the lease:
// Redis frees it by itself. Each operation is one script over one key, so
// it is atomic and, in a cluster, runs on the node of the org's slot.
// Script.Run sends EVALSHA, and EVAL once per node whose script cache
// lacks the script.
var (
	// acquireScript: KEYS[1] the lease, ARGV[1] the owner, ARGV[2] the
	// ttl in milliseconds. Returns 1 if the owner holds the lease now.
	acquireScript = redis.NewScript(`
local holder = redis.call("GET", KEYS[1])
if holder == false or holder == ARGV[1] then
	redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
	return 1
end
return 0
`)
	// releaseScript: KEYS[1] the lease, ARGV[1] the owner. Deletes the
	// lease if the owner holds it; returns the number of keys deleted.
	releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)
)

// AcquireLease implements store.Store. Redis keeps milliseconds: a ttl
// is rounded up to the next one.
func (s *Store) AcquireLease(ctx context.Context, orgID, name, owner string, ttl time.Duration) (bool, error) {
	if err := backend.CheckLease(orgID, name, owner); err != nil {
		return false, err
	}
	if err := backend.CheckLeaseTTL(ttl); err != nil {
		return false, err
	}
	ms := ttl.Milliseconds()
	if ttl%time.Millisecond != 0 {
		ms++
	}
	held, err := acquireScript.Run(ctx, s.client, []string{leaseKey(orgID, name)}, owner, ms).Int()
	if err != nil {
		return false, redisErr(ctx, "acquire lease", err)
	}
	return held == 1, nil
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(ctx context.Context, orgID, name, owner string) error {
	if err := backend.CheckLease(orgID, name, owner); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.client, []string{leaseKey(orgID, name)}, owner).Err(); err != nil {
		return redisErr(ctx, "release lease", err)
	}
	return nil
}
