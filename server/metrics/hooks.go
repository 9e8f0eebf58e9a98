package metrics

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// UnaryInFlight and StreamInFlight keep zoomconnect_grpc_server_in_flight_requests.
func UnaryInFlight() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		g := grpcInFlight.WithLabelValues(splitMethod(info.FullMethod))
		g.Inc()
		defer g.Dec()
		return handler(ctx, req)
	}
}

// StreamInFlight: see UnaryInFlight.
func StreamInFlight() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		g := grpcInFlight.WithLabelValues(splitMethod(info.FullMethod))
		g.Inc()
		defer g.Dec()
		return handler(srv, ss)
	}
}

// splitMethod splits "/pkg.Service/Method" as go-grpc-middleware does.
func splitMethod(full string) (string, string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", "unknown"
}

// webhookOldest is when the oldest event this replica's webhook worker holds
// was sent by Zoom (Unix nanoseconds), 0 when its last claim found none.
var webhookOldest atomic.Int64

var _ = factory.NewGaugeFunc(prometheus.GaugeOpts{
	Namespace: Namespace, Name: "webhook_queue_oldest_age_seconds",
	Help: "Age (since Zoom sent it) of the oldest queued Zoom event this replica's webhook worker claimed and has not finished; 0 when the queue was empty at its last claim.",
}, func() float64 {
	t := webhookOldest.Load()
	if t == 0 {
		return 0
	}
	return time.Since(time.Unix(0, t)).Seconds()
})

// SetWebhookQueueOldest records the sending time of the oldest event the
// worker holds; the zero time says it holds none.
func SetWebhookQueueOldest(t time.Time) {
	if t.IsZero() {
		webhookOldest.Store(0)
		return
	}
	webhookOldest.Store(t.UnixNano())
}

// ConnectionKey is one series of zoomconnect_connections.
type ConnectionKey struct{ Kind, State string }

// CountConnections counts the connections in the store.
type CountConnections func(ctx context.Context) (map[ConnectionKey]int, error)

// Connection kinds and states always reported (as 0 when there is none), so
// that alerts and dashboards have a series to read.
var (
	connectionKinds  = []string{"org", "personal"}
	connectionStates = []string{"active", "needs_reconnect", "not_connected"}
)

// NewConnectionCollector reports zoomconnect_connections from count, run at
// scrape time but at most once per every (the result is reused in between),
// so that several Prometheus servers scraping do not multiply the store
// reads.
func NewConnectionCollector(count CountConnections, every time.Duration, log *slog.Logger) prometheus.Collector {
	return &connectionCollector{count: count, every: every, log: log}
}

type connectionCollector struct {
	count CountConnections
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	last    map[ConnectionKey]int
	counted time.Time
}

func (c *connectionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- connectionsDesc }

func (c *connectionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || time.Since(c.counted) >= c.every {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		counts, err := c.count(ctx)
		cancel()
		if err != nil {
			c.log.Warn("counting connections for /metrics", "error", err)
			ch <- prometheus.NewInvalidMetric(connectionsDesc, err)
			return
		}
		c.last, c.counted = counts, time.Now()
	}
	for _, kind := range connectionKinds {
		for _, state := range connectionStates {
			n := c.last[ConnectionKey{Kind: kind, State: state}]
			ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), kind, state)
		}
	}
}
