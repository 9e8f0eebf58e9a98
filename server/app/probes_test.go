package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

func TestHealthAndReflectionNeedNoToken(t *testing.T) {
	h := newHarness(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, svc := range []string{"", zcv1.ConnectionService_ServiceDesc.ServiceName} {
		res, err := healthpb.NewHealthClient(h.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q = %v, %v; want SERVING", svc, res, err)
		}
	}

	stream, err := reflectpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctx)
	must(t, err)
	must(t, stream.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}))
	res, err := stream.Recv()
	must(t, err)
	found := map[string]bool{}
	for _, s := range res.GetListServicesResponse().GetService() {
		found[s.GetName()] = true
	}
	if !found[zcv1.ConnectionService_ServiceDesc.ServiceName] || !found[zcv1.MeetingService_ServiceDesc.ServiceName] {
		t.Fatalf("reflection lists %v", found)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(h.baseURL() + path)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
}
