package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// BenchmarkTelemetryCost runs the service twice on the embedded store,
// with telemetry off (no admin listener, so no RPC metrics; no tracing)
// and on (metrics; tracing sampled at 1% into a batching exporter that
// drops what it gets), and calls the health check and the resolver of both
// in alternating bursts of 1024, so that machine noise hits all four alike.
// It reports the resolver/health throughput ratio of each, and what
// telemetry adds to one call of each.
//
//	go test -run '^$' -bench BenchmarkTelemetryCost -benchtime 20000x ./server/app/
func BenchmarkTelemetryCost(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.01))))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	off := newHarness(b, "", withService(func(c *config.Config) { c.AdminAddr = "" }))
	on := newHarnessWith(b, "", []app.Option{app.WithTracing(telemetry.Tracing{Provider: tp, Shutdown: tp.Shutdown})})

	type calls struct{ health, resolve func(int) error }
	prepare := func(h *harness) calls {
		o := newOrg(h, b, grpcTransport{h}, "cost")
		o.connect(b)
		o.upsertMembers(b)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(b))
		health, zc := healthpb.NewHealthClient(h.conn), zcv1.NewConnectionServiceClient(h.conn)
		users := []string{"mia", "adam", "liam"}
		return calls{
			health: func(int) error { _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); return err },
			resolve: func(i int) error {
				u := users[i%len(users)]
				resp, err := zc.GetEffectiveZoomAccount(ctx, &zcv1.GetEffectiveZoomAccountRequest{OrgId: o.id, UserId: u})
				if err == nil && resp.GetAccount().GetUserId() != u {
					err = fmt.Errorf("resolution of %s answered for %q", u, resp.GetAccount().GetUserId())
				}
				return err
			},
		}
	}
	cOff, cOn := prepare(off), prepare(on)
	b.ResetTimer()
	var hOff, rOff, hOn, rOn time.Duration
	for done := 0; done < b.N; done += 1024 {
		n := min(1024, b.N-done)
		hOff += benchBurst(b, n, cOff.health)
		rOff += benchBurst(b, n, cOff.resolve)
		hOn += benchBurst(b, n, cOn.health)
		rOn += benchBurst(b, n, cOn.resolve)
	}
	b.ReportMetric(float64(hOff)/float64(rOff), "ratio-off")
	b.ReportMetric(float64(hOn)/float64(rOn), "ratio-on")
	b.ReportMetric(float64((hOn-hOff).Nanoseconds())/float64(b.N), "health-added-ns/call")
	b.ReportMetric(float64((rOn-rOff).Nanoseconds())/float64(b.N), "resolve-added-ns/call")
}
