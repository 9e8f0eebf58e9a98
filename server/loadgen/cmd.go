package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
)

// CommandConfig is the command's configuration (its flags).
type CommandConfig struct {
	// Binary is the zoomconnect executable the replicas run.
	Binary string
	// RedisURL is the store of the replicas (a cluster: ?addr= repeated);
	// empty: the embedded store, in a temporary directory.
	RedisURL string
	Replicas int
	Seed     bool
	Workers  int
	Options  Options
}

// Main runs the command: seeds, starts the replicas, runs the workloads,
// stops everything it started. It returns the exit code: 1 when a call or
// a check failed, 2 for bad flags.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 2
	}
	cfg.Options.Out = stdout
	ok, err := runCommand(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	if !ok {
		fmt.Fprintln(stderr, "loadgen: some calls or checks failed (see above)")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (CommandConfig, error) {
	var c CommandConfig
	o := &c.Options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Binary, "zoomconnect", "", "zoomconnect executable the replicas run (required; go build ./server/cmd/zoomconnect)")
	fs.StringVar(&c.RedisURL, "redis", "", "Redis URL of the store (loopback only); empty: the embedded store")
	fs.IntVar(&c.Replicas, "replicas", 0, "service replicas (default: 1 on the embedded store, 2 on Redis)")
	fs.BoolVar(&c.Seed, "seed", true, "seed the plan's data first (false: it is already in Redis)")
	fs.IntVar(&c.Workers, "seed-workers", 16, "parallel writers while seeding")
	fs.IntVar(&o.Plan.Orgs, "orgs", 1000, "small orgs to seed")
	fs.IntVar(&o.Plan.MembersPerOrg, "members", 10, "members per small org")
	fs.IntVar(&o.Plan.BigOrgMembers, "big-org", 10_000, "members of the big org (roster workload)")
	fs.IntVar(&o.Plan.MidOrgMembers, "mid-org", 1_000, "members of the mid-sized org (roster cost by org size)")
	fs.IntVar(&o.Plan.IndexedMembers, "indexed", 0, "members with a Zoom-user index entry (default: -webhook-events)")
	workloads := fs.String("workloads", "all", "comma-separated workloads: "+strings.Join(AllWorkloads, ","))
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each timed workload")
	fs.IntVar(&o.MaxCalls, "max-calls", 0, "bound on the calls of each timed workload (0: none)")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "concurrent callers")
	fs.IntVar(&o.Connections, "connections", 2, "gRPC connections per replica")
	fs.IntVar(&o.WebhookEvents, "webhook-events", 10_000, "events of webhook-burst")
	fs.DurationVar(&o.WebhookWindow, "webhook-window", time.Minute, "time over which webhook-burst sends its events")
	fs.DurationVar(&o.WebhookDrain, "webhook-drain", 2*time.Minute, "time allowed after the window for every event to be processed")
	fs.Float64Var(&o.MeetingRate, "meeting-rate", 2, "bookings per second of the meetings workload (each: create, update, delete)")
	fs.IntVar(&o.MeetingBookings, "meeting-bookings", 0, "bound on the bookings (0: -duration bounds them)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.Binary == "" {
		return c, errors.New("-zoomconnect is required: the service executable to run")
	}
	if *workloads != "all" {
		o.Workloads = strings.Split(*workloads, ",")
	}
	if o.Plan.IndexedMembers == 0 {
		o.Plan.IndexedMembers = o.WebhookEvents
	}
	if c.Replicas == 0 {
		c.Replicas = 1
		if c.RedisURL != "" {
			c.Replicas = 2
		}
	}
	if c.RedisURL == "" && c.Replicas > 1 {
		return c, errors.New("the embedded store serves one replica (its file is locked): use -redis for more")
	}
	if c.RedisURL != "" {
		if err := loopbackOnly(c.RedisURL); err != nil {
			return c, err
		}
	}
	return c, nil
}

// loopbackOnly refuses a Redis URL naming another machine: the load
// generator would flood it, and seeding writes into it.
func loopbackOnly(rawURL string) error {
	opts, err := redisstore.ParseURL(rawURL)
	if err != nil {
		return err
	}
	for _, addr := range opts.Addrs {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("-redis: %q: %w", addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("-redis: %s is not a loopback address", addr)
		}
	}
	return nil
}

func runCommand(ctx context.Context, c CommandConfig, log io.Writer) (ok bool, err error) {
	dir, err := os.MkdirTemp("", "zoomconnect-loadgen-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	out := c.Options.Out
	fmt.Fprintf(out, "machine: %d CPUs (%s/%s), %s; load average %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())
	fmt.Fprintf(out, "plan: %d orgs × %d members, big org %d, mid org %d (%d members); %d replica(s) on %s\n",
		c.Options.Plan.Orgs, c.Options.Plan.MembersPerOrg, c.Options.Plan.BigOrgMembers, c.Options.Plan.MidOrgMembers,
		c.Options.Plan.Members(), c.Replicas, storeName(c.RedisURL))

	var rdb redis.UniversalClient
	if c.RedisURL != "" {
		opts, err := redisstore.ParseURL(c.RedisURL)
		if err != nil {
			return false, err
		}
		rdb = redis.NewUniversalClient(opts)
		defer rdb.Close()
	}
	dataDir := filepath.Join(dir, "data")
	if c.Seed {
		if err := seedStore(ctx, c, rdb, dataDir); err != nil {
			return false, err
		}
	}

	emu, err := StartEmulator()
	if err != nil {
		return false, err
	}
	defer emu.Close()
	env := Env{
		AuthSecret:    []byte(secrets.NewToken() + secrets.NewToken()),
		WebhookSecret: secrets.NewToken(),
		ZoomAdminID:   DevZoomAdmin, ZoomHostEmail: DevZoomHost,
		Redis: rdb,
	}
	keyring := secrets.GenerateKeyringSpec()
	for i := range c.Replicas {
		replicaDir := dataDir
		if c.RedisURL != "" {
			replicaDir = filepath.Join(dir, fmt.Sprintf("replica-%d", i))
		}
		rep, stop, err := startReplica(ctx, c.Binary, replicaDir, filepath.Join(dir, fmt.Sprintf("replica-%d.log", i)), append(emu.Env(),
			"ZOOMCONNECT_REDIS_URL="+c.RedisURL,
			"ZOOMCONNECT_AUTH_HS256_SECRET="+string(env.AuthSecret),
			"ZOOMCONNECT_ENCRYPTION_KEYS="+keyring,
			"ZOOM_WEBHOOK_SECRET_TOKEN="+env.WebhookSecret,
			"ZOOMCONNECT_LOG_LEVEL=error",
		))
		if err != nil {
			return false, fmt.Errorf("replica %d: %w", i, err)
		}
		defer stop()
		env.Replicas = append(env.Replicas, rep)
	}
	fmt.Fprintf(out, "replicas: %v\n", env.Replicas)

	results, err := Run(ctx, env, c.Options)
	if err != nil {
		return false, err
	}
	ok = true
	for _, r := range results {
		ok = ok && r.Stats.ErrorCount() == 0 && len(r.Failures) == 0
	}
	if rdb != nil {
		if err := printRedisLayout(ctx, out, rdb); err != nil {
			return false, err
		}
	}
	fmt.Fprintf(out, "\nload average at the end: %s\n", loadAverage())
	return ok, nil
}

func storeName(redisURL string) string {
	switch {
	case redisURL == "":
		return "the embedded store"
	case strings.Contains(redisURL, "addr=") || strings.Contains(redisURL, "cluster=true"):
		return "Redis Cluster"
	}
	return "Redis"
}

// seedStore seeds the plan into Redis (reporting its memory before and
// after) or into the embedded file the replica will open.
func seedStore(ctx context.Context, c CommandConfig, rdb redis.UniversalClient, dataDir string) error {
	out := c.Options.Out
	var st store.Store
	var err error
	var before []RedisNode
	if rdb != nil {
		if before, err = redisNodes(ctx, rdb); err != nil {
			return err
		}
		st, err = redisstore.New(ctx, c.RedisURL)
	} else {
		if err = os.MkdirAll(dataDir, 0o700); err == nil {
			st, err = boltstore.Open(filepath.Join(dataDir, "zoomconnect.db"))
		}
	}
	if err != nil {
		return err
	}
	rep, err := Seed(ctx, st, c.Options.Plan, c.Workers)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d orgs, %d members, %d index entries in %s (%.0f members/s)\n", rep.Orgs, rep.Members, rep.IndexEntries,
		rep.Elapsed.Round(time.Millisecond), float64(rep.Members)/rep.Elapsed.Seconds())
	if rdb != nil {
		after, err := redisNodes(ctx, rdb)
		if err != nil {
			return err
		}
		grown := totalMemory(after) - totalMemory(before)
		fmt.Fprintf(out, "redis memory: %.1f MB → %.1f MB: %.0f bytes per seeded member (records, org records and index entries included)\n",
			float64(totalMemory(before))/(1<<20), float64(totalMemory(after))/(1<<20), float64(grown)/float64(max(rep.Members, 1)))
	} else if fi, err := os.Stat(filepath.Join(dataDir, "zoomconnect.db")); err == nil {
		fmt.Fprintf(out, "embedded file: %.1f MB, %.0f bytes per seeded member\n", float64(fi.Size())/(1<<20), float64(fi.Size())/float64(max(rep.Members, 1)))
	}
	return nil
}

// startReplica runs the service on free loopback ports and waits until it
// is ready; stop ends it (SIGTERM, then SIGKILL after 15 s).
func startReplica(ctx context.Context, binary, dataDir, logPath string, env []string) (Replica, func(), error) {
	grpcAddr, err1 := freeAddr()
	httpAddr, err2 := freeAddr()
	if err := errors.Join(err1, err2); err != nil {
		return Replica{}, nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return Replica{}, nil, err
	}
	cmd := exec.Command(binary)
	// several replicas share the machine: no admin listener (it would take
	// the same default port in each)
	cmd.Env = append(os.Environ(), append(env, "ZOOMCONNECT_GRPC_ADDR="+grpcAddr, "ZOOMCONNECT_HTTP_ADDR="+httpAddr,
		"ZOOMCONNECT_ADMIN_ADDR="+config.AdminOff, "ZOOMCONNECT_DATA_DIR="+dataDir)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return Replica{}, nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited); logFile.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get("http://" + httpAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return Replica{GRPCAddr: grpcAddr, HTTPAddr: httpAddr, PID: cmd.Process.Pid}, stop, nil
			}
		}
		select {
		case <-exited:
			logTail, _ := os.ReadFile(logPath)
			return Replica{}, nil, fmt.Errorf("zoomconnect exited: %s", tail(logTail, 2000))
		case <-ctx.Done():
			stop()
			return Replica{}, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return Replica{}, nil, errors.New("zoomconnect was not ready within 30s")
		}
	}
}

func tail(b []byte, n int) string { return string(b[max(0, len(b)-n):]) }

// freeAddr returns a loopback address nothing listens on (the service
// binds it a moment later).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// printRedisLayout reports keys and memory per node and, on a cluster,
// where the big org lives: its keys share one hash slot, so one node holds
// all of them.
func printRedisLayout(ctx context.Context, out io.Writer, rdb redis.UniversalClient) error {
	nodes, err := redisNodes(ctx, rdb)
	if err != nil {
		return err
	}
	var keys int64
	for _, n := range nodes {
		keys += n.Keys
	}
	fmt.Fprintf(out, "\n== redis layout: %d keys, %.1f MB\n", keys, float64(totalMemory(nodes))/(1<<20))
	for _, n := range nodes {
		fmt.Fprintf(out, "  node %s: %d keys (%.1f%%), %.1f MB, %d commands since start\n", n.Addr, n.Keys,
			100*float64(n.Keys)/float64(max(keys, 1)), float64(n.UsedMemory)/(1<<20), n.Commands)
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return nil
	}
	slot, err := cc.ClusterKeySlot(ctx, "{org:"+BigOrg+"}").Result()
	if err != nil {
		return err
	}
	var inSlot int64
	var owner string
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		k, err := n.ClusterCountKeysInSlot(ctx, int(slot)).Result()
		if k > 0 {
			inSlot, owner = k, n.Options().Addr
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  org %s: all %d keys in slot %d on node %s: %.1f%% of all keys, 1 of 16384 slots\n",
		BigOrg, inSlot, slot, owner, 100*float64(inSlot)/float64(max(keys, 1)))
	return nil
}
