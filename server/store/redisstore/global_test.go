package redisstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/store/storetest"
)

const (
	inboxKey  = "zc:{webhooks}:inbox"
	eventsKey = "zoomconnect:events"
)

// testEventsTrimmed: appending an event trims the stream to about the bound (a
// knob here, not to append store.MaxEvents events): "~" keeps whole stream
// nodes, of up to 100 entries by default.
func testEventsTrimmed(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	const bound, appends = 50, 1000
	redisstore.SetMaxEvents(s, bound)
	var last string
	for i := range appends {
		id, err := storetest.AppendEvent(t.Context(), s, fmt.Appendf(nil, "event %d", i))
		if err != nil {
			t.Fatalf("AppendEvent: %v", err)
		}
		last = id
	}
	n, err := admin.XLen(t.Context(), eventsKey).Result()
	if err != nil {
		t.Fatalf("XLEN: %v", err)
	}
	if n < bound || n > bound+100 {
		t.Errorf("stream of %d entries after %d appends with a bound of %d; want %d to %d", n, appends, bound, bound, bound+100)
	}
	events, err := s.ReadEvents(t.Context(), "0", appends, 0)
	if err != nil {
		t.Fatalf("ReadEvents: %v", err)
	}
	if int64(len(events)) != n || events[len(events)-1].ID != last {
		t.Errorf("ReadEvents(0) = %d events up to %s, want all %d kept up to %s", len(events), events[len(events)-1].ID, n, last)
	}
}

// testMalformedGlobal: bad data in the global keys is reported as such.
// It spoils keys that other tests use: it runs alone, and cleans up.
func testMalformedGlobal(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	ctx := t.Context()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	const indexKey = "zc:idx:malformed:k"
	cases := map[string]struct {
		spoil func() error
		call  func() error
	}{
		"inbox entry without its field": {
			spoil: func() error {
				return admin.XAdd(ctx, &redis.XAddArgs{Stream: inboxKey, Values: []string{"other", "x"}}).Err()
			},
			call: func() error { _, err := s.ClaimWebhooks(ctx, "c", 10, 0); return err },
		},
		"inbox of the wrong type": {
			spoil: func() error { return admin.Set(ctx, inboxKey, "x", 0).Err() },
			call:  func() error { _, err := s.EnqueueWebhook(ctx, "k", []byte("b")); return err },
		},
		"inbox of the wrong type claimed": {
			spoil: func() error { return admin.Set(ctx, inboxKey, "x", 0).Err() },
			call:  func() error { _, err := s.ClaimWebhooks(ctx, "c", 10, 0); return err },
		},
		"event without its field": {
			spoil: func() error {
				return admin.XAdd(ctx, &redis.XAddArgs{Stream: eventsKey, Values: []string{"other", "x"}}).Err()
			},
			call: func() error { _, err := s.ReadEvents(ctx, "0", 10, 0); return err },
		},
		"events of the wrong type": {
			spoil: func() error { return admin.Set(ctx, eventsKey, "x", 0).Err() },
			call:  func() error { _, err := storetest.AppendEvent(ctx, s, []byte("p")); return err },
		},
		"index of the wrong type": {
			spoil: func() error { return admin.Set(ctx, indexKey, "x", 0).Err() },
			call:  func() error { _, err := s.IndexMembers(ctx, "malformed", "k"); return err },
		},
		"index of the wrong type added to": {
			spoil: func() error { return admin.Set(ctx, indexKey, "x", 0).Err() },
			call: func() error {
				return storetest.ApplyEffect(ctx, s, store.Effect{Index: []store.IndexChange{{Index: "malformed", Key: "k", Member: "m"}}})
			},
		},
	}
	for name, tc := range cases {
		if err := admin.Del(ctx, inboxKey, eventsKey, indexKey).Err(); err != nil {
			t.Fatalf("DEL: %v", err)
		}
		if err := tc.spoil(); err != nil {
			t.Fatalf("%s: spoil: %v", name, err)
		}
		err := tc.call()
		if err == nil || !strings.Contains(err.Error(), "malformed") || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want a malformed-record error", name, err)
		}
	}
	if err := admin.Del(ctx, inboxKey, eventsKey, indexKey).Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
}

// testGlobalKeyScheme checks the documented keys of the global parts on
// real data, in a cluster: the inbox and the dedupe keys share a slot, an
// acknowledged webhook is deleted, not only acknowledged.
func testGlobalKeyScheme(t *testing.T, c *redistest.Cluster) {
	ctx := t.Context()
	s := newStore(t, c.URL())
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	dedupeKey := "key-scheme-" + orgID(t)
	if ok, err := s.EnqueueWebhook(ctx, dedupeKey, []byte("body")); err != nil || !ok {
		t.Fatalf("EnqueueWebhook = %v, %v", ok, err)
	}
	ds, err := s.ClaimWebhooks(ctx, "consumer-1", 100, time.Hour)
	if err != nil || len(ds) == 0 {
		t.Fatalf("ClaimWebhooks = %+v, %v; want the webhook", ds, err)
	}
	sum := sha256.Sum256([]byte(dedupeKey))
	seen := "zc:{webhooks}:seen:" + hex.EncodeToString(sum[:])
	index := "zc:idx:account:zoom-account-" + orgID(t)
	effect := store.Effect{
		Index: []store.IndexChange{{Index: "account", Key: strings.TrimPrefix(index, "zc:idx:account:"), Member: "org-1"}},
		Event: []byte("payload"),
	}
	if err := storetest.ApplyEffect(ctx, s, effect); err != nil {
		t.Fatalf("ApplyEffect: %v", err)
	}
	for key, typ := range map[string]string{inboxKey: "stream", seen: "string", index: "set", eventsKey: "stream"} {
		if got, err := cc.Type(ctx, key).Result(); err != nil || got != typ {
			t.Errorf("TYPE %s = %q, %v; want %s", key, got, err, typ)
		}
	}
	if ttl, err := cc.PTTL(ctx, seen).Result(); err != nil || ttl <= store.WebhookDedupeWindow-time.Minute || ttl > store.WebhookDedupeWindow {
		t.Errorf("PTTL of a dedupe key = %v, %v; want the window, %v", ttl, err, store.WebhookDedupeWindow)
	}
	slotInbox, err1 := cc.ClusterKeySlot(ctx, inboxKey).Result()
	slotSeen, err2 := cc.ClusterKeySlot(ctx, seen).Result()
	if err := errors.Join(err1, err2); err != nil || slotInbox != slotSeen {
		t.Errorf("inbox in slot %d, dedupe key in slot %d (%v); want one slot", slotInbox, slotSeen, err)
	}
	groups, err := cc.XInfoGroups(ctx, inboxKey).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != "zoomconnect" {
		t.Errorf("XINFO GROUPS of the inbox = %+v, %v; want the group zoomconnect", groups, err)
	}
	msgs, err := cc.XRange(ctx, eventsKey, "-", "+").Result()
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].Values["payload"] != "payload" {
		t.Errorf("XRANGE of the events = %v, %v; want the event's payload in the field payload", msgs, err)
	}
	for _, d := range ds {
		if err := s.AckWebhook(ctx, d.ID); err != nil {
			t.Fatalf("AckWebhook: %v", err)
		}
	}
	if n, err := cc.XLen(ctx, inboxKey).Result(); err != nil || n != 0 {
		t.Errorf("XLEN of the inbox after acknowledging everything = %d, %v; want 0", n, err)
	}
	if p, err := cc.XPending(ctx, inboxKey, "zoomconnect").Result(); err != nil || p.Count != 0 {
		t.Errorf("XPENDING of the inbox after acknowledging everything = %+v, %v; want none", p, err)
	}
}
