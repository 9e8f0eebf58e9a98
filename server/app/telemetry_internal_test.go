package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zoomconnect/zoomconnect/server/telemetry"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestZoomCallsCarryTraceparent: a call to Zoom goes to its real URL with
// the caller's trace in traceparent, and its span shows the endpoint
// template, never the URL's ids, emails or query.
func TestZoomCallsCarryTraceparent(t *testing.T) {
	var gotPath, gotQuery, gotTraceparent string
	zoom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotTraceparent = r.URL.Path, r.URL.RawQuery, r.Header.Get("traceparent")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer zoom.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	a := &App{tracing: telemetry.Tracing{Provider: tp}}
	client := &http.Client{Transport: a.zoomTransport(zoom.URL, zoom.URL+"/v2")}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, zoom.URL+"/v2/users/mia@acme.example/meetings?next_page_token=secretish", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	if gotPath != "/v2/users/mia@acme.example/meetings" || gotQuery != "next_page_token=secretish" {
		t.Fatalf("Zoom got %s?%s", gotPath, gotQuery)
	}
	if !strings.Contains(gotTraceparent, parent.SpanContext().TraceID().String()) {
		t.Fatalf("traceparent %q does not carry the caller's trace %s", gotTraceparent, parent.SpanContext().TraceID())
	}
	var zoomSpan *tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Parent.SpanID() == parent.SpanContext().SpanID() {
			zoomSpan = &s
		}
	}
	if zoomSpan == nil || zoomSpan.Name != "zoom GET /users/{userId}/meetings" {
		t.Fatalf("the Zoom call's span: %+v", zoomSpan)
	}
	for _, attr := range zoomSpan.Attributes {
		if v := attr.Value.Emit(); strings.Contains(v, "mia@") || strings.Contains(v, "secretish") {
			t.Errorf("span attribute %s=%s shows the raw URL", attr.Key, v)
		}
	}
}
