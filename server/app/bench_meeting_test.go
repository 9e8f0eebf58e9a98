package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"google.golang.org/grpc/metadata"
)

// BenchmarkCreateMeeting measures the whole create path of a new booking
// over loopback gRPC against the Zoom emulator: reservation, resolution,
// Zoom's create call and the record, on the embedded store and on Redis.
// The emulator's daily per-host cap is lifted and the per-account pacing
// raised, so that the service's own cost is what is measured. allocs/op
// counts this process: client, service and emulator together.
func BenchmarkCreateMeeting(b *testing.B) {
	for _, be := range backends[:2] {
		b.Run(be.name, func(b *testing.B) {
			h := newHarness(b, be.redisURL(b),
				withZoom(func(z *zoomemu.Config) { z.MeetingDailyLimit = -1 }),
				withService(func(c *config.Config) { c.ZoomRate = 1e6; c.LogLevel = "error" }))
			o := newOrg(h, b, grpcTransport{h}, "bench")
			o.connect(b)
			o.upsertMembers(b)
			client := zcv1.NewMeetingServiceClient(h.conn)
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(b))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				req := createReq(o, fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), "mia")
				if _, err := client.CreateMeeting(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
