package auth

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/zoomconnect/zoomconnect/server/errs"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// recordingHealth is the health service, recording the caller that List and
// Watch see; Check is the public method.
type recordingHealth struct {
	*health.Server
	seen chan *Principal
}

func (h *recordingHealth) record(ctx context.Context) {
	p, _ := FromContext(ctx)
	h.seen <- p
}

func (h *recordingHealth) List(ctx context.Context, req *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	h.record(ctx)
	return h.Server.List(ctx, req)
}

func (h *recordingHealth) Watch(req *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	h.record(stream.Context())
	return h.Server.Watch(req, stream)
}

func startServer(t *testing.T) (healthpb.HealthClient, *recordingHealth) {
	t.Helper()
	v := newHSVerifier(t, nil)
	public := func(method string) bool { return method == healthpb.Health_Check_FullMethodName }
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(v, public)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(v, public)),
	)
	h := &recordingHealth{Server: health.NewServer(), seen: make(chan *Principal, 1)}
	healthpb.RegisterHealthServer(srv, h)
	lis := bufconn.Listen(1 << 20)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn), h
}

func withAuth(values ...string) context.Context {
	ctx := context.Background()
	for _, v := range values {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return ctx
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.Reason
		}
	}
	return ""
}

func TestInterceptors(t *testing.T) {
	client, h := startServer(t)
	good := mint(t, memberClaims())
	expired := memberClaims()
	expired.IssuedAt, expired.Expiry = date(epoch.Add(-2*time.Hour)), date(epoch.Add(-time.Hour))

	t.Run("public method needs no token", func(t *testing.T) {
		if _, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
	})

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		reason errs.Reason // 0 means OK
	}{
		{"no header", context.Background(), ReasonTokenMissing},
		{"empty bearer", withAuth("Bearer "), ReasonTokenMissing},
		{"basic scheme", withAuth("Basic dXNlcjpwYXNz"), ReasonTokenMalformed},
		{"bare token", withAuth(good), ReasonTokenMalformed},
		{"two headers", withAuth("Bearer "+good, "Bearer "+good), ReasonTokenMalformed},
		{"garbage", withAuth("Bearer xyz"), ReasonTokenMalformed},
		{"expired", withAuth("Bearer " + mint(t, expired)), ReasonTokenExpired},
		{"valid", withAuth("Bearer " + good), 0},
		{"scheme is case-insensitive", withAuth("bEaReR " + good), 0},
	} {
		t.Run("unary "+tc.name, func(t *testing.T) {
			_, err := client.List(tc.ctx, &healthpb.HealthListRequest{})
			checkCall(t, err, tc.reason, h)
		})
		t.Run("stream "+tc.name, func(t *testing.T) {
			stream, err := client.Watch(tc.ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = stream.Recv()
			}
			checkCall(t, err, tc.reason, h)
		})
	}
}

func checkCall(t *testing.T, err error, reason errs.Reason, h *recordingHealth) {
	t.Helper()
	if reason != 0 {
		if status.Code(err) != codes.Unauthenticated || reasonOf(err) != errs.ReasonName(reason) {
			t.Fatalf("error = %v (reason %q), want UNAUTHENTICATED %s", err, reasonOf(err), reason)
		}
		select {
		case p := <-h.seen:
			t.Fatalf("handler ran for a refused call, with %+v", p)
		default:
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-h.seen:
		if p == nil || p.Subject != "user-1" || p.OrgID != "org-1" || p.Role != RoleMember {
			t.Fatalf("handler saw Principal %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not run")
	}
}
