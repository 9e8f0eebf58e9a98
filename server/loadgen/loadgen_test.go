package loadgen_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/internal/apptest"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"github.com/zoomconnect/zoomconnect/server/loadgen"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

var (
	authSecret = []byte("an-hs256-secret-for-loadgen-tests-32b")
	keyring    = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
)

const webhookSecret = "loadgen-test-webhook-secret"

// tinyPlan seeds just enough for every workload: batch needs orgs of 100
// members, the roster a big and a mid-sized org.
var tinyPlan = loadgen.Plan{Orgs: 4, MembersPerOrg: 20, BigOrgMembers: 350, MidOrgMembers: 120, IndexedMembers: 40}

// TestEveryWorkload runs every workload at a tiny scale against the real
// service on loopback (in process), on each store: the embedded one (one
// replica, the file being private to it), a standalone Redis and a local
// Redis Cluster (two replicas each, as the meetings workload wants). Every
// call must succeed and every check hold: the roster returns exactly the
// seeded rows of each filter, and every webhook is processed.
func TestEveryWorkload(t *testing.T) {
	for _, tc := range []struct {
		name     string
		redisURL func(testing.TB) string
		replicas int
	}{
		{"embedded", func(testing.TB) string { return "" }, 1},
		{"redis", func(t testing.TB) string { return redistest.StartStandalone(t).URL() }, 2},
		{"redis-cluster", func(t testing.TB) string { return redistest.StartCluster(t).URL() }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			redisURL := tc.redisURL(t)
			dataDir := t.TempDir()
			seed(t, redisURL, dataDir)

			emu, err := loadgen.StartEmulator()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(emu.Close)
			env := loadgen.Env{AuthSecret: authSecret, WebhookSecret: webhookSecret,
				ZoomAdminID: loadgen.DevZoomAdmin, ZoomHostEmail: loadgen.DevZoomHost}
			for i := range tc.replicas {
				env.Replicas = append(env.Replicas, startService(t, emu, redisURL, filepath.Join(dataDir, "replica", string(rune('a'+i)))))
			}
			if redisURL != "" {
				opts, err := redisstore.ParseURL(redisURL)
				if err != nil {
					t.Fatal(err)
				}
				env.Redis = redis.NewUniversalClient(opts)
				t.Cleanup(func() { _ = env.Redis.Close() })
			}

			var out bytes.Buffer
			results, err := loadgen.Run(ctx, env, loadgen.Options{
				Plan: tinyPlan, Duration: 200 * time.Millisecond, MaxCalls: 300, Concurrency: 4,
				WebhookEvents: 40, WebhookWindow: 400 * time.Millisecond, WebhookDrain: 20 * time.Second,
				MeetingRate: 20, MeetingBookings: 3, Out: &out,
			})
			t.Log(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != len(loadgen.AllWorkloads) {
				t.Fatalf("%d results, want one per workload (%d)", len(results), len(loadgen.AllWorkloads))
			}
			for _, res := range results {
				if res.Stats.Count == 0 || res.Stats.ErrorCount() > 0 || len(res.Failures) > 0 {
					t.Errorf("%s: %d calls, errors %v, failures %q", res.Workload, res.Stats.Count, res.Stats.Errors, res.Failures)
				}
				// The replicas run in this process: one reading of it.
				if len(res.Processes) != 1 || res.Processes[0].PID != os.Getpid() || res.Processes[0].MaxRSS == 0 || res.Processes[0].MaxAnonRSS == 0 {
					t.Errorf("%s: server processes %+v, want this one with its RSS", res.Workload, res.Processes)
				}
				if (redisURL != "") != (res.Redis != nil) {
					t.Errorf("%s: Redis readings %v on Redis %q", res.Workload, res.Redis, redisURL)
				}
			}
			report := out.String()
			for _, want := range []string{"== meetings", "3 bookings", "40 events sent", "status=NEEDS_RECONNECT"} {
				if !strings.Contains(report, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
		})
	}
}

// seed writes tinyPlan into the store the service will use: Redis, or the
// embedded file before the service opens (and locks) it.
func seed(t *testing.T, redisURL, dataDir string) {
	t.Helper()
	var st store.Store
	var err error
	if redisURL != "" {
		st, err = redisstore.New(t.Context(), redisURL)
	} else {
		st, err = boltstore.Open(filepath.Join(dataDir, "zoomconnect.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := loadgen.Seed(t.Context(), st, tinyPlan, 8)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Members != tinyPlan.Members() || rep.IndexEntries != tinyPlan.IndexedMembers {
		t.Fatalf("seeded %+v, want %d members and %d index entries", rep, tinyPlan.Members(), tinyPlan.IndexedMembers)
	}
}

// startService runs one replica in this process (its /proc is ours).
func startService(t *testing.T, emu *loadgen.Emulator, redisURL, dataDir string) loadgen.Replica {
	t.Helper()
	cfg := config.Defaults()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.AdminAddr = webtest.FreeAddr(t), webtest.FreeAddr(t), webtest.FreeAddr(t)
	cfg.DataDir = dataDir
	if redisURL == "" {
		cfg.DataDir = filepath.Dir(filepath.Dir(dataDir)) // where seed wrote the file
	}
	cfg.RedisURL = redisURL
	cfg.AuthHS256Secret = authSecret
	cfg.EncryptionKeys = keyring
	cfg.ZoomWebhookSecret = webhookSecret
	cfg.ZoomRate = 1000
	cfg.ShutdownTimeout = 5 * time.Second
	emu.Configure(&cfg)
	a, err := app.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	apptest.Serve(t, a)
	return loadgen.Replica{GRPCAddr: a.GRPCAddr(), HTTPAddr: a.HTTPAddr(), PID: os.Getpid()}
}
