package cachestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/cachestore"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/store/storetest"
)

func openBolt(t *testing.T) store.Store {
	t.Helper()
	return openBoltAt(t, filepath.Join(t.TempDir(), "zoomconnect.db"))
}

func openBoltAt(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("boltstore.Open: %v", err)
	}
	return s
}

func openRedis(t *testing.T, url string) store.Store {
	t.Helper()
	s, err := redisstore.New(t.Context(), url)
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return s
}

// newCache returns a started cache over inner, closed with the test.
func newCache(t *testing.T, inner store.Store, opts ...cachestore.Option) *cachestore.Store {
	t.Helper()
	c := cachestore.New(inner, opts...)
	if err := c.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func TestConformanceBolt(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newCache(t, openBolt(t)) },
		storetest.WithRestart(func(t *testing.T) (store.Store, func() store.Store) {
			path := filepath.Join(t.TempDir(), "zoomconnect.db")
			c := newCache(t, openBoltAt(t, path)) // closing twice is fine
			return c, func() store.Store {
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				return newCache(t, openBoltAt(t, path))
			}
		}))
}

func TestRedis(t *testing.T) {
	srv := redistest.StartStandalone(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newCache(t, openRedis(t, srv.URL())) },
			storetest.WithRestart(func(t *testing.T) (store.Store, func() store.Store) {
				return newCache(t, openRedis(t, srv.URL())), func() store.Store { return newCache(t, openRedis(t, srv.URL())) }
			}))
	})
	t.Run("Replicas", func(t *testing.T) {
		t.Parallel()
		testReplicas(t, srv)
	})
	t.Run("MeetingsKeepReplicaCaches", func(t *testing.T) {
		t.Parallel()
		testMeetingsKeepReplicaCaches(t, srv)
	})
}

// testMeetingsKeepReplicaCaches: a booking's meeting written through one
// replica leaves the other replicas' caches alone (no Snapshot reads
// meetings, and the backend notifies nobody of them).
func testMeetingsKeepReplicaCaches(t *testing.T, srv *redistest.Server) {
	const org = "org-meetings-keep-caches"
	a := newCache(t, openRedis(t, srv.URL()), cachestore.WithTTL(time.Hour))
	setName(t, a, org, "first")
	spyB := &counting{Store: openRedis(t, srv.URL())}
	b := newCache(t, spyB, cachestore.WithTTL(time.Hour))
	memberName(t, b, org)

	err := a.Update(t.Context(), org, func(tx store.OrgTx) error {
		tx.SetMeeting(&store.Meeting{OrgID: org, BookingID: "booking-1", State: store.MeetingReserved})
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a notification would have come by now
	memberName(t, b, org)
	if n := spyB.snapshots.Load(); n != 1 {
		t.Fatalf("B made %d inner Snapshots, want 1: a meeting written through A dropped B's cache", n)
	}
	if m, err := b.GetMeeting(t.Context(), org, "booking-1"); err != nil || m.State != store.MeetingReserved {
		t.Fatalf("GetMeeting through B = %+v, %v; want the meeting written through A", m, err)
	}
}

// testReplicas: two replicas, each with its cache over one Redis; a change
// through one is seen through the other at once, not after the TTL.
func testReplicas(t *testing.T, srv *redistest.Server) {
	a := newCache(t, openRedis(t, srv.URL()), cachestore.WithTTL(time.Hour))
	const org = "org-replicas"
	setName(t, a, org, "first")
	// B starts after that change, whose notification would drop its cache.
	spyB := &counting{Store: openRedis(t, srv.URL())}
	b := newCache(t, spyB, cachestore.WithTTL(time.Hour))
	if got := memberName(t, b, org); got != "first" {
		t.Fatalf("B reads %q, want first", got)
	}
	memberName(t, b, org)
	if n := spyB.snapshots.Load(); n != 1 {
		t.Fatalf("B made %d inner Snapshots for two identical ones, want 1 (a hit)", n)
	}

	setName(t, a, org, "second")
	deadline := time.Now().Add(time.Second)
	for memberName(t, b, org) != "second" {
		if time.Now().After(deadline) {
			t.Fatal("B still reads the old name 1s after A changed it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func setName(t *testing.T, s store.Store, orgID, name string) {
	t.Helper()
	err := s.Update(t.Context(), orgID, func(tx store.OrgTx) error {
		tx.SetMember(&store.Member{OrgID: orgID, UserID: "user-1", Name: name})
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func memberName(t *testing.T, s store.Store, orgID string) string {
	t.Helper()
	snap, err := s.Snapshot(t.Context(), orgID, []string{"user-1"})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if m := snap.Users[0].Member; m != nil {
		return m.Name
	}
	return ""
}

// counting counts the inner Snapshots and runs a hook after each.
type counting struct {
	store.Store
	snapshots     atomic.Int32
	afterSnapshot func()
}

func (s *counting) Snapshot(ctx context.Context, orgID string, userIDs []string) (*store.OrgSnapshot, error) {
	snap, err := s.Store.Snapshot(ctx, orgID, userIDs)
	s.snapshots.Add(1)
	if s.afterSnapshot != nil {
		s.afterSnapshot()
	}
	return snap, err
}

// manual keeps the cache's change callback instead of subscribing it, so
// that tests decide when notifications arrive.
type manual struct {
	counting
	notify func(orgID string)
}

func (s *manual) Subscribe(_ context.Context, onChange func(string)) error {
	s.notify = onChange
	return nil
}

func TestHits(t *testing.T) {
	sp := &manual{counting: counting{Store: openBolt(t)}}
	c := newCache(t, sp)
	const org = "org-1"
	ctx := t.Context()
	snapshots := func(userIDs ...string) int32 {
		t.Helper()
		if _, err := c.Snapshot(ctx, org, userIDs); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		return sp.snapshots.Load()
	}
	for _, step := range []struct {
		users []string
		want  int32
	}{
		{[]string{"a", "b"}, 1},
		{[]string{"b", "a", "a"}, 1}, // every user cached: a hit
		{nil, 1},
		{[]string{"a", "c"}, 2}, // c is not: one Snapshot of both
		{[]string{"c", "b", "a"}, 2},
	} {
		if n := snapshots(step.users...); n != step.want {
			t.Fatalf("Snapshot(%v): %d inner Snapshots so far, want %d", step.users, n, step.want)
		}
	}

	// Changes drop the org: notified, or made through the cache.
	sp.notify(org)
	if n := snapshots("a"); n != 3 {
		t.Fatalf("after a notification: %d inner Snapshots, want 3", n)
	}
	setName(t, c, org, "x")
	if n := snapshots("a"); n != 4 {
		t.Fatalf("after an Update: %d inner Snapshots, want 4", n)
	}
	snapshots("a")
	sp.notify("")
	if n := snapshots("a"); n != 5 {
		t.Fatalf(`after a "" notification: %d inner Snapshots, want 5`, n)
	}
	sp.notify("other-org")
	if n := snapshots("a"); n != 5 {
		t.Fatalf("after another org's notification: %d inner Snapshots, want 5", n)
	}
}

func TestTTL(t *testing.T) {
	sp := &manual{counting: counting{Store: openBolt(t)}}
	c := newCache(t, sp, cachestore.WithTTL(50*time.Millisecond))
	for range 2 {
		memberName(t, c, "org-1")
	}
	time.Sleep(60 * time.Millisecond)
	memberName(t, c, "org-1")
	if n := sp.snapshots.Load(); n != 2 {
		t.Fatalf("%d inner Snapshots, want 2: a hit, then a miss past the TTL", n)
	}
}

// TestCachesOnlyWhileSubscribed: without notifications, the cache could
// serve stale data; it passes through instead.
func TestCachesOnlyWhileSubscribed(t *testing.T) {
	sp := &manual{counting: counting{Store: openBolt(t)}}
	c := cachestore.New(sp)
	defer c.Close()
	memberName(t, c, "org-1")
	memberName(t, c, "org-1")
	if n := sp.snapshots.Load(); n != 2 {
		t.Fatalf("before Start: %d inner Snapshots for 2, want 2", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	memberName(t, c, "org-1")
	memberName(t, c, "org-1")
	if n := sp.snapshots.Load(); n != 3 {
		t.Fatalf("after Start: %d inner Snapshots, want 3", n)
	}
	cancel()
	time.Sleep(10 * time.Millisecond) // context.AfterFunc runs in its own goroutine
	memberName(t, c, "org-1")
	if n := sp.snapshots.Load(); n != 4 {
		t.Fatalf("after Start's context ended: %d inner Snapshots, want 4", n)
	}
}

// TestInvalidationRace: a change notified while a Snapshot is in flight
// must keep that Snapshot's (possibly stale) result out of the cache.
func TestInvalidationRace(t *testing.T) {
	sp := &manual{counting: counting{Store: openBolt(t)}}
	c := newCache(t, sp, cachestore.WithTTL(time.Hour))
	const org = "org-1"
	setName(t, c, org, "old")
	// Another replica changes the name and the notification arrives
	// after the inner Snapshot has read the old name, before it returns.
	sp.afterSnapshot = func() {
		sp.afterSnapshot = nil
		setName(t, sp.Store, org, "new")
		sp.notify(org)
	}
	if got := memberName(t, c, org); got != "old" {
		t.Fatalf("first read = %q, want old (read before the change)", got)
	}
	if got := memberName(t, c, org); got != "new" {
		t.Fatalf("read after the notification = %q, want new: stale data was cached", got)
	}
}

// TestMaxBytes: the cache holds at most its byte budget, whatever the
// number of orgs and users (each bounded far above what fits), evicting
// other orgs first, and keeps serving what it holds.
func TestMaxBytes(t *testing.T) {
	ctx := t.Context()
	inner := openBolt(t)
	const orgs, users = 40, 100
	for o := range orgs {
		orgID := fmt.Sprintf("org-%02d", o)
		err := inner.Update(ctx, orgID, func(tx store.OrgTx) error {
			tx.SetOrgConnection(&store.OrgConnection{OrgID: orgID, State: store.StateActive, ZoomAccountID: "acct-" + orgID})
			for u := range users {
				userID := fmt.Sprintf("user-%03d", u)
				tx.SetMember(&store.Member{OrgID: orgID, UserID: userID, Email: userID + "@" + orgID + ".example", Name: strings.Repeat("n", 100)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sp := &manual{counting: counting{Store: inner}}
	const budget = 256 << 10
	c := newCache(t, sp, cachestore.WithMaxBytes(budget))
	userIDs := make([]string, users)
	for u := range userIDs {
		userIDs[u] = fmt.Sprintf("user-%03d", u)
	}
	peak := 0
	for o := range orgs {
		if _, err := c.Snapshot(ctx, fmt.Sprintf("org-%02d", o), userIDs); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, c.Bytes())
	}
	if peak > budget || c.Bytes() < budget/2 {
		t.Fatalf("cached bytes peaked at %d and end at %d; want at most the budget %d, and most of it used", peak, c.Bytes(), budget)
	}
	// The last org is still cached: a hit. An early one was evicted.
	n := sp.snapshots.Load()
	if _, err := c.Snapshot(ctx, fmt.Sprintf("org-%02d", orgs-1), userIDs); err != nil || sp.snapshots.Load() != n {
		t.Fatalf("the last org cached: %v, %d inner Snapshots (want %d: a hit)", err, sp.snapshots.Load(), n)
	}
	if _, err := c.Snapshot(ctx, "org-00", userIDs); err != nil || sp.snapshots.Load() != n+1 {
		t.Fatalf("the first org: %v, %d inner Snapshots (want %d: evicted, a miss)", err, sp.snapshots.Load(), n+1)
	}
	// A notification drops an org and its bytes.
	before := c.Bytes()
	sp.notify("org-00")
	if c.Bytes() >= before {
		t.Fatalf("after dropping an org: %d bytes cached, want fewer than %d", c.Bytes(), before)
	}
	sp.notify("")
	if c.Bytes() != 0 {
		t.Fatalf("after dropping everything: %d bytes cached, want 0", c.Bytes())
	}
}
