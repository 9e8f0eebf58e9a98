package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/storetest"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "zoomconnect.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestEventsTrimmed: the stream keeps the newest maxEvents (a knob, not
// to append store.MaxEvents events), and a reader resuming after an event
// that was trimmed gets the oldest kept.
func TestEventsTrimmed(t *testing.T) {
	s := openInternal(t)
	s.maxEvents = 10
	ctx := t.Context()
	for i := 1; i <= 25; i++ {
		id, err := storetest.AppendEvent(ctx, s, fmt.Appendf(nil, "event %d", i))
		if err != nil {
			t.Fatalf("AppendEvent: %v", err)
		}
		if want := fmt.Sprintf("%d-0", i); id != want {
			t.Fatalf("AppendEvent #%d = %s, want %s", i, id, want)
		}
	}
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(eventBucket).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("%d events stored, want 10", n)
	}
	for _, after := range []string{"0", "3-0"} {
		events, err := s.ReadEvents(ctx, after, 100, 0)
		if err != nil {
			t.Fatalf("ReadEvents(%s): %v", after, err)
		}
		if len(events) != 10 || events[0].ID != "16-0" || string(events[0].Payload) != "event 16" || events[9].ID != "25-0" {
			t.Errorf("ReadEvents(%s) = %d events from %+v; want the 10 newest, from 16-0", after, len(events), events[:min(len(events), 1)])
		}
	}
	// IDs of other backends' shape: the events after 16-5 start at 17.
	if events, err := s.ReadEvents(ctx, "16-5", 1, 0); err != nil || len(events) != 1 || events[0].ID != "17-0" {
		t.Errorf("ReadEvents(16-5) = %+v, %v; want 17-0", events, err)
	}
	if events, err := s.ReadEvents(ctx, "18446744073709551615-0", 1, 0); err != nil || len(events) != 0 {
		t.Errorf("ReadEvents after the largest ID = %+v, %v; want none", events, err)
	}
}

// TestReadEventsClosed: Close ends a wait for events.
func TestReadEventsClosed(t *testing.T) {
	s := openInternal(t)
	done := make(chan error, 1)
	go func() {
		_, err := s.ReadEvents(t.Context(), "", 10, time.Minute)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("ReadEvents ended by Close: err = %v, want store.ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadEvents still waiting 5s after Close")
	}
}

// TestDedupeExpires: a dedupe key is remembered for the window, and then
// swept.
func TestDedupeExpires(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	enqueue := func(key string) bool {
		t.Helper()
		ok, err := s.EnqueueWebhook(ctx, key, []byte("body"))
		if err != nil {
			t.Fatalf("EnqueueWebhook: %v", err)
		}
		return ok
	}
	if !enqueue("k1") || !enqueue("k2") || enqueue("k1") {
		t.Fatal("EnqueueWebhook did not dedupe k1 alone")
	}
	if err := s.sweep(time.Now().Add(store.WebhookDedupeWindow - time.Minute)); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if enqueue("k1") {
		t.Fatal("a dedupe key within its window was swept")
	}
	if err := s.sweep(time.Now().Add(store.WebhookDedupeWindow + time.Minute)); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(seenBucket).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d dedupe keys left after the window, want 0", n)
	}
	if !enqueue("k1") {
		t.Fatal("a dedupe key past its window still dedupes")
	}
	// The inbox holds every webhook enqueued, in order.
	ds, err := s.ClaimWebhooks(ctx, "c", 10, 0)
	if err != nil || len(ds) != 3 || ds[0].ID != "1-0" || ds[2].ID != "3-0" || !bytes.Equal(ds[2].Body, []byte("body")) {
		t.Errorf("ClaimWebhooks = %+v, %v; want 1-0, 2-0, 3-0", ds, err)
	}
}
