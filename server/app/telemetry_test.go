package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	zcv1 "github.com/zoomconnect/zoomconnect/gen/zoomconnect/v1"
	"github.com/zoomconnect/zoomconnect/server/app"
	"github.com/zoomconnect/zoomconnect/server/internal/redistest"
	"github.com/zoomconnect/zoomconnect/server/telemetry"
	"github.com/zoomconnect/zoomconnect/server/zoomemu"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// scrape reads the admin listener's /metrics as Prometheus would.
func (h *harness) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + h.app.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("/metrics: HTTP %d: %s", resp.StatusCode, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value is the value of the series of family with exactly labels (a
// histogram's sample count), 0 if there is none.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f := families[family]
	if f == nil {
		return 0
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// wantLabels is the full label set of every metric family the service
// exports under its own names and the gRPC provider's: bounded sets only,
// never an org, user, booking or Zoom id.
var wantLabels = map[string][]string{
	"grpc_server_started_total":                           {"grpc_method", "grpc_service", "grpc_type"},
	"grpc_server_handled_total":                           {"grpc_code", "grpc_method", "grpc_service", "grpc_type"},
	"grpc_server_msg_received_total":                      {"grpc_method", "grpc_service", "grpc_type"},
	"grpc_server_msg_sent_total":                          {"grpc_method", "grpc_service", "grpc_type"},
	"grpc_server_handling_seconds":                        {"grpc_method", "grpc_service", "grpc_type"},
	"zoomconnect_grpc_server_in_flight_requests":          {"grpc_method", "grpc_service"},
	"zoomconnect_zoom_requests_total":                     {"endpoint", "method", "status_class", "zoom_code"},
	"zoomconnect_zoom_request_duration_seconds":           {"endpoint", "method"},
	"zoomconnect_zoom_rate_limited_total":                 {"endpoint", "limit_type"},
	"zoomconnect_token_refreshes_total":                   {"kind", "outcome"},
	"zoomconnect_token_refresh_lease_waits_total":         {"kind"},
	"zoomconnect_webhooks_received_total":                 nil,
	"zoomconnect_webhooks_verified_total":                 nil,
	"zoomconnect_webhooks_refused_total":                  {"reason"},
	"zoomconnect_webhooks_queued_total":                   {"result"},
	"zoomconnect_webhooks_processed_total":                {"outcome"},
	"zoomconnect_webhook_queue_oldest_age_seconds":        nil,
	"zoomconnect_events_published_total":                  {"outcome"},
	"zoomconnect_event_relay_lag_seconds":                 nil,
	"zoomconnect_resolver_cache_lookups_total":            {"result"},
	"zoomconnect_resolver_cache_invalidation_lag_seconds": nil,
	"zoomconnect_meetings_total":                          {"outcome"},
	"zoomconnect_connections":                             {"kind", "state"},
}

// TestMetricsAfterEndToEndFlows scrapes the admin port after an org
// connects, its tokens refresh, bookings get meetings (created, reused,
// recreated, cancelled, rate limited) and Zoom's webhooks come in, and
// checks that each counter moved and that every label set is the bounded
// one.
func TestMetricsAfterEndToEndFlows(t *testing.T) {
	redisURL := redistest.StartStandalone(t).URL()
	// Tokens that are due for refresh a second after they are issued.
	h := newHarness(t, redisURL, withWebhooks(), withZoom(func(z *zoomemu.Config) { z.AccessTokenTTL = 61 * time.Second }))
	before := h.scrape(t)

	tr := restTransport{h} // REST calls pass the gRPC server over loopback: they count as RPCs
	o := newOrg(h, t, tr, "metrics")
	o.connect(t)
	o.upsertMembers(t)
	resolve := func() {
		must(t, tr.call(t, internalToken(t), zcv1.ConnectionService_GetEffectiveZoomAccount_FullMethodName,
			&zcv1.GetEffectiveZoomAccountRequest{OrgId: o.id, UserId: "mia"}, &zcv1.GetEffectiveZoomAccountResponse{}))
	}
	resolve()
	resolve()
	time.Sleep(1100 * time.Millisecond) // the access token is now due
	m, err := o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	_, err = o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	// Deleted in Zoom (Zoom sends meeting.deleted), then rescheduled: recreated.
	must(t, h.zoom.DeleteMeeting(m.GetZoomMeetingId()))
	must(t, tr.call(t, internalToken(t), zcv1.MeetingService_UpdateMeeting_FullMethodName, &zcv1.UpdateMeetingRequest{
		OrgId: o.id, BookingId: "b1", Meeting: &zcv1.Meeting{Topic: "Rescheduled"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"topic"}}}, &zcv1.UpdateMeetingResponse{}))
	must(t, o.deleteMeeting(t, "b1"))
	h.zoom.InjectFault(zoomemu.EndpointMeetings, zoomemu.Fault{Status: http.StatusTooManyRequests, Times: 1,
		Header: http.Header{"X-Ratelimit-Type": {"Daily-limit"}}, Body: `{"code":429,"message":"daily limit"}`})
	_, err = o.createMeeting(t, createReq(o, "b2", "mia"))
	wantCode(t, err, codes.ResourceExhausted, zcv1.ErrorReason_ERROR_REASON_ZOOM_RATE_LIMITED)
	if status := h.postWebhook(t, []byte(`{"event":"meeting.deleted","event_ts":1}`), "not-the-secret", time.Now()); status != http.StatusUnauthorized {
		t.Fatalf("a badly signed webhook: HTTP %d", status)
	}

	var after map[string]*dto.MetricFamily
	moved := func(family string, atLeast float64, labels ...string) bool {
		return value(after, family, labels...)-value(before, family, labels...) >= atLeast
	}
	checks := []struct {
		family  string
		atLeast float64
		labels  []string
	}{
		{"grpc_server_handled_total", 2, []string{"grpc_type", "unary", "grpc_service", "zoomconnect.v1.MeetingService", "grpc_method", "CreateMeeting", "grpc_code", "OK"}},
		{"grpc_server_handled_total", 1, []string{"grpc_type", "unary", "grpc_service", "zoomconnect.v1.MeetingService", "grpc_method", "CreateMeeting", "grpc_code", "ResourceExhausted"}},
		{"grpc_server_handling_seconds", 2, []string{"grpc_type", "unary", "grpc_service", "zoomconnect.v1.ConnectionService", "grpc_method", "GetEffectiveZoomAccount"}},
		{"zoomconnect_zoom_requests_total", 2, []string{"method", "POST", "endpoint", "/users/{userId}/meetings", "status_class", "2xx", "zoom_code", ""}},
		{"zoomconnect_zoom_requests_total", 1, []string{"method", "POST", "endpoint", "/users/{userId}/meetings", "status_class", "4xx", "zoom_code", "429"}},
		{"zoomconnect_zoom_requests_total", 2, []string{"method", "POST", "endpoint", "/oauth/token", "status_class", "2xx", "zoom_code", ""}},
		{"zoomconnect_zoom_request_duration_seconds", 1, []string{"method", "GET", "endpoint", "/users/me"}},
		{"zoomconnect_zoom_rate_limited_total", 1, []string{"endpoint", "/users/{userId}/meetings", "limit_type", "daily-limit"}},
		{"zoomconnect_token_refreshes_total", 1, []string{"kind", "org", "outcome", "ok"}},
		{"zoomconnect_webhooks_received_total", 2, nil},
		{"zoomconnect_webhooks_verified_total", 1, nil},
		{"zoomconnect_webhooks_refused_total", 1, []string{"reason", "signature"}},
		{"zoomconnect_webhooks_queued_total", 1, []string{"result", "queued"}},
		{"zoomconnect_webhooks_processed_total", 1, []string{"outcome", "ok"}},
		{"zoomconnect_events_published_total", 1, []string{"outcome", "ok"}},
		{"zoomconnect_event_relay_lag_seconds", 1, nil},
		{"zoomconnect_resolver_cache_lookups_total", 1, []string{"result", "hit"}},
		{"zoomconnect_resolver_cache_lookups_total", 1, []string{"result", "miss"}},
		{"zoomconnect_resolver_cache_invalidation_lag_seconds", 1, nil},
		{"zoomconnect_meetings_total", 1, []string{"outcome", "created"}},
		{"zoomconnect_meetings_total", 1, []string{"outcome", "reused"}},
		{"zoomconnect_meetings_total", 1, []string{"outcome", "recreated"}},
		{"zoomconnect_meetings_total", 1, []string{"outcome", "cancelled"}},
	}
	// Webhooks are processed in the background: wait for the last counters.
	deadline := time.Now().Add(5 * time.Second)
	for {
		after = h.scrape(t)
		failed := ""
		for _, c := range checks {
			if !moved(c.family, c.atLeast, c.labels...) {
				failed += fmt.Sprintf("\n  %s%v moved by %v, want ≥ %v", c.family, c.labels,
					value(after, c.family, c.labels...)-value(before, c.family, c.labels...), c.atLeast)
			}
		}
		if failed == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters that did not move:%s", failed)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Connections are counted from the store at scrape time: a replica that
	// never served this org sees it too.
	if n := value(h.replica(t).scrape(t), "zoomconnect_connections", "kind", "org", "state", "active"); n < 1 {
		t.Fatalf("zoomconnect_connections{kind=org,state=active} = %v on another replica", n)
	}
	assertLabelSets(t, after, o.id, "mia", "b1", "member@acme.example", zoomemu.DevAccountID)
}

// assertLabelSets checks every family of the service's and the gRPC
// provider's against wantLabels, and that no label value is one of ids.
func assertLabelSets(t *testing.T, families map[string]*dto.MetricFamily, ids ...string) {
	t.Helper()
	for name, f := range families {
		if !strings.HasPrefix(name, "zoomconnect_") && !strings.HasPrefix(name, "grpc_server_") {
			continue
		}
		want, known := wantLabels[name]
		if !known {
			t.Errorf("metric %s is not in the test's list of label sets", name)
			continue
		}
		for _, m := range f.GetMetric() {
			var got []string
			for _, l := range m.GetLabel() {
				got = append(got, l.GetName())
				for _, id := range ids {
					if strings.Contains(l.GetValue(), id) {
						t.Errorf("%s has an id in label %s=%q", name, l.GetName(), l.GetValue())
					}
				}
				if strings.Contains(l.GetValue(), "@") {
					t.Errorf("%s has an email in label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s labels %v, want %v", name, got, want)
			}
		}
	}
	for name := range wantLabels {
		if families[name] == nil {
			t.Errorf("metric %s was not exported after the flows", name)
		}
	}
}

// TestAdminListener: the admin port serves metrics, pprof and the probes;
// the public port serves neither metrics nor pprof.
func TestAdminListener(t *testing.T) {
	h := newHarness(t, "")
	admin := "http://" + h.app.AdminAddr()
	for path, want := range map[string]string{
		"/metrics":      "go_goroutines",
		"/debug/pprof/": "goroutine",
		"/healthz":      "ok",
		"/readyz":       "ready",
	} {
		body := httpGet(t, admin+path, http.StatusOK)
		if !strings.Contains(body, want) {
			t.Errorf("admin %s lacks %q", path, want)
		}
	}
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		httpGet(t, h.baseURL()+path, http.StatusNotFound)
	}
}

func httpGet(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: HTTP %d, want %d", u, resp.StatusCode, want)
	}
	return string(b)
}

// tracedHarness runs the service on Redis, traced into an in-memory exporter.
func tracedHarness(t *testing.T, opts ...option) (*harness, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracing := telemetry.Tracing{Provider: tp, Shutdown: tp.Shutdown}
	h := newHarnessWith(t, redistest.StartStandalone(t).URL(), []app.Option{app.WithTracing(tracing)}, opts...)
	return h, exp
}

// TestTraceOfOneBooking follows one booking from a REST caller's
// traceparent: the gateway's HTTP span, its loopback gRPC call, the gRPC
// handler, the Redis commands and the call to Zoom are one trace.
func TestTraceOfOneBooking(t *testing.T) {
	h, exp := tracedHarness(t)
	o := newOrg(h, t, restTransport{h}, "traced")
	o.connect(t)
	o.upsertMembers(t)
	exp.Reset()

	callerTrace, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	callerSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	verb, path, body := restRoute(t, zcv1.MeetingService_CreateMeeting_FullMethodName)
	path, payload := restRequest(t, createReq(o, "b1", "mia"), path, body)
	req, err := http.NewRequest(verb, h.baseURL()+path, bytes.NewReader(payload))
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+internalToken(t))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+callerTrace.String()+"-"+callerSpan.String()+"-01")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateMeeting over REST: HTTP %d", resp.StatusCode)
	}

	spans := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() == callerTrace {
			spans[s.SpanContext.SpanID()] = s
		}
	}
	find := func(what string, ok func(s tracetest.SpanStub) bool) tracetest.SpanStub {
		t.Helper()
		for _, s := range spans {
			if ok(s) {
				return s
			}
		}
		var names []string
		for _, s := range spans {
			names = append(names, s.SpanKind.String()+" "+s.Name)
		}
		t.Fatalf("no %s span in the caller's trace; spans: %v", what, names)
		return tracetest.SpanStub{}
	}
	descends := func(s tracetest.SpanStub, ancestor trace.SpanID) bool {
		for p := s.Parent.SpanID(); p.IsValid(); p = spans[p].Parent.SpanID() {
			if p == ancestor {
				return true
			}
			if _, ok := spans[p]; !ok {
				return false
			}
		}
		return false
	}
	gateway := find("gateway HTTP server", func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindServer && s.Name == "POST /v1/…"
	})
	if gateway.Parent.SpanID() != callerSpan || !gateway.Parent.IsRemote() {
		t.Fatalf("the gateway span's parent is %v, want the caller's span %v", gateway.Parent.SpanID(), callerSpan)
	}
	const rpc = "zoomconnect.v1.MeetingService/CreateMeeting"
	loopback := find("gateway's gRPC client", func(s tracetest.SpanStub) bool { return s.SpanKind == trace.SpanKindClient && s.Name == rpc })
	handler := find("gRPC server", func(s tracetest.SpanStub) bool { return s.SpanKind == trace.SpanKindServer && s.Name == rpc })
	if loopback.Parent.SpanID() != gateway.SpanContext.SpanID() || handler.Parent.SpanID() != loopback.SpanContext.SpanID() {
		t.Fatalf("gateway → gRPC client → gRPC server is not one chain")
	}
	find("Redis command under the gRPC handler", func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindClient && hasAttr(s, "db.system", "redis") && descends(s, handler.SpanContext.SpanID())
	})
	zoomCall := find("Zoom call under the gRPC handler", func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindClient && s.Name == "zoom POST /users/{userId}/meetings" && descends(s, handler.SpanContext.SpanID())
	})
	for _, a := range zoomCall.Attributes {
		if strings.Contains(a.Value.Emit(), "@") {
			t.Errorf("the Zoom span shows an email: %s=%s", a.Key, a.Value.Emit())
		}
	}
}

func hasAttr(s tracetest.SpanStub, key, value string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key && a.Value.Emit() == value {
			return true
		}
	}
	return false
}

// TestSpansCarryNoSecrets runs the OAuth install, a token refresh, a
// meeting and a disconnect (which revokes) traced, and looks for every
// secret involved in every exported span.
func TestSpansCarryNoSecrets(t *testing.T) {
	h, exp := tracedHarness(t, withZoom(func(z *zoomemu.Config) { z.AccessTokenTTL = 61 * time.Second }))
	o := newOrg(h, t, restTransport{h}, "spans")
	installURL := o.mustStart(t).GetInstallUrl()
	callback, zp := h.browser.SignInAtZoom(h.openInstallLink(t, installURL), zoomemu.DevAdminID, "allow")
	if callback == "" {
		t.Fatalf("Zoom did not redirect back: HTTP %d", zp.Status)
	}
	cb, err := url.Parse(callback)
	must(t, err)
	h.browser.Get(callback)
	o.wantState(t, active, noReason)
	o.upsertMembers(t)
	time.Sleep(1100 * time.Millisecond) // the access token is now due: the next call refreshes it
	_, err = o.createMeeting(t, createReq(o, "b1", "mia"))
	must(t, err)
	_, err = o.disconnect(t, o.owner)
	must(t, err)

	link := installURL[strings.LastIndex(installURL, "/")+1:]
	secrets := map[string]string{
		"install link":        link,
		"authorization code":  cb.Query().Get("code"),
		"OAuth state":         cb.Query().Get("state"),
		"Zoom token":          string(zoomTokenPrefix),
		"client secret":       orgClientSecret,
		"caller token":        internalToken(t)[:40], // the JWT header and the start of its claims
		"encryption keys":     testKeyring[3:],
		"caller-token secret": string(authSecret),
	}
	for name, v := range secrets {
		if len(v) < 8 {
			t.Fatalf("%s %q is too short to look for", name, v)
		}
	}
	refreshes, spans := 0, exp.GetSpans()
	for _, s := range spans {
		if s.Name == "zoom POST /oauth/token" {
			refreshes++
		}
		texts := []string{s.Name, s.Status.Description}
		for _, a := range s.Attributes {
			texts = append(texts, string(a.Key)+"="+a.Value.Emit())
		}
		for _, e := range s.Events {
			texts = append(texts, e.Name)
			for _, a := range e.Attributes {
				texts = append(texts, string(a.Key)+"="+a.Value.Emit())
			}
		}
		for _, text := range texts {
			for name, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("span %q carries the %s: %s", s.Name, name, text)
				}
			}
		}
	}
	if refreshes < 2 {
		t.Fatalf("%d token calls traced (%d spans), want the code exchange and a refresh", refreshes, len(spans))
	}
}

// TestAdminReadinessFailsWhileDraining: once shutdown begins, the admin
// listener's /readyz answers 503 (so that a load balancer stops sending)
// while RPCs in flight finish, and /healthz still answers.
func TestAdminReadinessFailsWhileDraining(t *testing.T) {
	h := newHarness(t, "")
	admin := "http://" + h.app.AdminAddr()
	httpGet(t, admin+"/readyz", http.StatusOK)

	// A watch stream keeps the gRPC server draining.
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+internalToken(t)))
	defer cancel()
	_, err := zcv1.NewConnectionServiceClient(h.conn).WatchConnectionEvents(ctx, &zcv1.WatchConnectionEventsRequest{})
	must(t, err)
	eventually(t, "the watch in flight", func() bool {
		return value(h.scrape(t), "zoomconnect_grpc_server_in_flight_requests",
			"grpc_service", "zoomconnect.v1.ConnectionService", "grpc_method", "WatchConnectionEvents") == 1
	})
	h.cancel() // SIGTERM
	eventually(t, "admin /readyz 503 while draining", func() bool {
		resp, err := http.Get(admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	httpGet(t, admin+"/healthz", http.StatusOK)
	cancel() // the watcher goes away; the shutdown completes (h.stop waits for it)
}
