package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	zoomconnectv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// defaultTimeout bounds calls that bring no deadline. It is below the
// server's own default (10s) so that the caller, not the server, decides
// when to give up.
const defaultTimeout = 5 * time.Second

// keepaliveParams detect a dead connection (a replica that vanished without
// closing it) within minutes. Time is the smallest interval that grpc-go
// servers accept by default (keepalive.EnforcementPolicy.MinTime, 5m), and
// pings are sent only while calls are in flight (PermitWithoutStream false,
// as the server's default policy requires); pinging more often would get
// the connection closed with ENHANCE_YOUR_CALM.
var keepaliveParams = keepalive.ClientParameters{
	Time:    5 * time.Minute,
	Timeout: 20 * time.Second,
}

// idempotentReads may be retried safely: sending one twice changes nothing.
// Writes are not retried, because a write that failed with UNAVAILABLE may
// still have happened (StartOrgConnection would then replace the link that
// the first attempt returned to nobody). Naming them through the generated
// constants keeps this list in step with the API.
var idempotentReads = []string{
	zoomconnectv1.ConnectionService_GetOrgConnection_FullMethodName,
	zoomconnectv1.ConnectionService_GetUserZoomSetup_FullMethodName,
	zoomconnectv1.ConnectionService_GetEffectiveZoomAccount_FullMethodName,
	zoomconnectv1.ConnectionService_BatchGetEffectiveZoomAccounts_FullMethodName,
	zoomconnectv1.ConnectionService_ListConnectedUsers_FullMethodName,
	zoomconnectv1.ConnectionService_GetOrgZoomSettings_FullMethodName,
	zoomconnectv1.ConnectionService_ListActivity_FullMethodName,
	zoomconnectv1.ConnectionService_PreviewOrgDisconnect_FullMethodName,
	zoomconnectv1.MeetingService_GetMeeting_FullMethodName,
}

// serviceConfig balances calls over every address the target resolves to
// (round_robin; the default pick_first would pin a process to one replica)
// and retries idempotent reads on UNAVAILABLE, which is what a restarting
// replica or a store hiccup answers. Retry throttling stops retries when
// most calls fail, so that retries never multiply the load of an outage.
var serviceConfig = func() string {
	names := make([]map[string]string, len(idempotentReads))
	for i, m := range idempotentReads {
		service, method, _ := strings.Cut(strings.TrimPrefix(m, "/"), "/")
		names[i] = map[string]string{"service": service, "method": method}
	}
	b, err := json.Marshal(map[string]any{
		"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}},
		"methodConfig": []any{map[string]any{
			"name": names,
			"retryPolicy": map[string]any{
				"maxAttempts":          4,
				"initialBackoff":       "0.2s",
				"maxBackoff":           "2s",
				"backoffMultiplier":    2,
				"retryableStatusCodes": []string{"UNAVAILABLE"},
			},
		}},
		"retryThrottling": map[string]any{"maxTokens": 10, "tokenRatio": 0.1},
	})
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return string(b)
}()

// Option configures Dial.
type Option func(*options)

type options struct {
	insecure    bool
	tlsConfig   *tls.Config
	token       func(context.Context) (string, error)
	timeout     time.Duration
	dialOptions []grpc.DialOption
}

// WithToken sends token as "authorization: Bearer <token>" on every call.
// For tokens that expire, use WithTokenSource.
func WithToken(token string) Option {
	return WithTokenSource(func(context.Context) (string, error) { return token, nil })
}

// WithTokenSource asks source for the bearer token before every call, so
// that rotating tokens take effect without redialing; source should cache
// the token itself. An error from source fails the call before it is sent
// (with UNAUTHENTICATED, unless the error is a gRPC status).
func WithTokenSource(source func(ctx context.Context) (string, error)) Option {
	return func(o *options) { o.token = source }
}

// WithInsecure dials without TLS and allows sending the token in plaintext.
// It is meant for loopback and development only: without it, the client
// refuses to send a token over a connection without transport security.
func WithInsecure() Option {
	return func(o *options) { o.insecure = true }
}

// WithTLSConfig replaces the default TLS configuration (system roots), for
// example to trust a private CA or to present a client certificate.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(o *options) { o.tlsConfig = cfg }
}

// WithDefaultTimeout sets the deadline of unary calls whose context has
// none (default 5s), so that a stuck call cannot hold its caller forever.
// A d <= 0 leaves such calls without a deadline. Streams are left alone:
// WatchConnectionEvents is meant to stay open.
func WithDefaultTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithDialOptions adds gRPC dial options, such as a stats handler or more
// interceptors. They are applied after the defaults and so override them.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Client is a connection to zoomconnect. It is safe for concurrent use and
// reconnects by itself: share one per process and target.
type Client struct {
	conn        *grpc.ClientConn
	connections zoomconnectv1.ConnectionServiceClient
	meetings    zoomconnectv1.MeetingServiceClient
}

// Dial prepares a client of the zoomconnect at target (a gRPC target such as
// "zoomconnect.internal:9090" or "dns:///zoomconnect:9090"). Like
// grpc.NewClient it does not connect yet: an unreachable server shows in
// the first call, as UNAVAILABLE.
func Dial(target string, opts ...Option) (*Client, error) {
	o := options{timeout: defaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.insecure && o.tlsConfig != nil {
		return nil, errors.New("client: WithInsecure and WithTLSConfig exclude each other")
	}
	creds := credentials.NewTLS(o.tlsConfig)
	if o.insecure {
		creds = insecure.NewCredentials()
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithKeepaliveParams(keepaliveParams),
	}
	if o.timeout > 0 {
		dopts = append(dopts, grpc.WithChainUnaryInterceptor(defaultDeadline(o.timeout)))
	}
	if o.token != nil {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{source: o.token, insecure: o.insecure}))
	}
	conn, err := grpc.NewClient(target, append(dopts, o.dialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", target, err)
	}
	return &Client{
		conn:        conn,
		connections: zoomconnectv1.NewConnectionServiceClient(conn),
		meetings:    zoomconnectv1.NewMeetingServiceClient(conn),
	}, nil
}

// Connections returns the ConnectionService client, for calls that have no
// helper here.
func (c *Client) Connections() zoomconnectv1.ConnectionServiceClient { return c.connections }

// Meetings returns the MeetingService client.
func (c *Client) Meetings() zoomconnectv1.MeetingServiceClient { return c.meetings }

// Conn returns the underlying connection, for other services served on the
// same address, such as grpc.health.v1.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection; calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

// defaultDeadline gives calls without a deadline one of d. The deadline
// covers all retry attempts of a call, so retries never outlast it.
func defaultDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// bearer sends the caller's token as "authorization: Bearer <token>", the
// way the server expects it in gRPC metadata.
type bearer struct {
	source   func(context.Context) (string, error)
	insecure bool
}

func (b bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	token, err := b.source(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: token source: %w", err)
	}
	if token == "" {
		return nil, errors.New("client: token source returned an empty token")
	}
	return map[string]string{"authorization": "Bearer " + token}, nil
}

// RequireTransportSecurity makes gRPC refuse to send the token over a
// connection without TLS, unless the caller asked for WithInsecure: a
// bearer token read off the wire is as good as the caller's identity.
func (b bearer) RequireTransportSecurity() bool { return !b.insecure }
