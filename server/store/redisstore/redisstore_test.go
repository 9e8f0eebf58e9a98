package redisstore_test

import (
	"context"
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

func newStore(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(t.Context(), url)
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

func TestStandalone(t *testing.T) {
	srv := redistest.StartStandalone(t)
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, srv.URL()) })
}

func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t, c.URL()) })
	})
	t.Run("OneSlotPerOrg", func(t *testing.T) { testOneSlotPerOrg(t, c) })
}

// testOneSlotPerOrg checks the documented key scheme on real data: all keys
// of an org share a slot, and orgs spread over the cluster's masters.
func testOneSlotPerOrg(t *testing.T, c *redistest.Cluster) {
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
		orgID := fmt.Sprintf("org-slots-%d-%d", time.Now().UnixNano(), i)
		conn := &store.OrgConnection{OrgID: orgID, State: store.StateActive}
		if _, err := s.UpdateOrgConnection(ctx, orgID, func(*store.OrgConnection) (*store.OrgConnection, error) { return conn, nil }); err != nil {
			t.Fatalf("UpdateOrgConnection: %v", err)
		}
		idHash := []byte{byte(i), 0xab}
		if err := s.PutOAuthState(ctx, &store.OAuthState{OrgID: orgID, IDHash: idHash, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatalf("PutOAuthState: %v", err)
		}
		keys := []string{
			"zc:{org:" + orgID + "}:conn",
			"zc:{org:" + orgID + "}:state:" + hex.EncodeToString(idHash),
		}
		var orgSlot int64 = -1
		for _, key := range keys {
			if n, err := cc.Exists(ctx, key).Result(); err != nil || n != 1 {
				t.Fatalf("EXISTS %s = %d, %v; want 1", key, n, err)
			}
			slot, err := cc.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
			}
			if orgSlot >= 0 && slot != orgSlot {
				t.Errorf("org %s: key %s is in slot %d, its other keys in slot %d", orgID, key, slot, orgSlot)
			}
			orgSlot = slot
		}
		slots[orgSlot] = true
		masters[slotMaster[orgSlot]] = true
	}
	if len(slots) < 20 || len(masters) != len(c.Addrs) {
		t.Errorf("30 orgs used %d slots on %d masters; want them spread over all %d masters", len(slots), len(masters), len(c.Addrs))
	}
}

func TestOutage(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL()+"?max_retries=-1&dial_timeout=200ms")
	ctx := t.Context()
	orgID := "org-outage"
	mutate := func(*store.OrgConnection) (*store.OrgConnection, error) {
		return &store.OrgConnection{OrgID: orgID, State: store.StateActive}, nil
	}
	if _, err := s.UpdateOrgConnection(ctx, orgID, mutate); err != nil {
		t.Fatalf("UpdateOrgConnection before the outage: %v", err)
	}

	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	defer admin.Close()
	// The server drops the connection instead of replying: no error to check.
	_ = admin.ShutdownNoSave(ctx).Err()
	if err := admin.Ping(ctx).Err(); err == nil {
		t.Fatal("Redis still answers after SHUTDOWN")
	}

	calls := map[string]func() error{
		"GetOrgConnection":    func() error { _, err := s.GetOrgConnection(ctx, orgID); return err },
		"UpdateOrgConnection": func() error { _, err := s.UpdateOrgConnection(ctx, orgID, mutate); return err },
		"PutOAuthState": func() error {
			return s.PutOAuthState(ctx, &store.OAuthState{OrgID: orgID, IDHash: []byte{1}, ExpiresAt: time.Now().Add(time.Hour)})
		},
		"TakeOAuthState": func() error { _, err := s.TakeOAuthState(ctx, orgID, []byte{1}); return err },
		"Ping":           func() error { return s.Ping(ctx) },
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

func TestConflict(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := t.Context()
	orgID := "org-conflict"
	// Another writer changes the key during every attempt.
	otherWriter := func() error {
		return admin.Set(ctx, "zc:{org:"+orgID+"}:conn", `{"org_id":"org-conflict"}`, 0).Err()
	}
	calls := 0
	_, err := s.UpdateOrgConnection(ctx, orgID, func(*store.OrgConnection) (*store.OrgConnection, error) {
		calls++
		return &store.OrgConnection{OrgID: orgID}, otherWriter()
	})
	if !errors.Is(err, store.ErrConflict) || calls < 2 {
		t.Fatalf("UpdateOrgConnection against a writer that always wins = %v after %d attempts, want store.ErrConflict after several", err, calls)
	}

	// The retry backoff honours the context.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.UpdateOrgConnection(cctx, orgID, func(*store.OrgConnection) (*store.OrgConnection, error) {
		cancel()
		return &store.OrgConnection{OrgID: orgID}, otherWriter()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("UpdateOrgConnection canceled between attempts: err = %v, want context.Canceled", err)
	}
}

func TestDeadlineExceeded(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL())
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	// A server that does not answer, so that only the deadline ends the call.
	if err := admin.ClientPause(t.Context(), time.Second).Err(); err != nil {
		t.Fatalf("CLIENT PAUSE: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := s.GetOrgConnection(ctx, "org-deadline")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("GetOrgConnection past its deadline: err = %v, want only context.DeadlineExceeded", err)
	}
}

func TestMalformedData(t *testing.T) {
	srv := redistest.StartStandalone(t)
	s := newStore(t, srv.URL())
	ctx := t.Context()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	orgID := "org-malformed"
	idHash := []byte{0xca, 0xfe}
	for _, key := range []string{"zc:{org:" + orgID + "}:conn", "zc:{org:" + orgID + "}:state:cafe"} {
		if err := admin.Set(ctx, key, "{not json", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
	mutateCalled := false
	_, errUpdate := s.UpdateOrgConnection(ctx, orgID, func(c *store.OrgConnection) (*store.OrgConnection, error) {
		mutateCalled = true
		return c, nil
	})
	_, errGet := s.GetOrgConnection(ctx, orgID)
	_, errTake := s.TakeOAuthState(ctx, orgID, idHash)
	for name, err := range map[string]error{"GetOrgConnection": errGet, "UpdateOrgConnection": errUpdate, "TakeOAuthState": errTake} {
		if err == nil || !strings.Contains(err.Error(), "malformed") || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of malformed data: err = %v, want a malformed-value error", name, err)
		}
	}
	if mutateCalled {
		t.Error("UpdateOrgConnection called mutate with malformed data")
	}
}

func TestWithClient(t *testing.T) {
	srv := redistest.StartStandalone(t)
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
