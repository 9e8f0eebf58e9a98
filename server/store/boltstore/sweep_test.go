package boltstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
)

func TestSweep(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	for i, ttl := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		st := &store.OAuthState{OrgID: "org-1", IDHash: []byte{byte(i)}, ExpiresAt: now.Add(ttl)}
		if err := s.PutOAuthState(ctx, st); err != nil {
			t.Fatalf("PutOAuthState: %v", err)
		}
	}
	// Leases of a minute, and of an hour, as of now.
	for name, ttl := range map[string]time.Duration{"short": time.Minute, "long": time.Hour} {
		if held, err := s.AcquireLease(ctx, "org-1", name, "o", ttl); err != nil || !held {
			t.Fatalf("AcquireLease = %v, %v", held, err)
		}
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return errors.Join(
			tx.Bucket(stateBucket).Put(stateKey("org-1", []byte("bad")), []byte("{not json")),
			tx.Bucket(leaseBucket).Put(userKey("org-1", "bad"), []byte("{not json")),
		)
	})
	if err != nil {
		t.Fatal(err)
	}

	// Ten minutes later, only the one-hour state and lease are left.
	if err := s.sweep(now.Add(10 * time.Minute)); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	var left [][]byte
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(stateBucket).ForEach(func(k, _ []byte) error {
			left = append(left, append([]byte(nil), k...))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := stateKey("org-1", []byte{2}); len(left) != 1 || string(left[0]) != string(want) {
		t.Errorf("states left after sweep = %q, want only %q", left, want)
	}
	var leases []string
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(leaseBucket).ForEach(func(k, _ []byte) error {
			leases = append(leases, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := string(userKey("org-1", "long")); len(leases) != 1 || leases[0] != want {
		t.Errorf("leases left after sweep = %q, want only %q", leases, want)
	}
}
