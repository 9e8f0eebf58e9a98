// Package metrics holds zoomconnect's Prometheus metrics: one registry that
// the admin listener serves, the RPC metrics of go-grpc-middleware's
// Prometheus provider, and the service's own counters, which call sites
// bump directly. Labels are bounded sets (methods, codes, endpoint
// templates, outcomes): never an org, user, booking or Zoom id.
package metrics

import (
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Namespace prefixes the service's own metrics.
const Namespace = "zoomconnect"

// Registry is what /metrics on the admin listener serves.
var Registry = prometheus.NewRegistry()

var factory = promauto.With(Registry)

// latencyBuckets suit calls that take milliseconds to seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// GRPC counts every RPC by service, method and code, with a handling-time
// histogram. The REST gateway calls the gRPC server over loopback, so REST
// calls are counted here too.
var GRPC = grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(latencyBuckets)))

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		GRPC,
	)
}

// RPCs in flight (go-grpc-middleware counts started and handled only).
var grpcInFlight = factory.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: Namespace, Name: "grpc_server_in_flight_requests",
	Help: "RPCs being handled now, by gRPC service and method.",
}, []string{"grpc_service", "grpc_method"})

// Zoom calls.
var (
	ZoomRequests = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "zoom_requests_total",
		Help: "Calls to Zoom by method, endpoint template, HTTP status class (2xx…5xx, or error when no answer came) and Zoom error code (empty on success).",
	}, []string{"method", "endpoint", "status_class", "zoom_code"})
	ZoomRequestDuration = factory.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "zoom_request_duration_seconds",
		Help:    "Latency of calls to Zoom by method and endpoint template.",
		Buckets: latencyBuckets,
	}, []string{"method", "endpoint"})
	ZoomRateLimited = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "zoom_rate_limited_total",
		Help: "Zoom's 429 answers by endpoint template and limit type (X-RateLimit-Type: qps, daily-limit, or unknown).",
	}, []string{"endpoint", "limit_type"})
	TokenRefreshes = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "token_refreshes_total",
		Help: "Zoom token refreshes by connection kind (org, personal) and outcome (ok, invalid_grant, transient).",
	}, []string{"kind", "outcome"})
	TokenRefreshLeaseWaits = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "token_refresh_lease_waits_total",
		Help: "Token refreshes that waited for another replica holding the connection's refresh lease, by connection kind.",
	}, []string{"kind"})
)

// Webhooks.
var (
	WebhooksReceived = factory.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_received_total",
		Help: "Requests to /webhooks/zoom.",
	})
	WebhooksVerified = factory.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_verified_total",
		Help: "Webhook requests whose signature and timestamp checked out.",
	})
	WebhooksRefused = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_refused_total",
		Help: "Webhook requests refused, by reason (signature, too_large, malformed, method, unreadable).",
	}, []string{"reason"})
	WebhooksQueued = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_queued_total",
		Help: "Verified events the service acts on, by result: queued, duplicate (a retry of a queued event), or error (Zoom will retry).",
	}, []string{"result"})
	WebhooksProcessed = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_processed_total",
		Help: "Queued events the worker finished with, by outcome (ok; retry: left queued for another try; dropped: given up after 10 tries).",
	}, []string{"outcome"})
)

// Change events, the resolver's cache, meetings.
var (
	EventsPublished = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "events_published_total",
		Help: "Connection change events appended to the event stream, by outcome (ok, error).",
	}, []string{"outcome"})
	EventRelayLag = factory.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "event_relay_lag_seconds",
		Help:    "Time from a connection change to its event being in the event stream.",
		Buckets: latencyBuckets,
	})
	cacheLookups = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "resolver_cache_lookups_total",
		Help: "Snapshot reads of the in-process store cache the resolver reads through, by result (hit, miss).",
	}, []string{"result"})
	CacheInvalidationLag = factory.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "resolver_cache_invalidation_lag_seconds",
		Help:    "Time from this replica's commit of a change to its change notification coming back from the store (what every replica waits for before its cache drops the org).",
		Buckets: latencyBuckets,
	})
	Meetings = factory.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "meetings_total",
		Help: "Booking meetings by outcome: created, reused (an existing meeting returned, also one found in Zoom after a lost answer), recreated (deleted in Zoom, made again on reschedule), cancelled.",
	}, []string{"outcome"})
)

// CacheHits and CacheMisses are the two series of
// zoomconnect_resolver_cache_lookups_total, resolved once: the resolver's hot
// path bumps one of them on every call.
var (
	CacheHits   = cacheLookups.WithLabelValues("hit")
	CacheMisses = cacheLookups.WithLabelValues("miss")
)

// Every series of a bounded label set starts at 0, so that rates and alerts
// see it before its first event.
func init() {
	for _, kind := range []string{"org", "personal"} {
		for _, outcome := range []string{"ok", "invalid_grant", "transient"} {
			TokenRefreshes.WithLabelValues(kind, outcome)
		}
		TokenRefreshLeaseWaits.WithLabelValues(kind)
	}
	for _, reason := range []string{"signature", "too_large", "malformed", "method", "unreadable"} {
		WebhooksRefused.WithLabelValues(reason)
	}
	for _, result := range []string{"queued", "duplicate", "error"} {
		WebhooksQueued.WithLabelValues(result)
	}
	for _, outcome := range []string{"ok", "retry", "dropped"} {
		WebhooksProcessed.WithLabelValues(outcome)
	}
	for _, outcome := range []string{"ok", "error"} {
		EventsPublished.WithLabelValues(outcome)
	}
	for _, outcome := range []string{"created", "reused", "recreated", "cancelled"} {
		Meetings.WithLabelValues(outcome)
	}
}

// Connections counted from the store at scrape time (see ConnectionCounter).
var connectionsDesc = prometheus.NewDesc(Namespace+"_connections",
	"Zoom connections by kind (org, personal) and state (active, needs_reconnect, not_connected), counted from the store at scrape time.",
	[]string{"kind", "state"}, nil)
