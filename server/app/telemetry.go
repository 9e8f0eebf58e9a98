package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/metrics"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	"github.com/zoomconnect/zoomconnect/server/web"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
)

// Option adjusts how New builds the service beyond its Config.
type Option func(*App)

// WithTracing instruments the service with t's tracer provider (the
// command line builds it from the OTEL_* variables). Without it nothing is
// traced and no instrumentation runs.
func WithTracing(t telemetry.Tracing) Option { return func(a *App) { a.tracing = t } }

// connectionCensusEvery bounds how often a scrape recounts connections.
const connectionCensusEvery = 30 * time.Second

// grpcServerTelemetry: RPC metrics (outermost, so they see the status the
// caller gets) unless the admin listener is off (nothing could read them),
// and, when tracing, the otelgrpc stats handler.
func (a *App) grpcServerTelemetry() (opts []grpc.ServerOption, unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor) {
	if a.tracing.Enabled() {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(a.tracing.Provider), otelgrpc.WithPropagators(telemetry.Propagator))))
	}
	if a.adminLn != nil {
		unary = []grpc.UnaryServerInterceptor{metrics.GRPC.UnaryServerInterceptor(), metrics.UnaryInFlight()}
		stream = []grpc.StreamServerInterceptor{metrics.GRPC.StreamServerInterceptor(), metrics.StreamInFlight()}
	}
	return opts, unary, stream
}

// gatewayDialTelemetry traces the gateway's loopback calls, so that a REST
// request's trace continues into the gRPC handler.
func (a *App) gatewayDialTelemetry() []grpc.DialOption {
	if !a.tracing.Enabled() {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(a.tracing.Provider), otelgrpc.WithPropagators(telemetry.Propagator)))}
}

// httpTelemetry traces the public HTTP side; it takes the caller's W3C
// traceparent. The span sees the install link's path without the link,
// which is a secret.
func (a *App) httpTelemetry(h http.Handler) http.Handler {
	if !a.tracing.Enabled() {
		return h
	}
	traced := otelhttp.NewHandler(restoreURL(h), "http",
		otelhttp.WithTracerProvider(a.tracing.Provider), otelhttp.WithPropagators(telemetry.Propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, connection.InstallPath) {
			traced.ServeHTTP(w, r)
			return
		}
		traced.ServeHTTP(w, withShownURL(r, &url.URL{Path: connection.InstallPath + "{link}"}))
	})
}

// originalURL keeps a request's real URL (and RequestURI, on a server)
// while instrumentation sees another.
type originalURL struct {
	url        *url.URL
	requestURI string
}

type originalURLKey struct{}

// withShownURL returns a copy of r whose URL is shown (to instrumentation);
// restoreURL puts the real one back for the handler.
func withShownURL(r *http.Request, shown *url.URL) *http.Request {
	c := r.WithContext(context.WithValue(r.Context(), originalURLKey{}, originalURL{r.URL, r.RequestURI}))
	c.URL = shown
	if r.RequestURI != "" { // a server request (a client request has none)
		c.RequestURI = shown.RequestURI()
	}
	return c
}

func restoreURL(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o, ok := r.Context().Value(originalURLKey{}).(originalURL); ok {
			r = r.WithContext(r.Context())
			r.URL, r.RequestURI = o.url, o.requestURI
		}
		h.ServeHTTP(w, r)
	})
}

// route names the public HTTP routes for span names (bounded, no ids).
func route(path string) string {
	for _, prefix := range []string{"/v1/", connection.InstallPath, EmulatorPrefix + "/"} {
		if strings.HasPrefix(path, prefix) {
			return prefix + "…"
		}
	}
	switch path {
	case connection.CallbackPath, webhook.Path, "/healthz", "/readyz":
		return path
	}
	return "other"
}

// zoomTransport counts and, when tracing, traces every call to Zoom;
// otelhttp injects traceparent into the request to Zoom. The span shows
// the endpoint template as the URL path and no query: Zoom's URLs hold
// emails, ids and page tokens.
func (a *App) zoomTransport(oauthURL, apiURL string) http.RoundTripper {
	endpoints := metrics.NewZoomEndpoints(oauthURL, apiURL)
	var base http.RoundTripper = http.DefaultTransport
	if a.tracing.Enabled() {
		traced := otelhttp.NewTransport(restoreURLTransport{base},
			otelhttp.WithTracerProvider(a.tracing.Provider), otelhttp.WithPropagators(telemetry.Propagator),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return "zoom " + r.Method + " " + r.URL.Path
			}))
		base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			shown := &url.URL{Scheme: r.URL.Scheme, Host: r.URL.Host, Path: endpoints.Template(r.URL.Path)}
			return traced.RoundTrip(withShownURL(r, shown))
		})
	}
	return metrics.ZoomTransport(base, endpoints)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// restoreURLTransport sends the request to its real URL (see withShownURL).
type restoreURLTransport struct{ next http.RoundTripper }

func (t restoreURLTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if o, ok := r.Context().Value(originalURLKey{}).(originalURL); ok {
		r = r.WithContext(r.Context())
		r.URL = o.url
	}
	return t.next.RoundTrip(r)
}

// redisTelemetry traces Redis commands, without their arguments (they hold
// sealed tokens and hashed secrets).
func (a *App) redisTelemetry() []redisstore.Option {
	if !a.tracing.Enabled() {
		return nil
	}
	return []redisstore.Option{redisstore.WithInstrumentation(func(c redis.UniversalClient) error {
		return redisotel.InstrumentTracing(c, redisotel.WithTracerProvider(a.tracing.Provider), redisotel.WithDBStatement(false))
	})}
}

// buildAdmin serves /metrics, /debug/pprof/ and the probes on the admin
// listener, never on the public port.
func (a *App) buildAdmin() {
	if a.adminLn == nil {
		return
	}
	own := prometheus.NewRegistry()
	own.MustRegister(metrics.NewConnectionCollector(a.conns.CountConnections, connectionCensusEvery, a.log))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{metrics.Registry, own},
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: slogPrinter{a}}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	web.Probes{Ready: a.ready}.Register(mux)
	a.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

// ready: the store answered the last health ping and the service is not
// shutting down (so that a load balancer stops sending before the
// listeners close).
func (a *App) ready(ctx context.Context) error {
	if a.draining.Load() {
		return errors.New("shutting down")
	}
	return a.storeReady(ctx)
}

// AdminAddr is the bound admin address, empty when the listener is off.
func (a *App) AdminAddr() string {
	if a.adminLn == nil {
		return ""
	}
	return a.adminLn.Addr().String()
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct{ a *App }

func (p slogPrinter) Println(v ...any) {
	p.a.log.Warn("serving /metrics", "error", strings.TrimSpace(fmt.Sprintln(v...)))
}
