package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/store/storetest"
)

func newStore(t *testing.T, url string, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(t.Context(), url, opts...)
	if err != nil {
		t.Fatalf("New(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// withNewClient restarts a store of the conformance suite as a new
// process would: with a new client of the same server.
func withNewClient(url string) storetest.Option {
	return storetest.WithRestart(func(t *testing.T) (store.Store, func() store.Store) {
		return newStore(t, url), func() store.Store { return newStore(t, url) }
	})
}

// orgID returns an org id unique to the test, for tests sharing a server.
func orgID(t *testing.T) string {
	return "org-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

func update(t *testing.T, s store.Store, orgID string, fn func(store.OrgTx)) {
	t.Helper()
	if err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error { fn(tx); return nil }); err != nil {
		t.Fatalf("Update(%s): %v", orgID, err)
	}
}

// TestStandalone runs everything that needs a standalone server on one.
// The subtests after the conformance suite run one at a time: some of
// them disturb the whole server.
func TestStandalone(t *testing.T) {
	srv := redistest.StartStandalone(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, srv.URL()) }, withNewClient(srv.URL()))
	})
	t.Run("RoundTrips", func(t *testing.T) {
		h := &roundTrips{}
		c := redis.NewClient(&redis.Options{Addr: srv.Addr})
		defer c.Close()
		c.AddHook(h)
		testRoundTrips(t, c, h)
	})
	t.Run("WatchOnRead", func(t *testing.T) { testWatchOnRead(t, srv) })
	t.Run("ListMembersFillsPages", func(t *testing.T) { testListMembersFillsPages(t, srv) })
	t.Run("ListActivityBeforeZero", func(t *testing.T) {
		s := newStore(t, srv.URL())
		org := orgID(t)
		update(t, s, org, func(tx store.OrgTx) { tx.AppendActivity(store.ActivityEntry{Time: time.Now()}) })
		// The smallest ID there is: Redis cannot make it exclusive.
		if page, err := s.ListActivity(t.Context(), org, "0-0", 10); err != nil || len(page) != 0 {
			t.Errorf("ListActivity before 0-0 = %+v, %v; want none", page, err)
		}
	})
	t.Run("Conflict", func(t *testing.T) { testConflict(t, srv) })
	t.Run("DeadlineExceeded", func(t *testing.T) { testDeadlineExceeded(t, srv) })
	t.Run("Malformed", func(t *testing.T) { testMalformed(t, srv) })
	t.Run("MalformedGlobal", func(t *testing.T) { testMalformedGlobal(t, srv) })
	t.Run("EventsTrimmed", func(t *testing.T) { testEventsTrimmed(t, srv) })
	t.Run("Resubscribe", func(t *testing.T) { testResubscribe(t, srv) })
	t.Run("WithClient", func(t *testing.T) { testWithClient(t, srv) })
}

func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, c.URL()) }, withNewClient(c.URL()))
	})
	t.Run("KeyScheme", func(t *testing.T) { testKeyScheme(t, c) })
	t.Run("RoundTrips", func(t *testing.T) {
		// Counted twice: the calls of the store, and the requests that
		// reach the nodes (a call split or redirected would show there).
		calls, requests := &roundTrips{}, &roundTrips{}
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs,
			NewClient: func(o *redis.Options) *redis.Client {
				nc := redis.NewClient(o)
				nc.AddHook(requests)
				return nc
			},
		})
		defer cc.Close()
		cc.AddHook(calls)
		testRoundTrips(t, cc, calls, requests)
	})
	t.Run("SubscribeAcrossNodes", func(t *testing.T) { testSubscribeAcrossNodes(t, c) })
	t.Run("GlobalKeyScheme", func(t *testing.T) { testGlobalKeyScheme(t, c) })
}

// roundTrips is a redis.Hook counting the requests of a client: one per
// command, one per pipeline or transaction.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// testRoundTrips checks that a Snapshot of store.MaxSnapshotUsers users is
// one round trip, and a page of ListMembers two, as counted by hooks on c.
func testRoundTrips(t *testing.T, c redis.UniversalClient, hooks ...*roundTrips) {
	s := newStore(t, "", redisstore.WithClient(c))
	org := orgID(t)
	userIDs := make([]string, store.MaxSnapshotUsers)
	for i := range userIDs {
		userIDs[i] = fmt.Sprintf("user-%03d", i)
	}
	update(t, s, org, func(tx store.OrgTx) {
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org, State: store.StateActive})
		for _, u := range userIDs[:50] {
			tx.SetMember(&store.Member{OrgID: org, UserID: u})
			tx.SetPersonal(&store.PersonalConnection{OrgID: org, UserID: u})
		}
	})

	measure := func(what string, want int64, call func() error) {
		t.Helper()
		for _, h := range hooks {
			h.n.Store(0)
		}
		if err := call(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i, h := range hooks {
			if n := h.n.Load(); n != want {
				t.Errorf("%s: hook %d counted %d round trips, want %d", what, i, n, want)
			}
		}
	}
	measure("Snapshot of 100 users", 1, func() error {
		snap, err := s.Snapshot(t.Context(), org, userIDs)
		if err == nil && (snap.Connection == nil || snap.Users[49].Personal == nil || snap.Users[50].Member != nil) {
			err = fmt.Errorf("wrong snapshot %+v", snap)
		}
		return err
	})
	update(t, s, org, func(tx store.OrgTx) { tx.SetMeeting(&store.Meeting{OrgID: org, BookingID: "b-1"}) })
	measure("GetMeeting", 1, func() error { _, err := s.GetMeeting(t.Context(), org, "b-1"); return err })
	// The first call of a script may load it (NOSCRIPT, then EVAL).
	if _, err := s.AcquireLease(t.Context(), org, "warm-up", "o", time.Minute); err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if err := s.ReleaseLease(t.Context(), org, "warm-up", "o"); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	measure("AcquireLease", 1, func() error {
		held, err := s.AcquireLease(t.Context(), org, "lease", "o", time.Minute)
		if err == nil && !held {
			err = errors.New("a free lease was not acquired")
		}
		return err
	})
	measure("ReleaseLease", 1, func() error { return s.ReleaseLease(t.Context(), org, "lease", "o") })
	// The global parts: warm the scripts and the connections to the nodes
	// of their keys up, then measure.
	if _, err := s.IndexMembers(t.Context(), "i", org); err != nil {
		t.Fatalf("IndexMembers: %v", err)
	}
	if _, err := storetest.AppendEvent(t.Context(), s, []byte("warm-up")); err != nil {
		t.Fatalf("AppendEvent: %v", err)
	}
	if _, err := s.EnqueueWebhook(t.Context(), "warm-up "+org, []byte("b")); err != nil {
		t.Fatalf("EnqueueWebhook: %v", err)
	}
	warm, err := s.ClaimWebhooks(t.Context(), "warm-up", 100, 0)
	if err != nil {
		t.Fatalf("ClaimWebhooks: %v", err)
	}
	for _, d := range warm {
		if err := s.AckWebhook(t.Context(), d.ID); err != nil {
			t.Fatalf("AckWebhook: %v", err)
		}
	}
	measure("EnqueueWebhook", 1, func() error { _, err := s.EnqueueWebhook(t.Context(), "measured "+org, []byte("b")); return err })
	var claimed []store.WebhookDelivery
	measure("ClaimWebhooks", 1, func() error {
		var err error
		claimed, err = s.ClaimWebhooks(t.Context(), "c", 100, time.Hour)
		if err == nil && len(claimed) != 1 {
			err = fmt.Errorf("claimed %d webhooks, want 1", len(claimed))
		}
		return err
	})
	measure("AckWebhook", 1, func() error { return s.AckWebhook(t.Context(), claimed[0].ID) })
	measure("IndexMembers", 1, func() error { _, err := s.IndexMembers(t.Context(), "i", org); return err })
	// Nothing pending: the outbox's length, and the pending mark checked.
	measure("ApplyEffects", 2, func() error { return s.ApplyEffects(t.Context(), org) })
	measure("ReadEvents", 1, func() error { _, err := s.ReadEvents(t.Context(), "0", 10, 0); return err })
	measure(`ReadEvents("")`, 2, func() error { _, err := s.ReadEvents(t.Context(), "", 10, time.Millisecond); return err })
	measure("ListMembers", 2, func() error {
		page, err := s.ListMembers(t.Context(), org, "", 100)
		if err == nil && len(page) != 50 {
			err = fmt.Errorf("%d members, want 50", len(page))
		}
		return err
	})
}

// testWatchOnRead: a record that fn read and another writer changed before
// the commit makes the attempt fail and fn run again.
func testWatchOnRead(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	org := orgID(t)
	update(t, s, org, func(tx store.OrgTx) { tx.SetMember(&store.Member{OrgID: org, UserID: "u", Name: "0"}) })
	calls := 0
	update(t, s, org, func(tx store.OrgTx) {
		calls++
		m, err := tx.Member("u")
		if err != nil {
			t.Fatalf("Member: %v", err)
		}
		if calls == 1 {
			data := fmt.Sprintf(`{"org_id":%q,"user_id":"u","name":"other"}`, org)
			if err := admin.Set(t.Context(), "zc:{org:"+org+"}:member:u", data, 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
		}
		m.Name += "+1"
		tx.SetMember(m)
	})
	snap, err := s.Snapshot(t.Context(), org, []string{"u"})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if got := snap.Users[0].Member.Name; calls != 2 || got != "other+1" {
		t.Errorf("after a concurrent write: fn ran %d times, name %q; want 2 runs, other+1", calls, got)
	}
}

// testListMembersFillsPages: a member deleted between the two round trips
// of a page (here: its record gone, its id still in the set) is left out,
// and the page still filled, since callers take a short page for the last.
func testListMembersFillsPages(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	org := orgID(t)
	update(t, s, org, func(tx store.OrgTx) {
		for _, u := range []string{"a", "b", "c", "d"} {
			tx.SetMember(&store.Member{OrgID: org, UserID: u})
		}
	})
	if err := admin.Del(t.Context(), "zc:{org:"+org+"}:member:b").Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	page, err := s.ListMembers(t.Context(), org, "", 2)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	var got []string
	for _, u := range page {
		got = append(got, u.UserID)
	}
	if strings.Join(got, ",") != "a,c" {
		t.Errorf("ListMembers(limit 2) = %q, want a,c", got)
	}
}

func testConflict(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := t.Context()
	org := orgID(t)
	// Another writer changes the connection during every attempt.
	otherWriter := func() {
		if err := admin.Set(ctx, "zc:{org:"+org+"}:conn", `{"org_id":"x"}`, 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	calls := 0
	err := s.Update(ctx, org, func(tx store.OrgTx) error {
		calls++
		if _, err := tx.OrgConnection(); err != nil {
			return err
		}
		otherWriter()
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org})
		return nil
	})
	if !errors.Is(err, store.ErrConflict) || calls < 2 {
		t.Fatalf("Update against a writer that always wins = %v after %d attempts, want store.ErrConflict after several", err, calls)
	}

	// The retry backoff honours the context.
	cctx, cancel := context.WithCancel(ctx)
	err = s.Update(cctx, org, func(tx store.OrgTx) error {
		cancel()
		otherWriter()
		tx.SetOrgConnection(&store.OrgConnection{OrgID: org})
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update canceled between attempts: err = %v, want context.Canceled", err)
	}
}

func testDeadlineExceeded(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	// A server that does not answer, so that only the deadline ends the call.
	if err := admin.ClientPause(t.Context(), 300*time.Millisecond).Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := s.Snapshot(ctx, orgID(t), nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Snapshot past its deadline: err = %v, want only context.DeadlineExceeded", err)
	}
}

// testMalformed: bad stored data is reported as such, never as an outage,
// a missing record, or a panic.
func testMalformed(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	ctx := t.Context()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	// Each case spoils one key of its own org, then calls the store.
	cases := map[string]struct {
		spoil func(prefix string) error
		call  func(org string) error
	}{
		"conn": {
			spoil: func(p string) error { return admin.Set(ctx, p+":conn", "{not json", 0).Err() },
			call:  func(org string) error { _, err := s.Snapshot(ctx, org, nil); return err },
		},
		"conn read by Update": {
			spoil: func(p string) error { return admin.Set(ctx, p+":conn", "{not json", 0).Err() },
			call: func(org string) error {
				return s.Update(ctx, org, func(tx store.OrgTx) error { _, err := tx.OrgConnection(); return err })
			},
		},
		"settings": {
			spoil: func(p string) error { return admin.Set(ctx, p+":settings", "[]", 0).Err() },
			call:  func(org string) error { _, err := s.Snapshot(ctx, org, nil); return err },
		},
		"member": {
			spoil: func(p string) error { return admin.Set(ctx, p+":member:u", "nope", 0).Err() },
			call:  func(org string) error { _, err := s.Snapshot(ctx, org, []string{"u"}); return err },
		},
		"member listed": {
			spoil: func(p string) error {
				return errors.Join(admin.Set(ctx, p+":member:u", "nope", 0).Err(), admin.ZAdd(ctx, p+":members", redis.Z{Member: "u"}).Err())
			},
			call: func(org string) error { _, err := s.ListMembers(ctx, org, "", 10); return err },
		},
		"personal read by Update": {
			spoil: func(p string) error { return admin.Set(ctx, p+":personal:u", `{"state":1}`, 0).Err() },
			call: func(org string) error {
				return s.Update(ctx, org, func(tx store.OrgTx) error { _, err := tx.Personal("u"); return err })
			},
		},
		"members set of the wrong type": {
			spoil: func(p string) error { return admin.Set(ctx, p+":members", "x", 0).Err() },
			call:  func(org string) error { _, err := s.ListMembers(ctx, org, "", 10); return err },
		},
		"activity entry": {
			spoil: func(p string) error {
				return admin.XAdd(ctx, &redis.XAddArgs{Stream: p + ":activity", Values: []string{"entry", "{"}}).Err()
			},
			call: func(org string) error { _, err := s.ListActivity(ctx, org, "", 10); return err },
		},
		"activity entry without its field": {
			spoil: func(p string) error {
				return admin.XAdd(ctx, &redis.XAddArgs{Stream: p + ":activity", Values: []string{"other", "{}"}}).Err()
			},
			call: func(org string) error { _, err := s.ListActivity(ctx, org, "", 10); return err },
		},
		"activity of the wrong type": {
			spoil: func(p string) error { return admin.Set(ctx, p+":activity", "x", 0).Err() },
			call: func(org string) error {
				return s.Update(ctx, org, func(tx store.OrgTx) error {
					tx.AppendActivity(store.ActivityEntry{Time: time.Now()})
					return nil
				})
			},
		},
		"meeting": {
			spoil: func(p string) error { return admin.Set(ctx, p+":meeting:b", "{not json", 0).Err() },
			call:  func(org string) error { _, err := s.GetMeeting(ctx, org, "b"); return err },
		},
		"meeting read by Update": {
			spoil: func(p string) error { return admin.Set(ctx, p+":meeting:b", `{"zoom_meeting_id":"1"}`, 0).Err() },
			call: func(org string) error {
				return s.Update(ctx, org, func(tx store.OrgTx) error { _, err := tx.Meeting("b"); return err })
			},
		},
		"lease of the wrong type": {
			spoil: func(p string) error { return admin.HSet(ctx, p+":lease:l", "owner", "o").Err() },
			call:  func(org string) error { _, err := s.AcquireLease(ctx, org, "l", "o", time.Minute); return err },
		},
		"lease of the wrong type released": {
			spoil: func(p string) error { return admin.HSet(ctx, p+":lease:l", "owner", "o").Err() },
			call:  func(org string) error { return s.ReleaseLease(ctx, org, "l", "o") },
		},
		"oauth state": {
			spoil: func(p string) error { return admin.Set(ctx, p+":state:cafe", "{not json", 0).Err() },
			call:  func(org string) error { _, err := s.TakeOAuthState(ctx, org, []byte{0xca, 0xfe}); return err },
		},
	}
	i := 0
	for name, tc := range cases {
		i++
		org := fmt.Sprintf("%s-%d", orgID(t), i)
		if err := tc.spoil("zc:{org:" + org + "}"); err != nil {
			t.Fatalf("%s: spoil: %v", name, err)
		}
		err := tc.call(org)
		if err == nil || !strings.Contains(err.Error(), "malformed") || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want a malformed-record error", name, err)
		}
	}
}

// testResubscribe: when the subscription's connection drops, go-redis
// subscribes again, and the subscriber is told that it may have missed
// changes; later changes reach it as before.
func testResubscribe(t *testing.T, srv *redistest.Server) {
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	org := orgID(t)
	got := make(chan string, 16)
	err := s.Subscribe(t.Context(), func(id string) {
		if id == org || id == "" {
			got <- id
		}
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := admin.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatalf("CLIENT KILL TYPE pubsub: %v", err)
	}
	select {
	case id := <-got:
		if id != "" {
			t.Fatalf("first notification after the drop = %q, want \"\"", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal(`no "" notification within 5s of the subscription's connection dropping`)
	}
	update(t, s, org, func(tx store.OrgTx) { tx.SetSettings(&store.OrgSettings{WaitingRoom: true}) })
	select {
	case id := <-got:
		if id != org {
			t.Fatalf("notification after resubscribing = %q, want %q", id, org)
		}
	case <-time.After(time.Second):
		t.Fatal("no notification of a change after resubscribing")
	}
}

func testWithClient(t *testing.T, srv *redistest.Server) {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	s, err := redisstore.New(t.Context(), "", redisstore.WithClient(c))
	if err != nil {
		t.Fatalf("New(WithClient): %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Errorf("client given with WithClient unusable after Store.Close: %v", err)
	}
	if _, err := redisstore.New(t.Context(), srv.URL(), redisstore.WithClient(c)); err == nil {
		t.Error("New accepted both a URL and WithClient")
	}
}

// testKeyScheme checks the documented key scheme on real data: every key
// of an org has the documented type and shares the org's slot, activity
// stream IDs carry the entries' times, and orgs spread over the masters.
func testKeyScheme(t *testing.T, c *redistest.Cluster) {
	ctx := t.Context()
	s := newStore(t, c.URL())
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	slotMaster := map[int64]string{}
	ranges, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	for _, r := range ranges {
		for slot := r.Start; slot <= r.End; slot++ {
			slotMaster[int64(slot)] = r.Nodes[0].Addr
		}
	}

	slots, masters := map[int64]bool{}, map[string]bool{}
	for i := range 30 {
		org := fmt.Sprintf("%s-%d", orgID(t), i)
		entryTime := time.Now().Add(-time.Minute)
		update(t, s, org, func(tx store.OrgTx) {
			tx.SetOrgConnection(&store.OrgConnection{OrgID: org, State: store.StateActive})
			tx.SetSettings(&store.OrgSettings{WaitingRoom: true})
			tx.SetMember(&store.Member{OrgID: org, UserID: "user-1"})
			tx.SetPersonal(&store.PersonalConnection{OrgID: org, UserID: "user-1"})
			tx.AppendActivity(store.ActivityEntry{Time: entryTime, Kind: "k"})
			tx.SetMeeting(&store.Meeting{OrgID: org, BookingID: "booking-1"})
		})
		if held, err := s.AcquireLease(ctx, org, "refresh", "owner-1", time.Hour); err != nil || !held {
			t.Fatalf("AcquireLease = %v, %v; want it held", held, err)
		}
		idHash := []byte{byte(i), 0xab}
		if err := s.PutOAuthState(ctx, &store.OAuthState{OrgID: org, IDHash: idHash, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatalf("PutOAuthState: %v", err)
		}
		p := "zc:{org:" + org + "}"
		keys := map[string]string{
			p + ":conn":            "string",
			p + ":settings":        "string",
			p + ":member:user-1":   "string",
			p + ":personal:user-1": "string",
			p + ":members":         "zset",
			p + ":activity":        "stream",
			p + ":state:" + hex.EncodeToString(idHash): "string",
			p + ":meeting:booking-1":                   "string",
			p + ":lease:refresh":                       "string",
		}
		var orgSlot int64 = -1
		for key, typ := range keys {
			if got, err := cc.Type(ctx, key).Result(); err != nil || got != typ {
				t.Fatalf("TYPE %s = %q, %v; want %s", key, got, err, typ)
			}
			slot, err := cc.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
			}
			if orgSlot >= 0 && slot != orgSlot {
				t.Errorf("org %s: key %s is in slot %d, its other keys in slot %d", org, key, slot, orgSlot)
			}
			orgSlot = slot
		}
		if owner, err := cc.Get(ctx, p+":lease:refresh").Result(); err != nil || owner != "owner-1" {
			t.Errorf("GET of a lease = %q, %v; want its owner", owner, err)
		}
		if ttl, err := cc.PTTL(ctx, p+":lease:refresh").Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("PTTL of a lease of an hour = %v, %v", ttl, err)
		}
		if score, err := cc.ZScore(ctx, p+":members", "user-1").Result(); err != nil || score != 0 {
			t.Errorf("ZSCORE of a member = %v, %v; want 0", score, err)
		}
		msgs, err := cc.XRange(ctx, p+":activity", "-", "+").Result()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("XRANGE of the activity = %v, %v; want one entry", msgs, err)
		}
		if want := strconv.FormatInt(entryTime.UnixMilli(), 10) + "-0"; msgs[0].ID != want {
			t.Errorf("activity stream ID = %s, want %s (the entry's time)", msgs[0].ID, want)
		}
		slots[orgSlot] = true
		masters[slotMaster[orgSlot]] = true
	}
	if len(slots) < 20 || len(masters) != len(c.Addrs) {
		t.Errorf("30 orgs used %d slots on %d masters; want them spread over all %d masters", len(slots), len(masters), len(c.Addrs))
	}
}

// testSubscribeAcrossNodes: a subscriber hears the changes written through
// another client, for orgs on every master.
func testSubscribeAcrossNodes(t *testing.T, c *redistest.Cluster) {
	reader, writer := newStore(t, c.URL()), newStore(t, c.URL())
	want := map[string]bool{}
	for i := range 12 {
		want[fmt.Sprintf("%s-%d", orgID(t), i)] = true
	}
	got := make(chan string, 64)
	if err := reader.Subscribe(t.Context(), func(id string) { got <- id }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	for org := range want {
		update(t, writer, org, func(tx store.OrgTx) { tx.SetSettings(&store.OrgSettings{}) })
	}
	deadline := time.After(time.Second)
	for len(want) > 0 {
		select {
		case id := <-got:
			delete(want, id)
		case <-deadline:
			t.Fatalf("no notification within 1s for %d orgs: %v", len(want), want)
		}
	}
}

func TestOutage(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL()+"?max_retries=-1&dial_timeout=200ms")
	ctx := t.Context()
	org := "org-outage"
	update(t, s, org, func(tx store.OrgTx) { tx.SetOrgConnection(&store.OrgConnection{OrgID: org}) })

	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer admin.Close()
	// The server drops the connection instead of replying: no error to check.
	_ = admin.ShutdownNoSave(ctx).Err()
	if err := admin.Ping(ctx).Err(); err == nil {
		t.Fatal("Redis still answers after SHUTDOWN")
	}

	calls := map[string]func() error{
		"Update": func() error {
			return s.Update(ctx, org, func(tx store.OrgTx) error {
				tx.SetOrgConnection(&store.OrgConnection{OrgID: org})
				return nil
			})
		},
		"Snapshot":     func() error { _, err := s.Snapshot(ctx, org, []string{"u"}); return err },
		"ListMembers":  func() error { _, err := s.ListMembers(ctx, org, "", 10); return err },
		"ListActivity": func() error { _, err := s.ListActivity(ctx, org, "", 10); return err },
		"Subscribe":    func() error { return s.Subscribe(ctx, func(string) {}) },
		"PutOAuthState": func() error {
			return s.PutOAuthState(ctx, &store.OAuthState{OrgID: org, IDHash: []byte{1}, ExpiresAt: time.Now().Add(time.Hour)})
		},
		"TakeOAuthState": func() error { _, err := s.TakeOAuthState(ctx, org, []byte{1}); return err },
		"Ping":           func() error { return s.Ping(ctx) },
		"Update of a meeting": func() error {
			return s.Update(ctx, org, func(tx store.OrgTx) error {
				tx.SetMeeting(&store.Meeting{OrgID: org, BookingID: "b"})
				return nil
			})
		},
		"GetMeeting": func() error { _, err := s.GetMeeting(ctx, org, "b"); return err },
		"AcquireLease": func() error {
			_, err := s.AcquireLease(ctx, org, "l", "o", time.Minute)
			return err
		},
		"ReleaseLease": func() error { return s.ReleaseLease(ctx, org, "l", "o") },
		"EnqueueWebhook": func() error {
			_, err := s.EnqueueWebhook(ctx, "k", []byte("b"))
			return err
		},
		"ClaimWebhooks":  func() error { _, err := s.ClaimWebhooks(ctx, "c", 10, 0); return err },
		"AckWebhook":     func() error { return s.AckWebhook(ctx, "1-0") },
		"IndexMembers":   func() error { _, err := s.IndexMembers(ctx, "i", "k"); return err },
		"ApplyEffects":   func() error { return s.ApplyEffects(ctx, org) },
		"PendingEffects": func() error { _, err := s.PendingEffects(ctx); return err },
		"Update with an effect": func() error {
			return s.Update(ctx, org, func(tx store.OrgTx) error {
				tx.AddEffect(store.Effect{Event: []byte("p")})
				return nil
			})
		},
		"ReadEvents": func() error { _, err := s.ReadEvents(ctx, "0", 10, 0); return err },
		"ReadEvents from now, waiting": func() error {
			_, err := s.ReadEvents(ctx, "", 10, time.Second)
			return err
		},
		"New": func() error {
			_, err := redisstore.New(ctx, srv.URL()+"?max_retries=-1")
			return err
		},
	}
	// In parallel: the client spends a while on dial retries for each call.
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := call()
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("err = %v, want store.ErrUnavailable", err)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v matches a context error", err)
			}
		})
	}
}
