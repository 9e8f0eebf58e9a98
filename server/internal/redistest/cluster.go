package redistest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	clusterSize = 3
	// clusterSlots is the number of hash slots of every Redis Cluster.
	clusterSlots = 16384
	// clusterReadyTimeout bounds the wait for the cluster to converge; a
	// fresh master alone already waits 2s before it reports cluster_state:ok.
	clusterReadyTimeout = 15 * time.Second
)

// Cluster is a local Redis Cluster of three masters without replicas, owned
// by one test. Slots are split evenly between the masters in Addrs order.
type Cluster struct {
	// Addrs are the host:port of the masters.
	Addrs []string
}

// URL returns a URL that the Redis store parses as this cluster: the first
// master as host, the others as addr parameters, and cluster=true.
func (c *Cluster) URL() string {
	q := url.Values{"cluster": {"true"}, "addr": c.Addrs[1:]}
	return "redis://" + c.Addrs[0] + "/?" + q.Encode()
}

// StartCluster starts a three-master Redis Cluster for t and waits until
// every node reports cluster_state:ok and all nodes agree on the slot map.
// The nodes are killed in t.Cleanup.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := lookPath(t, "redis-server")
	nodes := make([]*process, clusterSize)
	errs := make([]error, clusterSize)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i], errs[i] = start(t, bin, fmt.Sprintf("cluster-node-%d", i), true) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterReadyTimeout)
	defer cancel()
	clients := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.addr})
		defer clients[i].Close()
	}
	if err := formCluster(ctx, nodes, clients); err != nil {
		t.Fatalf("redistest: form cluster: %v", err)
	}
	if err := waitClusterReady(ctx, nodes, clients); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := &Cluster{}
	for _, n := range nodes {
		c.Addrs = append(c.Addrs, n.addr)
	}
	return c
}

// slotRange is the slots owned by master i.
func slotRange(i int) (first, last int) {
	per := clusterSlots / clusterSize
	first = i * per
	last = first + per - 1
	if i == clusterSize-1 {
		last = clusterSlots - 1
	}
	return first, last
}

// formCluster does what `redis-cli --cluster create` does, without needing
// redis-cli: distinct config epochs (so that no epoch collision has to be
// resolved), slot assignment, then every node meets the first one.
func formCluster(ctx context.Context, nodes []*process, clients []*redis.Client) error {
	for i, c := range clients {
		if err := c.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: set config epoch: %w", nodes[i].addr, err)
		}
		first, last := slotRange(i)
		if err := c.ClusterAddSlotsRange(ctx, first, last).Err(); err != nil {
			return fmt.Errorf("%s: add slots %d-%d: %w", nodes[i].addr, first, last, err)
		}
	}
	for _, n := range nodes[1:] {
		// The bus port is explicit because it is not the default port+10000.
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, n.busPort).Err(); err != nil {
			return fmt.Errorf("%s: meet %s: %w", nodes[0].addr, n.addr, err)
		}
	}
	return nil
}

// waitClusterReady polls until every node reports cluster_state:ok, knows
// all nodes, and sees exactly the slot map that formCluster assigned.
func waitClusterReady(ctx context.Context, nodes []*process, clients []*redis.Client) error {
	var want []string
	for i, n := range nodes {
		first, last := slotRange(i)
		want = append(want, fmt.Sprintf("%d-%d@%d", first, last, n.port))
	}
	slices.Sort(want)
	var lastErr error
	for {
		lastErr = clusterAgrees(ctx, nodes, clients, want)
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready after %v: %w", clusterReadyTimeout, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func clusterAgrees(ctx context.Context, nodes []*process, clients []*redis.Client, want []string) error {
	for i, c := range clients {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: cluster info: %w", nodes[i].addr, err)
		}
		for _, field := range []string{"cluster_state:ok", "cluster_known_nodes:" + strconv.Itoa(clusterSize)} {
			if !strings.Contains(info, field+"\r\n") {
				return fmt.Errorf("%s: no %q yet", nodes[i].addr, field)
			}
		}
		slots, err := c.ClusterSlots(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: cluster slots: %w", nodes[i].addr, err)
		}
		var got []string
		for _, s := range slots {
			if len(s.Nodes) == 0 {
				return fmt.Errorf("%s: slots %d-%d have no master", nodes[i].addr, s.Start, s.End)
			}
			// Compare ports only: a node may report its own IP as empty.
			_, port, _ := net.SplitHostPort(s.Nodes[0].Addr)
			got = append(got, fmt.Sprintf("%d-%d@%s", s.Start, s.End, port))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s: slot map %v, want %v", nodes[i].addr, got, want)
		}
	}
	return nil
}
