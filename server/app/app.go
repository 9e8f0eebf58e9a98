// Package app assembles zoomconnect from its configuration and runs it:
// Config → New (validated, listeners bound) → Run(ctx) until ctx ends, then
// an ordered shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/api"
	"github.com/zoomconnect/zoomconnect/server/auth"
	"github.com/zoomconnect/zoomconnect/server/config"
	"github.com/zoomconnect/zoomconnect/server/connection"
	"github.com/zoomconnect/zoomconnect/server/console"
	"github.com/zoomconnect/zoomconnect/server/gateway"
	"github.com/zoomconnect/zoomconnect/server/meeting"
	"github.com/zoomconnect/zoomconnect/server/outbox"
	"github.com/zoomconnect/zoomconnect/server/secrets"
	"github.com/zoomconnect/zoomconnect/server/store"
	"github.com/zoomconnect/zoomconnect/server/store/boltstore"
	"github.com/zoomconnect/zoomconnect/server/store/cachestore"
	"github.com/zoomconnect/zoomconnect/server/store/redisstore"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	"github.com/zoomconnect/zoomconnect/server/tokens"
	"github.com/zoomconnect/zoomconnect/server/web"
	"github.com/zoomconnect/zoomconnect/server/webhook"
	"github.com/zoomconnect/zoomconnect/server/zoom"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	"github.com/zoomconnect/zoomconnect/server/zoomevents"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// EmulatorPrefix is where dev mode mounts the built-in Zoom emulator on the
// service's own HTTP listener.
const EmulatorPrefix = "/zoom-emulator"

// DevHS256SecretFile names the dev-mode caller-token secret in the data dir.
const DevHS256SecretFile = "dev-auth-hs256-secret"

// DevEmulatorStateFile names the built-in Zoom emulator's state (its grants,
// tokens and meetings) in the data dir.
const DevEmulatorStateFile = "dev-zoom-emulator.json"

// App is a built, listening, not yet serving zoomconnect.
type App struct {
	cfg       config.Config
	log       *slog.Logger
	store     store.Store
	grpcLn    net.Listener
	httpLn    net.Listener
	grpc      *grpc.Server
	http      *http.Server
	health    *health.Server
	gatewayCC *grpc.ClientConn
	// cache is the store's in-process cache (store is it, as a store.Store).
	cache   *cachestore.Store
	conns   *connection.Service
	events  *zoomevents.Service
	effects *outbox.Relay
	// wrapStore, if set, wraps the store backend (WithStoreWrapper).
	wrapStore func(store.Store) store.Store
	// storeUp is the store's health as the health watch last saw it.
	storeUp atomic.Bool
	// webhookQueued wakes this process's webhook worker.
	webhookQueued chan struct{}
	// Emulator is the built-in Zoom emulator in dev mode, nil otherwise.
	Emulator *zoomemu.Emulator
	// PublicURL is the effective external base URL.
	PublicURL string
	// devMode: no Zoom app was configured (settle pointed the service at
	// the built-in emulator).
	devMode bool

	// The admin listener (nil when off), the tracing the service is
	// instrumented with, and draining, which fails the admin /readyz once
	// shutdown begins.
	adminLn  net.Listener
	admin    *http.Server
	tracing  telemetry.Tracing
	draining atomic.Bool
}

// WithStoreWrapper puts wrap around the store backend, under the cache, for
// example to inject store failures in tests of crash safety.
func WithStoreWrapper(wrap func(store.Store) store.Store) Option {
	return func(a *App) { a.wrapStore = wrap }
}

// New builds the service from cfg and binds its listeners, so that a start
// failure (a taken port, an unreachable store, a bad key) surfaces before
// anything serves.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (a *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a = &App{cfg: cfg, log: log}
	for _, o := range opts {
		o(a)
	}
	partial := a // every failure returns a nil *App: release what was built
	defer func() {
		if err != nil {
			partial.closeAll()
		}
	}()
	if a.grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("ZOOMCONNECT_GRPC_ADDR: %w", err)
	}
	if a.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("ZOOMCONNECT_HTTP_ADDR: %w", err)
	}
	if cfg.AdminAddr != "" {
		if a.adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			return nil, fmt.Errorf("ZOOMCONNECT_ADMIN_ADDR: %w", err)
		}
	}
	a.devMode = cfg.DevMode()
	var emuCfg *zoomemu.Config
	if cfg, emuCfg, err = settle(cfg, a.httpLn.Addr(), log); err != nil {
		return nil, err
	}
	a.cfg, a.PublicURL = cfg, cfg.PublicURL
	if emuCfg != nil {
		if a.Emulator, err = zoomemu.New(*emuCfg); err != nil {
			return nil, fmt.Errorf("zoom emulator: %w", err)
		}
		log.Warn("DEV MODE: no Zoom app configured (ZOOM_ORG_CLIENT_ID/ZOOM_USER_CLIENT_ID), so the built-in Zoom emulator serves as Zoom; nothing talks to the real Zoom",
			"emulator_url", cfg.ZoomOAuthURL)
	}

	keyring, err := secrets.ParseKeyring(cfg.EncryptionKeys)
	if err != nil {
		return nil, fmt.Errorf("ZOOMCONNECT_ENCRYPTION_KEYS: %w", err)
	}
	verifier, err := auth.NewVerifier(ctx, auth.VerifierConfig{
		HS256Secret: cfg.AuthHS256Secret, JWKSURL: cfg.AuthJWKSURL, Logger: log,
		Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience, MaxUserTokenLifetime: cfg.AuthMaxTokenLifetime,
	})
	if err != nil {
		return nil, err
	}
	if a.store, err = a.openStore(ctx); err != nil {
		return nil, err
	}
	zoomClient := zoom.New(zoom.Config{
		OAuthURL:    cfg.ZoomOAuthURL,
		APIURL:      cfg.ZoomAPIURL,
		RedirectURL: a.PublicURL + connection.CallbackPath,
		OrgApp:      zoom.Credentials(cfg.ZoomOrgApp),
		UserApp:     zoom.Credentials(cfg.ZoomUserApp),
		HTTPClient:  &http.Client{Timeout: cfg.ZoomRequestTimeout, Transport: a.zoomTransport(cfg.ZoomOAuthURL, cfg.ZoomAPIURL)},
	})
	a.effects = outbox.New(a.store, log)
	// A dead grant is the connection's business: tokens reports it there.
	creds := tokens.New(tokens.Config{Store: a.store, Keyring: keyring, Zoom: zoomClient, Logger: log,
		GrantDead: func(ctx context.Context, r tokens.Ref, seen []byte, cause error) error {
			return a.conns.GrantDead(ctx, r, seen, cause)
		}})
	a.conns = connection.New(connection.Config{
		Store: a.store, Effects: a.effects, Tokens: creds, Keyring: keyring, Zoom: zoomClient, PublicURL: a.PublicURL,
		InstallLinkTTL: cfg.InstallLinkTTL, StateTTL: cfg.OAuthStateTTL, StreamHeartbeat: cfg.StreamHeartbeat, Logger: log,
	})
	meetings := meeting.New(meeting.Config{Store: a.store, Effects: a.effects, Connections: a.conns, Tokens: creds,
		Zoom: zoomClient, ZoomRate: cfg.ZoomRate, Logger: log})
	a.events = zoomevents.New(zoomevents.Config{Store: a.store, Connections: a.conns, Tokens: creds, Zoom: zoomClient, Logger: log})

	a.buildGRPC(verifier, a.conns, meetings)
	if err := a.buildHTTP(ctx, verifier, a.conns); err != nil {
		return nil, err
	}
	a.buildAdmin()
	return a, nil
}

// openStore opens the configured backend behind the in-process cache that
// keeps the resolver off the store; from Run on, the cache follows changes
// made by every replica through the backend's change notifications.
func (a *App) openStore(ctx context.Context) (store.Store, error) {
	backend, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	if a.wrapStore != nil {
		backend = a.wrapStore(backend)
	}
	a.cache = cachestore.New(backend)
	return a.cache, nil
}

func (a *App) openBackend(ctx context.Context) (store.Store, error) {
	if a.cfg.RedisURL != "" {
		s, err := redisstore.New(ctx, a.cfg.RedisURL, a.redisTelemetry()...)
		if err != nil {
			return nil, fmt.Errorf("ZOOMCONNECT_REDIS_URL: %w", err)
		}
		a.log.Info("using the Redis store")
		return s, nil
	}
	path := filepath.Join(a.cfg.DataDir, "zoomconnect.db")
	s, err := boltstore.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	a.log.Info("using the embedded store", "path", path)
	return s, nil
}

// publicMethods need no caller token: health checks and reflection.
func publicMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

func (a *App) buildGRPC(v *auth.Verifier, conns *connection.Service, meetings *meeting.Service) {
	ic := api.Interceptors{Logger: a.log, DefaultTimeout: a.cfg.RequestTimeout}
	lim := a.cfg.Limits
	opts, unary, stream := a.grpcServerTelemetry()
	a.grpc = grpc.NewServer(append(opts,
		// Bounded before anything is decoded or authenticated; the
		// defaults (16 MB of metadata, 4 MB messages) let one
		// unauthenticated health check make the process hold megabytes.
		grpc.MaxHeaderListSize(uint32(lim.MaxHeaderBytes)),
		grpc.MaxRecvMsgSize(lim.MaxRequestBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: lim.GRPCMaxConnectionIdle,
			Time:              lim.GRPCKeepaliveTime,
			Timeout:           lim.GRPCKeepaliveTimeout,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: lim.GRPCKeepaliveMinTime}),
		grpc.ForceServerCodecV2(api.Codec()),
		grpc.ChainUnaryInterceptor(append(unary, ic.Unary(), auth.UnaryServerInterceptor(v, publicMethod))...),
		grpc.ChainStreamInterceptor(append(stream, ic.Stream(), auth.StreamServerInterceptor(v, publicMethod))...),
		grpc.UnknownServiceHandler(api.UnknownMethod),
	)...)
	zcv1.RegisterConnectionServiceServer(a.grpc, &api.ConnectionServer{Connections: conns})
	zcv1.RegisterMeetingServiceServer(a.grpc, &api.MeetingServer{Meetings: meetings})
	a.health = health.NewServer()
	a.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(a.grpc, a.health)
	reflection.Register(a.grpc)
}

// watchEventsRoute is the REST route of WatchConnectionEvents, the one
// request that stays open.
const watchEventsRoute = "/v1/zoom/events:watch"

// buildHTTP serves the REST gateway (which calls the gRPC server over
// loopback, so that every REST call passes the same interceptors), the
// OAuth pages, the probes and, in dev mode, the Zoom emulator.
func (a *App) buildHTTP(ctx context.Context, v *auth.Verifier, conns *connection.Service) error {
	cc, err := grpc.NewClient(dialTarget(a.grpcLn.Addr()),
		append(a.gatewayDialTelemetry(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		return fmt.Errorf("gateway client: %w", err)
	}
	a.gatewayCC = cc
	gw, err := gateway.New(ctx, cc)
	if err != nil {
		return err
	}
	lim := a.cfg.Limits
	guarded := web.APIGuard{
		MaxBodyBytes: int64(lim.MaxRequestBytes),
		Authenticate: func(r *http.Request) error { _, err := v.FromHTTP(r); return err },
		Fail:         gw.WriteError,
	}.Wrap(gw)
	mux := http.NewServeMux()
	mux.HandleFunc("/", web.NotFound)
	mux.Handle("/v1/", guarded)
	mux.Handle("GET "+watchEventsRoute, web.LongLived(guarded, lim.HTTPWriteTimeout))
	a.webhookQueued = make(chan struct{}, 1)
	mux.Handle(webhook.Path, &webhook.Handler{
		Secrets: webhookSecrets(a.cfg.ZoomWebhookSecret), Handles: zoomevents.Handles, Store: a.store, Now: time.Now, Logger: a.log,
		Queued: func() {
			select {
			case a.webhookQueued <- struct{}{}:
			default:
			}
		},
	})
	(&web.OAuthPages{Connections: conns, Logger: a.log, BindingTTL: a.cfg.OAuthStateTTL,
		SecureCookies: strings.HasPrefix(a.PublicURL, "https://")}).Register(mux)
	web.Probes{Ready: a.ready}.Register(mux)
	if a.Emulator != nil {
		mux.Handle(EmulatorPrefix+"/", http.StripPrefix(EmulatorPrefix, a.Emulator.Handler()))
	}
	if err := a.mountConsole(mux); err != nil {
		return err
	}
	accessLog := web.AccessLog{Logger: a.log, Slow: api.SlowCall,
		Route: func(r *http.Request) string {
			if route := gw.Route(r); route != "" {
				return route
			}
			return r.Pattern // set by mux; a pattern, never the path of an install link
		},
		// The gRPC server authenticates REST calls; this only names the
		// caller for the log (verified tokens are cached, so it is cheap).
		Caller: func(r *http.Request) string {
			if h := r.Header.Get("Authorization"); h != "" {
				if p, err := v.FromHeader(r.Context(), h); err == nil {
					return p.Subject
				}
			}
			return ""
		},
	}
	a.http = &http.Server{
		Handler:           a.httpTelemetry(accessLog.Wrap(mux)),
		ReadHeaderTimeout: lim.HTTPReadHeaderTimeout,
		ReadTimeout:       lim.HTTPReadTimeout,
		WriteTimeout:      lim.HTTPWriteTimeout,
		IdleTimeout:       lim.HTTPIdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
	}
	return nil
}

// webhookSecrets splits ZOOM_WEBHOOK_SECRET_TOKEN: one secret token per
// Zoom app, comma-separated, since both apps post to the same endpoint.
func webhookSecrets(spec string) [][]byte {
	var out [][]byte
	for _, s := range strings.Split(spec, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

// dialTarget turns a listener address into one the gateway can dial (a
// wildcard listen address is dialled on loopback).
func dialTarget(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// GRPCAddr is the bound gRPC address.
func (a *App) GRPCAddr() string { return a.grpcLn.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Run serves until ctx ends, then shuts down in order: health NOT_SERVING,
// gRPC GracefulStop, HTTP Shutdown, store Close.
func (a *App) Run(ctx context.Context) error {
	// The background work: every goroutine of the app below the servers
	// runs in this group, which ends before the store is closed.
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	background, bgCtx := errgroup.WithContext(bgCtx)
	// The cache serves only while it follows the changes; its
	// subscription ends with bgCtx.
	if err := a.cache.Start(bgCtx); err != nil {
		a.closeAll()
		return fmt.Errorf("subscribing to store changes: %w", err)
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- a.grpc.Serve(a.grpcLn) }()
	go func() {
		if err := a.http.Serve(a.httpLn); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	}()
	if a.admin != nil {
		go func() {
			if err := a.admin.Serve(a.adminLn); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	background.Go(func() error { a.watchStoreHealth(bgCtx); return nil })
	if a.cfg.WebhookWorker {
		background.Go(func() error {
			a.events.RunWorker(bgCtx, "worker-"+secrets.NewToken()[:12], a.webhookQueued, 0)
			return nil
		})
	}
	background.Go(func() error { a.events.RunMonitor(bgCtx, a.cfg.MonitorInterval); return nil })
	background.Go(func() error { a.conns.RunMatcher(bgCtx); return nil })
	background.Go(func() error { return a.effects.Run(bgCtx) })
	a.log.Info("zoomconnect serving", "grpc", a.GRPCAddr(), "http", a.HTTPAddr(), "admin", a.AdminAddr(), "tracing", a.tracing.Enabled(), "public_url", a.PublicURL, "dev_mode", a.devMode)
	if a.devMode {
		a.log.Info("DEV MODE: open the admin console and sign in as a demo person", "console_url", a.PublicURL+console.Path)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		a.log.Error("server stopped unexpectedly", "error", runErr)
	}
	a.shutdown(func() error { stopBackground(); return background.Wait() })
	return runErr
}

// watchStoreHealth keeps the gRPC health status in step with the store.
func (a *App) watchStoreHealth(ctx context.Context) {
	const every = 2 * time.Second
	for {
		pingCtx, cancel := context.WithTimeout(ctx, every)
		status := healthpb.HealthCheckResponse_SERVING
		if err := a.store.Ping(pingCtx); err != nil {
			status = healthpb.HealthCheckResponse_NOT_SERVING
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		a.storeUp.Store(status == healthpb.HealthCheckResponse_SERVING)
		a.health.SetServingStatus("", status)
		for _, svc := range []string{zcv1.ConnectionService_ServiceDesc.ServiceName, zcv1.MeetingService_ServiceDesc.ServiceName} {
			a.health.SetServingStatus(svc, status)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// storeReady answers /readyz from the health watch's last ping, as the gRPC
// health check does: a hung store must not hang the probe (a load balancer
// waits for it).
func (a *App) storeReady(context.Context) error {
	if !a.storeUp.Load() {
		return errors.New("the store did not answer the last health ping")
	}
	return nil
}

// shutdown stops serving, then the background work (stopBackground waits
// for it), then closes the store.
func (a *App) shutdown(stopBackground func() error) {
	a.log.Info("shutting down")
	a.draining.Store(true)
	a.health.Shutdown()
	stopped := make(chan struct{})
	go func() { a.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(a.cfg.ShutdownTimeout):
		a.log.Warn("gRPC graceful stop timed out; stopping hard")
		a.grpc.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.http.Shutdown(ctx); err != nil {
		a.log.Warn("HTTP shutdown", "error", err)
	}
	if err := stopBackground(); err != nil {
		a.log.Warn("background work", "error", err)
	}
	if a.admin != nil {
		// Last, so that probes and scrapes see the shutdown through.
		if err := a.admin.Shutdown(ctx); err != nil {
			a.log.Warn("admin shutdown", "error", err)
		}
	}
	a.closeAll()
	a.log.Info("stopped")
}

// closeAll releases what New acquired; safe on a partly built App.
func (a *App) closeAll() {
	if a.Emulator != nil {
		a.Emulator.Close()
	}
	if a.gatewayCC != nil {
		_ = a.gatewayCC.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("closing store", "error", err)
		}
	}
	for _, ln := range []net.Listener{a.grpcLn, a.httpLn, a.adminLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}
