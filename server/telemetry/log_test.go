package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestLogLinesCarryTheTraceID(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&out, nil))).With("component", "test")
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	log.InfoContext(ctx, "inside a span")
	span.End()
	log.InfoContext(context.Background(), "outside")

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), out.String())
	}
	var in, outside map[string]any
	if json.Unmarshal(lines[0], &in) != nil || json.Unmarshal(lines[1], &outside) != nil {
		t.Fatalf("not JSON: %s", out.String())
	}
	if in["trace_id"] != span.SpanContext().TraceID().String() || in["span_id"] != span.SpanContext().SpanID().String() || in["component"] != "test" {
		t.Fatalf("line inside the span: %v", in)
	}
	if _, ok := outside["trace_id"]; ok {
		t.Fatalf("line outside any span has a trace id: %v", outside)
	}
}

func TestTracingIsOffUnlessConfigured(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"nothing set":   {},
		"exporter none": {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
		"SDK disabled":  {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
	} {
		tr, err := FromEnv(context.Background(), func(k string) string { return env[k] })
		if err != nil || tr.Enabled() {
			t.Errorf("%s: enabled %v, err %v", name, tr.Enabled(), err)
		}
	}
	for name, env := range map[string]map[string]string{
		"endpoint (http/protobuf)": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
		"traces endpoint, grpc":    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"exporter otlp":            {"OTEL_TRACES_EXPORTER": "otlp"},
	} {
		tr, err := FromEnv(context.Background(), func(k string) string { return env[k] })
		if err != nil || !tr.Enabled() {
			t.Errorf("%s: enabled %v, err %v", name, tr.Enabled(), err)
			continue
		}
		if err := tr.Shutdown(context.Background()); err != nil {
			t.Errorf("%s: shutdown: %v", name, err)
		}
	}
	if _, err := FromEnv(context.Background(), func(k string) string {
		return map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}[k]
	}); err == nil {
		t.Error("an unsupported exporter was accepted")
	}
}
