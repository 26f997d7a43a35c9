package config_test

import (
	"slices"
	"testing"
)

// TestLoadOpsSettings covers the operator's settings: the metrics listener
// and token, and the OTLP endpoint.
func TestLoadOpsSettings(t *testing.T) {
	t.Parallel()
	c, err := load(t, map[string]string{
		"COSYNC_METRICS_ADDR": "0.0.0.0:9090", "COSYNC_METRICS_TOKEN": "0123456789abcdef",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
	})
	if err != nil {
		t.Fatalf("Load = %v, want nil", err)
	}
	if c.MetricsAddr != "0.0.0.0:9090" || c.MetricsToken != "0123456789abcdef" || c.OTLPEndpoint != "http://otel-collector:4318" {
		t.Errorf("Load = metrics %q token %q otlp %q, want the values set", c.MetricsAddr, c.MetricsToken, c.OTLPEndpoint)
	}
	d, err := load(t, nil)
	if err != nil {
		t.Fatalf("Load(defaults) = %v", err)
	}
	if d.MetricsAddr != "" || d.MetricsToken != "" || d.OTLPEndpoint != "" {
		t.Errorf("defaults = metrics %q token %q otlp %q, want all empty (no metrics port, none on the main port, no tracing)",
			d.MetricsAddr, d.MetricsToken, d.OTLPEndpoint)
	}

	bad := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"metrics addr without port", map[string]string{"COSYNC_METRICS_ADDR": "localhost"}, "COSYNC_METRICS_ADDR"},
		{"metrics addr is the main addr", map[string]string{"COSYNC_ADDR": "127.0.0.1:8080", "COSYNC_METRICS_ADDR": "127.0.0.1:8080"}, "COSYNC_METRICS_ADDR"},
		{"metrics token too short", map[string]string{"COSYNC_METRICS_TOKEN": "secret"}, "COSYNC_METRICS_TOKEN"},
		{"OTLP endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"OTLP endpoint gRPC scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "grpc://collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env)
			if vars := badVars(err); !slices.Contains(vars, tc.want) {
				t.Errorf("Load(%v) names %q, want %s", tc.env, vars, tc.want)
			}
		})
	}
}
