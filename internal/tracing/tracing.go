// Package tracing sends an OpenTelemetry span for every RPC the server
// handles (through connectrpc.com/otelconnect) to an OTLP/HTTP collector,
// when one is configured; without one it does nothing and costs nothing.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config says where spans go.
type Config struct {
	// Endpoint is the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT
	// is (http://collector:4318); spans are posted to its /v1/traces.
	// Empty: tracing is off. The exporter's other OTEL_EXPORTER_OTLP_*
	// variables (headers, timeout, compression) and OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES apply as the OpenTelemetry SDK reads them.
	Endpoint string
	// Version is recorded as service.version.
	Version string
	// HTTPClient posts the spans; nil: the exporter's own.
	HTTPClient *http.Client
}

// Tracer is the span pipeline of one server. A nil *Tracer is valid and
// off: its Interceptor is nil and Shutdown does nothing.
type Tracer struct {
	tp *sdktrace.TracerProvider
	ic connect.Interceptor
}

// New starts a Tracer exporting to cfg.Endpoint in batches, or returns nil
// when cfg.Endpoint is empty. The exporter connects lazily: a collector that
// is down costs dropped spans, never a failed request.
func New(ctx context.Context, cfg Config) (*Tracer, error) {
	if cfg.Endpoint == "" {
		return nil, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(strings.TrimRight(cfg.Endpoint, "/") + "/v1/traces")}
	if cfg.HTTPClient != nil {
		opts = append(opts, otlptracehttp.WithHTTPClient(cfg.HTTPClient))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	// Our name first, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// (read by WithFromEnv, merged after) may override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "cosync-auth"), attribute.String("service.version", cfg.Version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	// Server spans start new traces linked to the caller's context rather
	// than joining it (otelconnect's default): callers are the public.
	ic, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(tp), otelconnect.WithoutMetrics(),
		otelconnect.WithPropagator(propagation.TraceContext{}))
	if err != nil {
		_ = tp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return &Tracer{tp: tp, ic: ic}, nil
}

// Interceptor returns the Connect interceptor that makes the spans, or nil
// when t is nil.
func (t *Tracer) Interceptor() connect.Interceptor {
	if t == nil {
		return nil
	}
	return t.ic
}

// Shutdown sends the spans still buffered and stops the exporter; call it
// once the server has drained.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}
