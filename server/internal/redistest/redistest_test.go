package redistest

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestStartStandalone(t *testing.T) {
	s := StartStandalone(t)
	opts, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatalf("URL %q: %v", s.URL(), err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
}

func TestStartCluster(t *testing.T) {
	c := StartCluster(t)
	if len(c.Addrs) != clusterSize {
		t.Fatalf("Addrs = %v, want %d masters", c.Addrs, clusterSize)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	ctx := context.Background()
	// Keys spread over every master: each one must accept writes.
	masters := map[string]bool{}
	for i := range 64 {
		key := fmt.Sprintf("key-%d", i)
		if err := cc.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
		slot, err := cc.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %s: %v", key, err)
		}
		for i := range clusterSize {
			if first, last := slotRange(i); int(slot) >= first && int(slot) <= last {
				masters[c.Addrs[i]] = true
			}
		}
	}
	if len(masters) != clusterSize {
		t.Errorf("64 keys landed on %d masters, want %d", len(masters), clusterSize)
	}
}

func TestMissingBinaryFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() {
			// fatalRecorder stops the goroutine like t.Fatal does.
			if r := recover(); r != nil && r != ft {
				panic(r)
			}
		}()
		StartStandalone(ft)
	}()
	if ft.msg == "" {
		t.Fatal("StartStandalone did not fail without redis-server on PATH")
	}
	t.Log(ft.msg)
}

// fatalRecorder records a Fatalf instead of failing the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}
