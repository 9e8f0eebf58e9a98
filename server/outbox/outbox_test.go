package outbox_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

func newStore(t *testing.T) store.Store {
	s, err := redisstore.New(t.Context(), redistest.StartStandalone(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func indexed(t *testing.T, s store.Store, key string) bool {
	members, err := s.IndexMembers(t.Context(), "test", key)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(members, "org-1")
}

// commitOnly commits an effect without applying it, as a writer that died
// right after its commit leaves it.
func commitOnly(t *testing.T, s store.Store, key string) {
	err := s.Update(t.Context(), "org-1", func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: "test", Key: key, Member: "org-1"}}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUpdateAppliesAtOnce(t *testing.T) {
	s := newStore(t)
	r := outbox.New(s, nil)
	err := r.Update(t.Context(), "org-1", func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: "test", Key: "now", Member: "org-1"}}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !indexed(t, s, "now") {
		t.Fatal("Update returned before applying the effect")
	}
}

func TestFlushAppliesWhatWasLeft(t *testing.T) {
	s := newStore(t)
	commitOnly(t, s, "left")
	if indexed(t, s, "left") {
		t.Fatal("the store applied the effect by itself: nothing to test")
	}
	if err := outbox.New(s, nil).Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !indexed(t, s, "left") {
		t.Fatal("Flush left the effect pending")
	}
}

func TestRunAppliesWithinTheBound(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- outbox.New(s, nil).Run(ctx) }()
	commitOnly(t, s, "later")
	start := time.Now()
	for !indexed(t, s, "later") {
		if time.Since(start) > 2*outbox.Interval+time.Second {
			t.Fatalf("not applied within %v", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
