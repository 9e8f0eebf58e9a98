package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// lease is the value of a held lease in the leases bucket. A lease whose
// ExpiresAt has passed is free; the janitor deletes it eventually.
type lease struct {
	Owner     string    `json:"owner"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AcquireLease implements store.Store in one write transaction.
func (s *Store) AcquireLease(ctx context.Context, orgID, name, owner string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("boltstore: acquire lease: %w", err)
	}
	if err := backend.CheckLease(orgID, name, owner); err != nil {
		return false, fmt.Errorf("boltstore: acquire lease: %w", err)
	}
	if err := backend.CheckLeaseTTL(ttl); err != nil {
		return false, fmt.Errorf("boltstore: acquire lease: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return false, unavailable("acquire lease", err)
	}
	defer tx.Rollback()
	key := userKey(orgID, name)
	held, err := get[lease](tx, leaseBucket, key)
	if err != nil {
		return false, err
	}
	// The clock is read inside the transaction: bbolt has a single
	// writer, so no other acquisition comes between it and the write.
	now := time.Now()
	if held != nil && held.Owner != owner && held.ExpiresAt.After(now) {
		return false, nil
	}
	data, err := json.Marshal(lease{Owner: owner, ExpiresAt: now.Add(ttl)})
	if err == nil {
		err = tx.Bucket(leaseBucket).Put(key, data)
	}
	if err != nil {
		return false, fmt.Errorf("%s: acquire lease: %w", where(leaseBucket, key), err)
	}
	if err := tx.Commit(); err != nil {
		return false, unavailable("acquire lease", err)
	}
	return true, nil
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(ctx context.Context, orgID, name, owner string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: release lease: %w", err)
	}
	if err := backend.CheckLease(orgID, name, owner); err != nil {
		return fmt.Errorf("boltstore: release lease: %w", err)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable("release lease", err)
	}
	defer tx.Rollback()
	key := userKey(orgID, name)
	held, err := get[lease](tx, leaseBucket, key)
	if err != nil || held == nil || held.Owner != owner {
		return err
	}
	if err := tx.Bucket(leaseBucket).Delete(key); err != nil {
		return fmt.Errorf("%s: release lease: %w", where(leaseBucket, key), err)
	}
	if err := tx.Commit(); err != nil {
		return unavailable("release lease", err)
	}
	return nil
}
