package redisstore_test

import (
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

// TestEffectsReplayed: a process that applied an outbox entry but died
// before forgetting it leaves it for the next applier, which must not
// append its event a second time nor undo a later index change.
func TestEffectsReplayed(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	org := orgID(t)
	update(t, s, org, func(tx store.OrgTx) {
		tx.AddEffect(store.Effect{
			Index: []store.IndexChange{{Index: "replay", Key: org, Member: "m"}},
			Event: []byte("replayed " + org),
		})
	})
	if err := redisstore.ApplyWithoutForgetting(s, org); err != nil {
		t.Fatalf("applying without forgetting: %v", err)
	}
	pending, err := s.PendingEffects(t.Context())
	if err != nil || !slices.Contains(pending, org) {
		t.Fatalf("PendingEffects = %q, %v; want %s listed", pending, err, org)
	}
	for range 2 {
		if err := s.ApplyEffects(t.Context(), org); err != nil {
			t.Fatalf("ApplyEffects: %v", err)
		}
	}
	events, err := s.ReadEvents(t.Context(), "0", 10_000, 0)
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	n := 0
	for _, e := range events {
		if string(e.Payload) == "replayed "+org {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the event is in the stream %d times, want once", n)
	}
	if l, err := admin.LLen(t.Context(), "zc:{org:"+org+"}:outbox").Result(); err != nil || l != 0 {
		t.Errorf("outbox length = %d, %v; want 0", l, err)
	}
	// Applied, but marked until store.EffectsGrace has passed: a commit
	// marked just before may be in flight.
	if pending, err := s.PendingEffects(t.Context()); err != nil || !slices.Contains(pending, org) {
		t.Errorf("PendingEffects right after = %q, %v; want %s still listed", pending, err, org)
	}
	if err := admin.ZAdd(t.Context(), "zc:effects:pending", redis.Z{Member: org, Score: 1}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyEffects(t.Context(), org); err != nil {
		t.Fatalf("ApplyEffects: %v", err)
	}
	if pending, err := s.PendingEffects(t.Context()); err != nil || slices.Contains(pending, org) {
		t.Errorf("PendingEffects after the grace = %q, %v; want %s gone", pending, err, org)
	}
}
