package boltstore

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/internal/backend"
)

// TestMalformed: bad stored data is reported as such, never as an outage,
// a missing record, or a panic.
func TestMalformed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	id := backend.ActivityID{Ms: uint64(time.Now().UnixMilli())}
	cases := map[string]struct {
		bucket, key []byte
		call        func() error
	}{
		"conn": {connBucket, []byte("org-1"), func() error { _, err := s.Snapshot(ctx, "org-1", nil); return err }},
		"settings read by Update": {settingsBucket, []byte("org-2"), func() error {
			return s.Update(ctx, "org-2", func(tx store.OrgTx) error { _, err := tx.Settings(); return err })
		}},
		"member": {memberBucket, userKey("org-3", "u"), func() error { _, err := s.ListMembers(ctx, "org-3", "", 10); return err }},
		"personal": {personalBucket, userKey("org-4", "u"), func() error {
			_, err := s.Snapshot(ctx, "org-4", []string{"u"})
			return err
		}},
		"activity entry": {activityBucket, activityKey("org-5", id), func() error { _, err := s.ListActivity(ctx, "org-5", "", 10); return err }},
		"activity key": {activityBucket, append(orgPrefix("org-6"), 1, 2, 3), func() error {
			_, err := s.ListActivity(ctx, "org-6", "", 10)
			return err
		}},
		"activity key on append": {activityBucket, append(orgPrefix("org-7"), 1, 2, 3), func() error {
			return s.Update(ctx, "org-7", func(tx store.OrgTx) error {
				tx.AppendActivity(store.ActivityEntry{Time: time.Now()})
				return nil
			})
		}},
		"oauth state": {stateBucket, stateKey("org-8", []byte{1}), func() error { _, err := s.TakeOAuthState(ctx, "org-8", []byte{1}); return err }},
		"meeting":     {meetingBucket, userKey("org-9", "b"), func() error { _, err := s.GetMeeting(ctx, "org-9", "b"); return err }},
		"meeting read by Update": {meetingBucket, userKey("org-10", "b"), func() error {
			return s.Update(ctx, "org-10", func(tx store.OrgTx) error { _, err := tx.Meeting("b"); return err })
		}},
		"lease": {leaseBucket, userKey("org-11", "l"), func() error {
			_, err := s.AcquireLease(ctx, "org-11", "l", "o", time.Minute)
			return err
		}},
		"lease released": {leaseBucket, userKey("org-12", "l"), func() error { return s.ReleaseLease(ctx, "org-12", "l", "o") }},
		"dedupe key":     {seenBucket, seenKey("dup"), func() error { _, err := s.EnqueueWebhook(ctx, "dup", nil); return err }},
		"inbox item":     {inboxBucket, seqKey(1), func() error { _, err := s.ClaimWebhooks(ctx, "c", 10, 0); return err }},
		"event key":      {eventBucket, []byte{1, 2, 3}, func() error { _, err := s.ReadEvents(ctx, "0", 10, 0); return err }},
	}
	for name, tc := range cases {
		err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(tc.bucket).Put(tc.key, []byte("{not json")) })
		if err != nil {
			t.Fatal(err)
		}
		err = tc.call()
		if err == nil || !strings.Contains(err.Error(), "malformed") || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want a malformed-record error", name, err)
		}
	}
}
