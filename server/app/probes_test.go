package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/internal/webtest"
	"google.golang.org/grpc/codes"

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

// TestStoreOutage: with the store down the service says so (health
// NOT_SERVING, /readyz 503) and callers get UNAVAILABLE with a reason, never
// the store's error text.
func TestStoreOutage(t *testing.T) {
	redisSrv := redistest.StartStandalone(t)
	h := newHarness(t, redisSrv.URL(), withWebhooks())
	o := newOrg(h, t, grpcTransport{h}, "outage")
	o.wantState(t, notConnected, noReason)
	installURL := o.mustStart(t).GetInstallUrl()

	rdb := redis.NewClient(&redis.Options{Addr: redisSrv.Addr})
	_ = rdb.Do(context.Background(), "SHUTDOWN", "NOSAVE").Err() // the connection drops: no answer
	rdb.Close()

	health := healthpb.NewHealthClient(h.conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && res.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health still %v, %v with the store down", res, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(h.baseURL() + "/readyz")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz: HTTP %d with the store down", resp.StatusCode)
	}
	for _, tr := range transports(h) {
		// An org the cache has not seen: one it has may be answered from
		// memory for up to its TTL.
		o := newOrg(h, t, tr, "outage-unseen")
		_, err := o.get(t, o.mem)
		wantCode(t, err, codes.Unavailable, zcv1.ErrorReason_ERROR_REASON_STORE_UNAVAILABLE)
		if ae := err.(*apiError); strings.Contains(ae.msg, "127.0.0.1") || strings.Contains(ae.msg, "dial") {
			t.Fatalf("the store's error leaked to the caller: %q", ae.msg)
		}
	}

	// The same classification on the plain HTTP paths: the OAuth page and
	// the webhook endpoint say UNAVAILABLE (503), not an internal error.
	webtest.WantPage(t, h.browser.Get(installURL), http.StatusServiceUnavailable, "STORE_UNAVAILABLE")
	body := []byte(`{"event":"app_deauthorized","event_ts":1,"payload":{"account_id":"a1"}}`)
	if status := h.postWebhook(t, body, webhookSecret, time.Now()); status != http.StatusServiceUnavailable {
		t.Fatalf("webhook with the store down: HTTP %d, want 503", status)
	}
}

// TestReadyzAnswersAtOnceWhileRedisHangs: with Redis frozen (SIGSTOP: the
// connections stay open, nothing answers) /readyz answers within a second,
// and soon says the service is not ready.
func TestReadyzAnswersAtOnceWhileRedisHangs(t *testing.T) {
	redisSrv := redistest.StartStandalone(t)
	h := newHarness(t, redisSrv.URL())
	redisSrv.Freeze(t)
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		start := time.Now()
		resp, err := client.Get(h.baseURL() + "/readyz")
		took := time.Since(start)
		must(t, err)
		resp.Body.Close()
		if took > time.Second {
			t.Fatalf("/readyz took %s with Redis frozen", took)
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still HTTP %d with Redis frozen", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	redisSrv.Thaw()
	h.waitReady()
}
