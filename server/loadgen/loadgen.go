// Package loadgen drives a running zoomconnect (one or more replicas) with
// named workloads and reports them as ghz does (calls, errors, RPS,
// p50/p90/p99) together with the servers' CPU time and RSS from /proc and,
// on Redis, the commands and memory of every node.
//
// Data comes from Seed, the bulk seeding path: it writes orgs and members
// through the store interface, as the service would have after the orgs
// connected and their members were matched, at tens of thousands of
// members per second. The meetings workload uses an org connected to the
// Zoom emulator through the real OAuth flow instead, since it calls Zoom.
//
// Every workload is bounded by a duration and a number of calls; the run
// talks to loopback addresses only and stops by itself. See the README's
// "Capacity" section for the command (server/cmd/loadgen) and the figures.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/auth"
)

// Workload names, in the order "all" runs them.
const (
	Health       = "health"
	ResolveHot   = "resolve-hot"
	ResolveWide  = "resolve-wide"
	ResolveZipf  = "resolve-zipf"
	Batch        = "batch"
	Roster       = "roster"
	WebhookBurst = "webhook-burst"
	Meetings     = "meetings"
)

// AllWorkloads lists every workload.
var AllWorkloads = []string{Health, ResolveHot, ResolveWide, ResolveZipf, Batch, Roster, WebhookBurst, Meetings}

// Replica is one running zoomconnect process.
type Replica struct {
	GRPCAddr string
	HTTPAddr string
	// PID is read in /proc for CPU time and RSS.
	PID int
}

// Env is what the workloads run against.
type Env struct {
	Replicas []Replica
	// AuthSecret is the services' HS256 caller-token secret.
	AuthSecret []byte
	// WebhookSecret is a Zoom webhook secret token the services accept.
	WebhookSecret string
	// ZoomAdminID is the emulator's Zoom user who approves the install of
	// the meetings org; ZoomHostEmail has a Zoom user in that account.
	ZoomAdminID   string
	ZoomHostEmail string
	// Redis is the services' Redis, read for commands and memory; nil for
	// the embedded store.
	Redis redis.UniversalClient
}

// Options shape a run.
type Options struct {
	Plan      Plan
	Workloads []string
	// Duration bounds each workload (roster: each org and filter;
	// webhook-burst: the idle probe).
	Duration time.Duration
	// MaxCalls bounds the calls of each timed workload (0: no bound).
	MaxCalls int
	// Concurrency is the number of callers; Connections the gRPC
	// connections per replica.
	Concurrency int
	Connections int
	// WebhookEvents are sent evenly over WebhookWindow, then the run waits
	// up to WebhookDrain for all to be processed.
	WebhookEvents int
	WebhookWindow time.Duration
	WebhookDrain  time.Duration
	// MeetingRate bookings per second, each created, updated and deleted
	// (on alternating replicas), MeetingBookings at most.
	MeetingRate     float64
	MeetingBookings int
	Out             io.Writer
}

// Result is one workload's outcome.
type Result struct {
	Workload  string
	Stats     Stats
	Processes []Process
	// Redis holds each node's command counts over the workload (Keys and
	// UsedMemory as at its end); nil on the embedded store.
	Redis []RedisNode
	// Notes are further lines of the report.
	Notes []string
	// Failures are checks that failed (lost events, wrong roster rows).
	Failures []string
}

// Run runs the workloads in order and prints each result to o.Out as it
// completes. It returns the results, and an error if a workload could not
// run at all; failed calls and checks are in the results.
func Run(ctx context.Context, env Env, o Options) ([]Result, error) {
	if len(env.Replicas) == 0 {
		return nil, errors.New("loadgen: no replica to drive")
	}
	o = o.withDefaults()
	r, err := newRunner(env, o)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var results []Result
	for _, name := range o.Workloads {
		run, ok := r.workloads()[name]
		if !ok {
			return results, fmt.Errorf("loadgen: unknown workload %q (known: %s)", name, strings.Join(AllWorkloads, ", "))
		}
		res, err := r.measure(ctx, name, run)
		if err != nil {
			return results, fmt.Errorf("loadgen: %s: %w", name, err)
		}
		printResult(o.Out, res)
		results = append(results, res)
	}
	return results, nil
}

func (o Options) withDefaults() Options {
	if len(o.Workloads) == 0 {
		o.Workloads = AllWorkloads
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Concurrency = max(o.Concurrency, 1)
	o.Connections = max(o.Connections, 1)
	if o.WebhookWindow <= 0 {
		o.WebhookWindow = time.Minute
	}
	if o.WebhookDrain <= 0 {
		o.WebhookDrain = 2 * time.Minute
	}
	if o.MeetingRate <= 0 {
		o.MeetingRate = 2
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o
}

// runner holds the connections and tokens of a run.
type runner struct {
	env   Env
	o     Options
	conns []*grpc.ClientConn // Connections per replica, replica-major
	// internalMD and ownerMD carry the caller tokens: an internal
	// service's, and an owner's of the orgs that need one.
	internalMD metadata.MD
	ownerMD    map[string]metadata.MD
}

func newRunner(env Env, o Options) (*runner, error) {
	r := &runner{env: env, o: o, ownerMD: map[string]metadata.MD{}}
	tok, err := auth.Mint(env.AuthSecret, auth.Claims{Subject: "loadgen", Scope: auth.Scope{auth.InternalScope}}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	r.internalMD = metadata.Pairs("authorization", "Bearer "+tok)
	for _, orgID := range []string{BigOrg, MidOrg, ZoomOrg} {
		tok, err := auth.Mint(env.AuthSecret, auth.Claims{Subject: "lg-owner", OrgID: orgID, OrgRole: auth.RoleOwner}, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		r.ownerMD[orgID] = metadata.Pairs("authorization", "Bearer "+tok)
	}
	for _, rep := range env.Replicas {
		for range o.Connections {
			c, err := grpc.NewClient(rep.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				r.close()
				return nil, err
			}
			r.conns = append(r.conns, c)
		}
	}
	return r, nil
}

func (r *runner) close() {
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// conn returns the connection worker w uses: workers spread over the
// replicas and their connections.
func (r *runner) conn(w int) *grpc.ClientConn { return r.conns[w%len(r.conns)] }

// replicaConn returns a connection to replica i (modulo their number).
func (r *runner) replicaConn(i int) *grpc.ClientConn {
	return r.conns[(i%len(r.env.Replicas))*r.o.Connections]
}

func (r *runner) asInternal(ctx context.Context) context.Context {
	return metadata.NewOutgoingContext(ctx, r.internalMD)
}

func (r *runner) asOwner(ctx context.Context, orgID string) context.Context {
	return metadata.NewOutgoingContext(ctx, r.ownerMD[orgID])
}

// pids lists the replicas' processes, each once (replicas in one process,
// as in tests, share theirs).
func (r *runner) pids() []int {
	var pids []int
	for _, rep := range r.env.Replicas {
		if !slices.Contains(pids, rep.PID) {
			pids = append(pids, rep.PID)
		}
	}
	return pids
}

// workload runs the calls of one workload and returns their stats, notes
// and failed checks.
type workload func(ctx context.Context, res *Result) error

func (r *runner) workloads() map[string]workload {
	return map[string]workload{
		Health:       r.health,
		ResolveHot:   r.resolveHot,
		ResolveWide:  r.resolveWide,
		ResolveZipf:  r.resolveZipf,
		Batch:        r.batch,
		Roster:       r.roster,
		WebhookBurst: r.webhookBurst,
		Meetings:     r.meetings,
	}
}

// measure runs one workload between readings of /proc and Redis.
func (r *runner) measure(ctx context.Context, name string, run workload) (Result, error) {
	res := Result{Workload: name}
	var before []RedisNode
	if r.env.Redis != nil {
		var err error
		if before, err = redisNodes(ctx, r.env.Redis); err != nil {
			return res, fmt.Errorf("reading Redis: %w", err)
		}
	}
	probe := startProcProbe(r.pids())
	err := run(ctx, &res)
	res.Processes = probe.end()
	if err != nil {
		return res, err
	}
	if r.env.Redis != nil {
		after, err := redisNodes(ctx, r.env.Redis)
		if err != nil {
			return res, fmt.Errorf("reading Redis: %w", err)
		}
		res.Redis = redisDelta(before, after)
	}
	return res, nil
}

// drive calls op from workers callers until d has passed (calls in flight
// then finish, as ghz's --duration-stop wait) or o.MaxCalls calls were
// made.
func (r *runner) drive(ctx context.Context, workers int, d time.Duration, op func(ctx context.Context, w int) error) Stats {
	rec := newRecorder()
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && (r.o.MaxCalls <= 0 || calls.Add(1) <= int64(r.o.MaxCalls)) {
				t0 := time.Now()
				err := op(ctx, w)
				if ctx.Err() != nil {
					return // the run was cancelled: not the service's failure
				}
				rec.record(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	return rec.stats(time.Since(start))
}

// waitUntil sleeps until t, for paced workloads; false when ctx ended first.
func waitUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (r *runner) health(ctx context.Context, res *Result) error {
	res.Stats = r.drive(ctx, r.o.Concurrency, r.o.Duration, func(ctx context.Context, w int) error {
		_, err := healthpb.NewHealthClient(r.conn(w)).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	})
	return nil
}

// resolveOne resolves one member and checks that the answer is the
// member's.
func (r *runner) resolveOne(ctx context.Context, w int, t target) error {
	resp, err := zcv1.NewConnectionServiceClient(r.conn(w)).GetEffectiveZoomAccount(r.asInternal(ctx),
		&zcv1.GetEffectiveZoomAccountRequest{OrgId: t.orgID, UserId: t.userID})
	if err != nil {
		return err
	}
	if got := resp.GetAccount().GetUserId(); got != t.userID {
		return fmt.Errorf("resolved %s/%s, got an answer for %q", t.orgID, t.userID, got)
	}
	return nil
}

// hotSet is a few members of one org: what a cache always holds.
func (r *runner) hotSet() []target {
	p := r.o.Plan
	orgID, n := OrgID(0), p.MembersPerOrg
	if p.Orgs == 0 || n == 0 {
		orgID, n = BigOrg, p.BigOrgMembers
	}
	hot := make([]target, min(n, 10))
	for i := range hot {
		hot[i] = target{orgID, UserID(i)}
	}
	return hot
}

func (r *runner) resolveHot(ctx context.Context, res *Result) error {
	hot := r.hotSet()
	if len(hot) == 0 {
		return errors.New("the plan seeds no member")
	}
	res.Stats = r.drive(ctx, r.o.Concurrency, r.o.Duration, func(ctx context.Context, w int) error {
		return r.resolveOne(ctx, w, hot[rand.N(len(hot))])
	})
	res.Notes = append(res.Notes, fmt.Sprintf("%d members of org %s", len(hot), hot[0].orgID))
	return nil
}

// memberAt maps 0 ≤ i < Plan.Members() to a member: the small orgs' first.
func (p Plan) memberAt(i int) target {
	if small := p.Orgs * p.MembersPerOrg; i < small {
		return target{OrgID(i / p.MembersPerOrg), UserID(i % p.MembersPerOrg)}
	} else if i -= small; i < p.BigOrgMembers {
		return target{BigOrg, UserID(i)}
	} else {
		return target{MidOrg, UserID(i - p.BigOrgMembers)}
	}
}

func (r *runner) resolveWide(ctx context.Context, res *Result) error {
	n := r.o.Plan.Members()
	if n == 0 {
		return errors.New("the plan seeds no member")
	}
	res.Stats = r.drive(ctx, r.o.Concurrency, r.o.Duration, func(ctx context.Context, w int) error {
		return r.resolveOne(ctx, w, r.o.Plan.memberAt(rand.N(n)))
	})
	res.Notes = append(res.Notes, fmt.Sprintf("uniform over %d members of %d orgs", n, len(r.o.Plan.orgSizes())))
	return nil
}

// zipfS is the skew of resolve-zipf: the org of rank k gets calls in
// proportion to 1/(1+k)^zipfS, and members of an org likewise.
const zipfS = 1.1

func (r *runner) resolveZipf(ctx context.Context, res *Result) error {
	p := r.o.Plan
	if p.Orgs == 0 || p.MembersPerOrg == 0 {
		return errors.New("resolve-zipf needs small orgs with members")
	}
	pickers := make([]func() target, r.o.Concurrency)
	for w := range pickers {
		src := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		orgs := newZipf(src, p.Orgs)
		members := newZipf(src, p.MembersPerOrg)
		pickers[w] = func() target { return target{OrgID(orgs()), UserID(members())} }
	}
	res.Stats = r.drive(ctx, r.o.Concurrency, r.o.Duration, func(ctx context.Context, w int) error {
		return r.resolveOne(ctx, w, pickers[w]())
	})
	res.Notes = append(res.Notes, fmt.Sprintf("Zipf (s=%.1f) over %d orgs and over the members of each", zipfS, p.Orgs))
	return nil
}

// newZipf returns a sampler of ranks in [0, n) with P(k) ∝ 1/(1+k)^zipfS,
// by inverting the cumulative distribution (math/rand/v2 has no Zipf).
func newZipf(src *rand.Rand, n int) func() int {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), zipfS)
		cdf[k] = sum
	}
	return func() int {
		u := src.Float64() * sum
		lo, hi := 0, n-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cdf[mid] < u {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
}

// batchSize is the members per BatchGetEffectiveZoomAccounts call, as a
// team booking page asks.
const batchSize = 100

func (r *runner) batch(ctx context.Context, res *Result) error {
	var orgs []orgSize
	for _, o := range r.o.Plan.orgSizes() {
		if o.members >= batchSize {
			orgs = append(orgs, o)
		}
	}
	if len(orgs) == 0 {
		return fmt.Errorf("no seeded org has %d members", batchSize)
	}
	res.Stats = r.drive(ctx, r.o.Concurrency, r.o.Duration, func(ctx context.Context, w int) error {
		o := orgs[rand.N(len(orgs))]
		ids := make([]string, 0, batchSize)
		seen := map[int]bool{}
		for len(ids) < batchSize {
			if i := rand.N(o.members); !seen[i] {
				seen[i] = true
				ids = append(ids, UserID(i))
			}
		}
		resp, err := zcv1.NewConnectionServiceClient(r.conn(w)).BatchGetEffectiveZoomAccounts(r.asInternal(ctx),
			&zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: o.orgID, UserIds: ids})
		if err == nil && len(resp.GetAccounts()) != len(ids) {
			err = fmt.Errorf("asked for %d members, got %d answers", len(ids), len(resp.GetAccounts()))
		}
		return err
	})
	res.Notes = append(res.Notes, fmt.Sprintf("%d random members of one org per call, orgs with ≥ %d members: %d", batchSize, batchSize, len(orgs)))
	return nil
}
