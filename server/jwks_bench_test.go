package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cosync/cosync-auth/internal/config"
)

// BenchmarkJWKSHandler is one JWKS request through the whole HTTP stack
// (request log at the production level, security headers, body limit,
// CORS, mux, app cache, keyring) without a network, so its ns/op and
// allocs/op are the server's own per-request cost:
//
//	go test ./server -run '^$' -bench JWKSHandler -benchmem -cpuprofile cpu.out
func BenchmarkJWKSHandler(b *testing.B) {
	e := newEnv(b, sqliteStore(b))
	dev := e.developer(b, "dev@example.com")
	app := e.appWithNameField(b, dev)
	p := *e.p
	p.log = newLogger(config.Config{LogLevel: "info", LogFormat: "json"}, io.Discard)
	h := handler(&p)
	req := httptest.NewRequest(http.MethodGet, "/apps/"+app+"/.well-known/jwks.json", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET jwks = %d", rec.Code)
		}
	}
}
