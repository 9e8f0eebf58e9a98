package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/redis/go-redis/v9"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

func jwtDate(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }

// zoomTokenPrefix starts every token the emulator issues, as it starts
// Zoom's: the base64url of `{"alg":"HS512"`.
var zoomTokenPrefix = []byte("eyJhbGciOiJIUzUxMi")

// rawStore returns everything the store holds, as an operator's dump would
// show it: every Redis value, or the embedded store's file.
func (h *harness) rawStore(t testing.TB) [][]byte {
	t.Helper()
	if h.cfg.RedisURL == "" {
		b, err := os.ReadFile(filepath.Join(h.cfg.DataDir, "zoomconnect.db"))
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{b}
	}
	opts, err := redisstore.ParseURL(h.cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	var values [][]byte
	collect := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, "*", 100).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			// Values as clients read them: DUMP would compress them.
			var v any
			var err error
			switch c.Type(ctx, key).Val() {
			case "string":
				v, err = c.Get(ctx, key).Result()
			case "zset":
				v, err = c.ZRange(ctx, key, 0, -1).Result()
			case "stream":
				v, err = c.XRange(ctx, key, "-", "+").Result()
			default:
				v, err = c.Dump(ctx, key).Result()
			}
			if err != nil && err != redis.Nil {
				return err
			}
			values = append(values, []byte(key), []byte(fmt.Sprint(v)))
		}
		return iter.Err()
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		var mu sync.Mutex // ForEachMaster runs nodes concurrently
		err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return collect(ctx, node)
		})
	case *redis.Client:
		err = collect(ctx, c)
	default:
		t.Fatalf("unexpected client %T", rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	return values
}

// assertNoTokenAtRest checks that no Zoom token is stored in clear, and
// whether sealed tokens are there.
func (h *harness) assertNoTokenAtRest(t testing.TB, wantSealed bool) {
	t.Helper()
	sealed := false
	for _, v := range h.rawStore(t) {
		if bytes.Contains(v, zoomTokenPrefix) {
			t.Fatalf("a Zoom token is stored in clear")
		}
		sealed = sealed || bytes.Contains(v, []byte("sealed_tokens"))
	}
	if sealed != wantSealed {
		t.Fatalf("sealed tokens in the store: %v, want %v", sealed, wantSealed)
	}
}

// assertTokensDeleted reads the org's record straight from the store.
func (h *harness) assertTokensDeleted(t testing.TB, orgID string) {
	t.Helper()
	h.inspectStore(t, func(s store.Store) {
		rec, err := store.GetOrgConnection(context.Background(), s, orgID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.SealedTokens != nil || rec.State != store.StateNotConnected {
			t.Fatalf("record after disconnect still holds tokens or is not disconnected: state %s, %d token bytes", rec.State, len(rec.SealedTokens))
		}
	})
}

// inspectStore runs f over the service's store, read directly as an
// operator would (the embedded store's file, while the service is stopped).
func (h *harness) inspectStore(t testing.TB, f func(s store.Store)) {
	t.Helper()
	var s store.Store
	var err error
	if h.cfg.RedisURL == "" {
		h.stop() // the embedded store is one process's file
		defer h.start()
		s, err = boltstore.Open(filepath.Join(h.cfg.DataDir, "zoomconnect.db"))
	} else {
		s, err = redisstore.New(context.Background(), h.cfg.RedisURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f(s)
}
