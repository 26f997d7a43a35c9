package main

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
)

// otlpReceiver is an in-process OTLP/HTTP collector: it decodes what the
// exporter posts to /v1/traces, as a real collector would.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	attrs []string // resource attributes, "key=value"
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf POST to /v1/traces", http.StatusNotFound)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range in.GetResourceSpans() {
		for _, a := range rs.GetResource().GetAttributes() {
			r.attrs = append(r.attrs, a.GetKey()+"="+a.GetValue().GetStringValue())
		}
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// TestTracing runs a server with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
// an in-process OTLP/HTTP receiver: an RPC produces a server span named for
// its procedure, with the Connect code, under the service's name. Without
// an endpoint there is no tracer.
func TestTracing(t *testing.T) {
	t.Parallel()
	if off := newEnv(t, sqliteStore(t)); off.p.tracer != nil || len(off.p.observers()) != 1 {
		t.Errorf("without an endpoint: tracer %v, %d observers; want nil and metrics alone", off.p.tracer, len(off.p.observers()))
	}

	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	e := newEnv(t, sqliteStore(t), func(c *config.Config) { c.OTLPEndpoint = collector.URL })
	if e.p.tracer == nil {
		t.Fatal("with an endpoint: no tracer")
	}
	if _, err := e.auth.GetApplication(as(context.Background(), identity.ConsoleAppID, ""), &authv1.GetApplicationRequest{}); err != nil {
		t.Fatalf("GetApplication(console) = %v", err)
	}
	if _, err := e.auth.GetApplication(as(context.Background(), "no-such-app", ""), &authv1.GetApplicationRequest{}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("GetApplication(no-such-app) = %v, want not_found", err)
	}
	// Shutdown sends what the batcher holds, as serve's exit does.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.p.tracer.Shutdown(ctx); err != nil {
		t.Fatalf("tracer.Shutdown = %v", err)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	if !slices.Contains(recv.attrs, "service.name=cosync-auth") {
		t.Errorf("resource attributes %q lack service.name=cosync-auth", recv.attrs)
	}
	codes := map[string]bool{}
	for _, sp := range recv.spans {
		if sp.GetName() != "cosync.auth.v1.AuthService/GetApplication" || sp.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
			continue
		}
		if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
			t.Errorf("span %s has trace id %x, span id %x; want 16 and 8 bytes", sp.GetName(), sp.GetTraceId(), sp.GetSpanId())
		}
		code := "ok"
		for _, a := range sp.GetAttributes() {
			if strings.HasSuffix(a.GetKey(), "status_code") {
				code = strings.ToLower(a.GetValue().GetStringValue())
			}
		}
		codes[code] = true
	}
	if !codes["ok"] || !codes["not_found"] {
		names := []string{}
		for _, sp := range recv.spans {
			names = append(names, sp.GetName())
		}
		t.Errorf("server spans of GetApplication by code = %v, want ok and not_found; spans: %q", codes, names)
	}
}
