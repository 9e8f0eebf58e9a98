package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// ApplyEffect commits e as the only effect of an Update of a fresh org and
// applies it: the one way the contract lets anyone change an index or
// append an event. Backend tests use it too.
func ApplyEffect(ctx context.Context, s store.Store, e store.Effect) error {
	orgID := "storetest-effects-" + rand.Text()[:10]
	if err := s.Update(ctx, orgID, func(tx store.OrgTx) error { tx.AddEffect(e); return nil }); err != nil {
		return err
	}
	return s.ApplyEffects(ctx, orgID)
}

// AppendEvent appends payload through ApplyEffect and returns its id, read
// back as the newest: the caller must be the only one appending.
func AppendEvent(ctx context.Context, s store.Store, payload []byte) (string, error) {
	if payload == nil {
		payload = []byte{}
	}
	if err := ApplyEffect(ctx, s, store.Effect{Event: payload}); err != nil {
		return "", err
	}
	return s.LastEventID(ctx)
}

// eventsOf returns the events after `after` whose payload starts with
// prefix, failing the test on an error.
func eventsOf(t *testing.T, s store.Store, after, prefix string) []string {
	t.Helper()
	var payloads []string
	for _, e := range readAll(t, s, after, prefix) {
		payloads = append(payloads, string(e.Payload))
	}
	return payloads
}

// testEffects: an Update's effects are applied once, in commit order, and
// those of an aborted Update never.
func testEffects(t *testing.T, s store.Store) {
	orgID, index, p := newOrgID(t), newIndexName(), newPrefix(t)
	start, err := s.LastEventID(t.Context())
	if err != nil {
		t.Fatalf("LastEventID: %v", err)
	}
	add := func(m string) store.IndexChange { return store.IndexChange{Index: index, Key: "k", Member: m} }
	remove := func(m string) store.IndexChange {
		return store.IndexChange{Index: index, Key: "k", Member: m, Remove: true}
	}
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetOrgConnection(fullConn(orgID))
		tx.AddEffect(store.Effect{Index: []store.IndexChange{add("a"), add("b")}, Event: []byte(p + "1")})
		tx.AddEffect(store.Effect{Event: []byte(p + "2")})
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{remove("a"), add("c"), remove("c")}, Event: []byte(p + "3")})
		return nil
	})
	aborted := fmt.Errorf("abort")
	if err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{add("never")}, Event: []byte(p + "never")})
		return aborted
	}); err != aborted {
		t.Fatalf("aborted Update = %v, want its own error", err)
	}
	for range 3 { // idempotent
		if err := s.ApplyEffects(t.Context(), orgID); err != nil {
			t.Fatalf("ApplyEffects: %v", err)
		}
	}
	wantMembers(t, s, index, "k", "b")
	assertEqual(t, "events", eventsOf(t, s, start, p), []string{p + "1", p + "2", p + "3"})
}

// testEffectsConcurrent: many appliers at once (as every replica's relay
// and the writers themselves are) still apply each effect once, in order.
func testEffectsConcurrent(t *testing.T, s store.Store) {
	orgID, index, p := newOrgID(t), newIndexName(), newPrefix(t)
	start, err := s.LastEventID(t.Context())
	if err != nil {
		t.Fatalf("LastEventID: %v", err)
	}
	const n = 20
	var want []string
	for i := range n {
		// Each change undoes the previous index entry: a replay out of
		// order would leave more than the last.
		changes := []store.IndexChange{{Index: index, Key: "k", Member: fmt.Sprint(i)}}
		if i > 0 {
			changes = append(changes, store.IndexChange{Index: index, Key: "k", Member: fmt.Sprint(i - 1), Remove: true})
		}
		update(t, s, orgID, func(tx store.OrgTx) error {
			tx.AddEffect(store.Effect{Index: changes, Event: fmt.Appendf(nil, "%s%02d", p, i)})
			return nil
		})
		want = append(want, fmt.Sprintf("%s%02d", p, i))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.ApplyEffects(context.WithoutCancel(t.Context()), orgID); err != nil {
				t.Errorf("ApplyEffects: %v", err)
			}
		})
	}
	wg.Wait()
	wantMembers(t, s, index, "k", fmt.Sprint(n-1))
	assertEqual(t, "events", eventsOf(t, s, start, p), want)
}

// testEffectsPending: until its effects are applied, an org is listed as
// pending (a backend that applies them in the commit lists nothing), so a
// relay finds what a writer that died after its commit left behind.
func testEffectsPending(t *testing.T, s store.Store) {
	orgID, index := newOrgID(t), newIndexName()
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: index, Key: "k", Member: orgID}}})
		return nil
	})
	applied, err := s.IndexMembers(t.Context(), index, "k")
	if err != nil {
		t.Fatalf("IndexMembers: %v", err)
	}
	pending, err := s.PendingEffects(t.Context())
	if err != nil {
		t.Fatalf("PendingEffects: %v", err)
	}
	if len(applied) == 0 && !slices.Contains(pending, orgID) {
		t.Fatalf("after a commit, the effect is neither applied nor its org (%s) pending (%q)", orgID, pending)
	}
	for _, org := range pending {
		if err := s.ApplyEffects(t.Context(), org); err != nil {
			t.Fatalf("ApplyEffects(%s): %v", org, err)
		}
	}
	wantMembers(t, s, index, "k", orgID)
}

// testEffectsDoNotNotify: no Snapshot reads indexes or events, so an Update
// that writes only a meeting and effects (indexing a meeting, taking a
// lookup off a queue) notifies nobody, like one of meetings alone.
func testEffectsDoNotNotify(t *testing.T, s store.Store) {
	orgID, index := newOrgID(t), newIndexName()
	ch := subscribe(t, t.Context(), s, orgID)
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.SetMeeting(minimalMeeting(orgID, "booking-1"))
		tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: index, Key: "k", Member: orgID}}})
		return nil
	})
	update(t, s, orgID, func(tx store.OrgTx) error {
		tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: index, Key: "k", Member: orgID, Remove: true}}})
		return nil
	})
	if err := s.ApplyEffects(t.Context(), orgID); err != nil {
		t.Fatalf("ApplyEffects: %v", err)
	}
	assertQuiet(t, ch, "Updates that wrote only a meeting and effects")
	wantMembers(t, s, index, "k") // they did commit, in order
}
