package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/store"
)

// The webhook tests run one at a time (see Run): the inbox is global.

// idleLong is a minIdle that no claim of a test outlives.
const idleLong = time.Hour

// newBody returns a body no other test or run queues.
func newBody(t *testing.T, what string) []byte {
	return []byte(t.Name() + " " + what + " " + rand.Text())
}

func enqueue(t *testing.T, s store.Store, dedupeKey string, body []byte) bool {
	t.Helper()
	enqueued, err := s.EnqueueWebhook(t.Context(), dedupeKey, body)
	if err != nil {
		t.Fatalf("EnqueueWebhook(%s): %v", dedupeKey, err)
	}
	return enqueued
}

// mustEnqueue queues body under a dedupe key of its own.
func mustEnqueue(t *testing.T, s store.Store, body []byte) {
	t.Helper()
	if !enqueue(t, s, rand.Text(), body) {
		t.Fatal("EnqueueWebhook of a new dedupe key: not enqueued")
	}
}

func claim(t *testing.T, s store.Store, consumer string, limit int, minIdle time.Duration) []store.WebhookDelivery {
	t.Helper()
	ds, err := s.ClaimWebhooks(t.Context(), consumer, limit, minIdle)
	if err != nil {
		t.Fatalf("ClaimWebhooks(%s, %d, %v): %v", consumer, limit, minIdle, err)
	}
	if len(ds) > limit {
		t.Fatalf("ClaimWebhooks(limit %d) handed out %d webhooks", limit, len(ds))
	}
	return ds
}

func ack(t *testing.T, s store.Store, ds ...store.WebhookDelivery) {
	t.Helper()
	for _, d := range ds {
		if err := s.AckWebhook(t.Context(), d.ID); err != nil {
			t.Fatalf("AckWebhook(%s): %v", d.ID, err)
		}
	}
}

// drainInbox empties the inbox, so that a test sees its own webhooks only.
func drainInbox(t *testing.T, s store.Store) {
	t.Helper()
	for {
		ds := claim(t, s, "drain", 100, 0)
		if len(ds) == 0 {
			return
		}
		ack(t, s, ds...)
	}
}

// wantDeliveries checks what a claim handed out, in order, and that the
// IDs are distinct and not empty.
func wantDeliveries(t *testing.T, what string, got []store.WebhookDelivery, bodies [][]byte, deliveries []int) {
	t.Helper()
	ok := len(got) == len(bodies)
	ids := map[string]bool{}
	for i := 0; ok && i < len(got); i++ {
		ok = string(got[i].Body) == string(bodies[i]) && got[i].Deliveries == deliveries[i] && got[i].ID != "" && !ids[got[i].ID]
		ids[got[i].ID] = true
	}
	if !ok {
		var g, w []string
		for _, d := range got {
			g = append(g, fmt.Sprintf("%s %.60q (deliveries %d)", d.ID, d.Body, d.Deliveries))
		}
		for i, b := range bodies {
			w = append(w, fmt.Sprintf("%.60q (deliveries %d)", b, deliveries[i]))
		}
		t.Fatalf("%s handed out\n\t%q\nwant\n\t%q", what, g, w)
	}
}

func testWebhookRoundTrip(t *testing.T, s store.Store) {
	drainInbox(t, s)
	bodies := [][]byte{everyByte(), newBody(t, "second"), {}, newBody(t, "fourth")}
	for _, b := range bodies {
		mustEnqueue(t, s, b)
	}
	first := claim(t, s, "a", 2, idleLong)
	wantDeliveries(t, "first claim (limit 2)", first, bodies[:2], []int{1, 1})
	rest := claim(t, s, "a", 10, idleLong)
	wantDeliveries(t, "second claim", rest, bodies[2:], []int{1, 1})
	if ds := claim(t, s, "b", 10, idleLong); len(ds) != 0 {
		t.Fatalf("a claim while all webhooks are held handed out %d", len(ds))
	}
	ack(t, s, first...)
	ack(t, s, rest...)
	// Acknowledged webhooks are gone, even for a claim of anything idle.
	if ds := claim(t, s, "b", 10, 0); len(ds) != 0 {
		t.Fatalf("a claim after every webhook was acknowledged handed out %d", len(ds))
	}
	// A second acknowledgement (say, by a consumer that was slow, after
	// another took the webhook over) does nothing.
	ack(t, s, first[0])
}

func testWebhookDedupe(t *testing.T, s store.Store) {
	drainInbox(t, s)
	key := rand.Text()
	b1, b2 := newBody(t, "first"), newBody(t, "retry")
	if !enqueue(t, s, key, b1) {
		t.Fatal("EnqueueWebhook of a new dedupe key: not enqueued")
	}
	if enqueue(t, s, key, b2) {
		t.Fatal("EnqueueWebhook of a duplicate dedupe key: enqueued")
	}
	other := newBody(t, "other key")
	if !enqueue(t, s, key+"x", other) {
		t.Fatal("EnqueueWebhook of another dedupe key: not enqueued")
	}
	ds := claim(t, s, "a", 10, idleLong)
	wantDeliveries(t, "claim", ds, [][]byte{b1, other}, []int{1, 1})
	ack(t, s, ds...)
	// The key is remembered for the window, processed or not.
	if enqueue(t, s, key, newBody(t, "late retry")) {
		t.Fatal("EnqueueWebhook of a duplicate of an acknowledged webhook: enqueued")
	}
	if ds := claim(t, s, "a", 10, 0); len(ds) != 0 {
		t.Fatalf("claim after duplicates handed out %d", len(ds))
	}
}

// testWebhookRedelivery: a webhook claimed but not acknowledged goes to
// another consumer once minIdle passed, counted as a second delivery,
// before the new ones (oldest first).
func testWebhookRedelivery(t *testing.T, s store.Store) {
	const minIdle = 100 * time.Millisecond
	drainInbox(t, s)
	b1, b2 := newBody(t, "first"), newBody(t, "second")
	mustEnqueue(t, s, b1)
	mustEnqueue(t, s, b2)
	held := claim(t, s, "a", 1, minIdle)
	wantDeliveries(t, "claim by a", held, [][]byte{b1}, []int{1})
	b3 := newBody(t, "third")
	mustEnqueue(t, s, b3)
	// b1 is held: b gets the next one.
	if ds := claim(t, s, "b", 1, idleLong); len(ds) != 1 || string(ds[0].Body) != string(b2) {
		t.Fatalf("claim by b = %+v, want only the new webhook %q", ds, b2)
	} else {
		ack(t, s, ds...)
	}
	time.Sleep(3 * minIdle)
	ds := claim(t, s, "b", 10, minIdle)
	wantDeliveries(t, "claim by b after a was idle", ds, [][]byte{b1, b3}, []int{2, 1})
	if ds[0].ID != held[0].ID {
		t.Errorf("webhook taken over has ID %s, was %s", ds[0].ID, held[0].ID)
	}
	// b's claim started the idle time anew: b1 was idle for 3*minIdle.
	if again := claim(t, s, "a", 10, 2*minIdle); len(again) != 0 {
		t.Fatalf("claim by a right after b took over handed out %d", len(again))
	}
	ack(t, s, ds...)
	// a, done late, acknowledges what b took over: nothing to do.
	ack(t, s, held...)
	time.Sleep(2 * minIdle)
	if again := claim(t, s, "a", 10, minIdle); len(again) != 0 {
		t.Fatalf("claim after every webhook was acknowledged handed out %d", len(again))
	}
}

func testConcurrentEnqueues(t *testing.T, s store.Store) {
	const writers = 50
	drainInbox(t, s)
	key := rand.Text()
	bodies := make([][]byte, writers)
	for i := range bodies {
		bodies[i] = newBody(t, fmt.Sprint("writer ", i))
	}
	won := exactlyOneWins(t, "writers queueing one dedupe key", writers, func(i int) (bool, error) {
		return s.EnqueueWebhook(t.Context(), key, bodies[i])
	})
	ds := claim(t, s, "a", 2*writers, idleLong)
	wantDeliveries(t, "claim", ds, [][]byte{bodies[won]}, []int{1})
	ack(t, s, ds...)
}

// testWebhooksDurable: what is queued, held or not, is there after a
// restart, and so are the dedupe keys.
func testWebhooksDurable(t *testing.T, open func(t *testing.T) (store.Store, func() store.Store)) {
	s, restart := open(t)
	drainInbox(t, s)
	key := rand.Text()
	b1, b2 := newBody(t, "held"), newBody(t, "queued")
	if !enqueue(t, s, key, b1) {
		t.Fatal("EnqueueWebhook of a new dedupe key: not enqueued")
	}
	mustEnqueue(t, s, b2)
	held := claim(t, s, "a", 1, idleLong)
	wantDeliveries(t, "claim before the restart", held, [][]byte{b1}, []int{1})

	s = restart()
	if enqueue(t, s, key, newBody(t, "retry")) {
		t.Fatal("EnqueueWebhook of a duplicate after a restart: enqueued")
	}
	ds := claim(t, s, "b", 10, 0)
	wantDeliveries(t, "claim after the restart", ds, [][]byte{b1, b2}, []int{2, 1})
	ack(t, s, ds...)
}

// testWebhookArguments: a caller's mistakes are rejected as such, and
// change nothing.
func testWebhookArguments(t *testing.T, s store.Store) {
	drainInbox(t, s)
	body := newBody(t, "held")
	mustEnqueue(t, s, body)
	held := claim(t, s, "a", 1, idleLong)
	calls := map[string]func() error{
		"EnqueueWebhook with no dedupe key": func() error { _, err := s.EnqueueWebhook(t.Context(), "", newBody(t, "x")); return err },
		"ClaimWebhooks by no consumer":      func() error { _, err := s.ClaimWebhooks(t.Context(), "", 10, 0); return err },
		"ClaimWebhooks by a consumer with NUL": func() error {
			_, err := s.ClaimWebhooks(t.Context(), "a\x00", 10, 0)
			return err
		},
		"ClaimWebhooks limit 0":      func() error { _, err := s.ClaimWebhooks(t.Context(), "b", 0, 0); return err },
		"ClaimWebhooks limit -1":     func() error { _, err := s.ClaimWebhooks(t.Context(), "b", -1, 0); return err },
		"ClaimWebhooks min idle -1s": func() error { _, err := s.ClaimWebhooks(t.Context(), "b", 10, -time.Second); return err },
	}
	for _, id := range []string{"", "0", "not an id", "1-2-3", "-1", held[0].ID + "x", " " + held[0].ID} {
		calls[fmt.Sprintf("AckWebhook(%q)", id)] = func() error { return s.AckWebhook(t.Context(), id) }
	}
	for name, call := range calls {
		rejected(t, name, call())
	}
	// The held webhook is still there, and nothing else was queued.
	wantDeliveries(t, "claim of everything idle", claim(t, s, "b", 10, 0), [][]byte{body}, []int{2})
	ack(t, s, held...)
}

// rejected reports an error that is not a rejection of the arguments.
func rejected(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: err = %v, want a rejection", what, err)
	}
}

// testGlobalCanceledContext: like testCanceledContext, for the inbox, the
// indexes and the events.
func testGlobalCanceledContext(t *testing.T, s store.Store) {
	drainInbox(t, s)
	body := newBody(t, "held")
	mustEnqueue(t, s, body)
	held := claim(t, s, "a", 1, idleLong)
	index := newIndexName()
	mustIndexAdd(t, s, index, "key", "m1")
	prefix := t.Name() + " " + rand.Text()
	orgID := newOrgID(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"EnqueueWebhook": func() error { _, err := s.EnqueueWebhook(ctx, rand.Text(), newBody(t, "canceled")); return err },
		"ClaimWebhooks":  func() error { _, err := s.ClaimWebhooks(ctx, "b", 10, 0); return err },
		"AckWebhook":     func() error { return s.AckWebhook(ctx, held[0].ID) },
		"IndexMembers":   func() error { _, err := s.IndexMembers(ctx, index, "key"); return err },
		"ApplyEffects":   func() error { return s.ApplyEffects(ctx, orgID) },
		"PendingEffects": func() error { _, err := s.PendingEffects(ctx); return err },
		"Update with effects": func() error {
			return s.Update(ctx, orgID, func(tx store.OrgTx) error {
				tx.AddEffect(store.Effect{Index: []store.IndexChange{{Index: index, Key: "key", Member: "m2"}}, Event: []byte(prefix)})
				return nil
			})
		},
		"ReadEvents": func() error { _, err := s.ReadEvents(ctx, "0", 10, time.Second); return err },
		"ReadEvents from now": func() error {
			_, err := s.ReadEvents(ctx, "", 10, time.Second)
			return err
		},
	}
	for name, call := range calls {
		wantCanceled(t, name, call())
	}
	// Nothing was queued, claimed, acknowledged, indexed or appended.
	wantDeliveries(t, "claim after canceled calls", claim(t, s, "c", 10, 0), [][]byte{body}, []int{2})
	ack(t, s, held...)
	wantMembers(t, s, index, "key", "m1")
	if events := readAll(t, s, "0", prefix); len(events) != 0 {
		t.Errorf("events after canceled calls: %q", events)
	}
}

func wantCanceled(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a canceled context: err = %v, want context.Canceled", what, err)
	}
}
