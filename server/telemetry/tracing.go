// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_*
// variables and carries trace ids into log lines. Tracing is off (nothing
// instrumented, so no cost) unless an OTLP endpoint or exporter is named.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the default service.name (OTEL_SERVICE_NAME overrides it).
const ServiceName = "zoomconnect"

// Propagator is W3C trace context and baggage, what every hop expects.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Tracing is the tracer provider the service instruments itself with; a
// nil Provider means tracing is off.
type Tracing struct {
	Provider trace.TracerProvider
	// Shutdown flushes and stops the exporter.
	Shutdown func(context.Context) error
}

// Enabled reports whether spans are recorded and exported.
func (t Tracing) Enabled() bool { return t.Provider != nil }

// FromEnv builds tracing from the standard variables: OTEL_SDK_DISABLED,
// OTEL_TRACES_EXPORTER (otlp or none), OTEL_EXPORTER_OTLP_ENDPOINT /
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL /
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (http/protobuf, the default, or grpc),
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER(_ARG), OTEL_SERVICE_NAME
// and OTEL_RESOURCE_ATTRIBUTES (the SDK and the exporters read most of them
// themselves). Tracing is on only when an endpoint is set or
// OTEL_TRACES_EXPORTER=otlp; otherwise it returns a Tracing that is off.
func FromEnv(ctx context.Context, getenv func(string) string) (Tracing, error) {
	off := Tracing{Shutdown: func(context.Context) error { return nil }}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return off, nil
	}
	exporterName := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")))
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") + getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	switch {
	case exporterName == "none":
		return off, nil
	case exporterName != "" && exporterName != "otlp":
		return off, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp or none)", exporterName)
	case exporterName == "" && strings.TrimSpace(endpoint) == "":
		return off, nil
	}
	protocol := strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if protocol == "" {
		protocol = strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	var client otlptrace.Client
	switch protocol {
	case "", "http/protobuf":
		client = otlptracehttp.NewClient()
	case "grpc":
		client = otlptracegrpc.NewClient()
	default:
		return off, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported (http/protobuf or grpc)", protocol)
	}
	// The exporter connects lazily: a collector that is down costs dropped
	// spans, never a failed start.
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return off, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(ServiceName)))
	if err == nil {
		// Variables win over the default name.
		var fromEnv *resource.Resource
		if fromEnv, err = resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK()); err == nil {
			res, err = resource.Merge(res, fromEnv)
		}
	}
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return off, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	// The sampler comes from OTEL_TRACES_SAMPLER (default: parentbased_always_on).
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return Tracing{Provider: tp, Shutdown: tp.Shutdown}, nil
}
