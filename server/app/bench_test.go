package app_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// BenchmarkResolver measures the precedence resolver of the booking hot
// path beside the cheapest RPC the server has, its own gRPC health check,
// over the harness's loopback connection, on the embedded store and on a
// standalone Redis (with the in-process resolution cache in front of both):
//
//	health      grpc.health.v1.Health/Check
//	resolve     GetEffectiveZoomAccount with an internal token, cycling over 100 members
//	alternating both, in alternating bursts of 1024 calls; reports rps-vs-health
//	batch100    BatchGetEffectiveZoomAccounts of those 100 members
//
// Calls come from GOMAXPROCS×8 goroutines (16 on 2 cores, the concurrency
// .ci/bench-resolver gives ghz). allocs/op and B/op count this process:
// client and service together. rps-vs-health is the resolver's throughput
// as a fraction of the health check's (the target is ≥ 0.80), measured in
// alternation rather than from health's and resolve's ns/op because on a
// small shared machine the noise between two sub-benchmarks run seconds
// apart is larger than the difference sought.
func BenchmarkResolver(b *testing.B) {
	for _, be := range backends[:2] { // embedded, redis
		b.Run(be.name, func(b *testing.B) {
			h := newHarness(b, be.redisURL(b))
			o := newOrg(h, b, grpcTransport{h}, "bench")
			o.connect(b)
			o.upsertMembers(b)
			// user-000…user-099 take the test members' emails in turn: two
			// in three have a Zoom user in the org's account.
			users := make([]string, 100)
			for i := range users {
				users[i] = fmt.Sprintf("user-%03d", i)
				m := testMembers[i%len(testMembers)]
				must(b, o.tr.call(b, internalToken(b), zcv1.ConnectionService_UpsertOrgMember_FullMethodName,
					&zcv1.UpsertOrgMemberRequest{OrgId: o.id, UserId: users[i], Member: &zcv1.OrgMember{Email: m.GetEmail(), Name: m.GetName()}},
					&zcv1.UpsertOrgMemberResponse{}))
			}
			o.waitMatched(b) // the lookups run in the background: not while measuring
			wantResolution(b, o.resolve(b, "user-000"), srcOrg, zcv1.ResolutionReason_RESOLUTION_REASON_ORG_CONNECTED, zoomemu.DevMemberID)
			wantResolution(b, o.resolve(b, "user-002"), srcNone, zcv1.ResolutionReason_RESOLUTION_REASON_USER_NOT_IN_ZOOM_ACCOUNT, "")

			health := healthpb.NewHealthClient(h.conn)
			zc := zcv1.NewConnectionServiceClient(h.conn)
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(b))

			checkHealth := func(int) error {
				_, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
				return err
			}
			resolve := func(i int) error {
				u := users[i%len(users)]
				resp, err := zc.GetEffectiveZoomAccount(ctx, &zcv1.GetEffectiveZoomAccountRequest{OrgId: o.id, UserId: u})
				if err == nil && resp.GetAccount().GetUserId() != u {
					err = fmt.Errorf("resolution of %s answered for %q", u, resp.GetAccount().GetUserId())
				}
				return err
			}
			b.Run("health", func(b *testing.B) { benchParallel(b, checkHealth) })
			b.Run("resolve", func(b *testing.B) { benchParallel(b, resolve) })
			b.Run("alternating", func(b *testing.B) {
				// b.N health checks and b.N resolutions in alternating
				// bursts of 1024, so that machine noise hits both alike.
				var healthTime, resolveTime time.Duration
				for done := 0; done < b.N; done += 1024 {
					n := min(1024, b.N-done)
					healthTime += benchBurst(b, n, checkHealth)
					resolveTime += benchBurst(b, n, resolve)
				}
				b.ReportMetric(float64(healthTime)/float64(resolveTime), "rps-vs-health")
				b.ReportMetric(float64(healthTime.Nanoseconds())/float64(b.N), "health-ns/call")
				b.ReportMetric(float64(resolveTime.Nanoseconds())/float64(b.N), "resolve-ns/call")
			})
			b.Run("batch100", func(b *testing.B) {
				req := &zcv1.BatchGetEffectiveZoomAccountsRequest{OrgId: o.id, UserIds: users}
				benchParallel(b, func(int) error {
					resp, err := zc.BatchGetEffectiveZoomAccounts(ctx, req)
					if err == nil && len(resp.GetAccounts()) != len(users) {
						err = fmt.Errorf("%d resolutions for %d users", len(resp.GetAccounts()), len(users))
					}
					return err
				})
			})
		})
	}
}

// benchParallel runs call b.N times in all from GOMAXPROCS×8 goroutines; i
// counts the calls of one goroutine.
func benchParallel(b *testing.B, call func(i int) error) {
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := call(i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchBurst makes n calls from GOMAXPROCS×8 goroutines, as benchParallel
// does, and returns how long they took.
func benchBurst(b *testing.B, n int, call func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range runtime.GOMAXPROCS(0) * 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := call(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(began)
}
