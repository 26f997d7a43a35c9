package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/config"
	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store/storetest"
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
	e.p.log = newLogger(config.Config{LogLevel: "info", LogFormat: "json"}, io.Discard) // this env's own parts
	h := handler(e.p)
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

// BenchmarkRefreshChain is one RefreshSession over real HTTP against a
// server on Postgres (client and server in this process), each iteration
// spending the token the last one returned: the hops of a refresh show in
// a profile under the server's handler.
//
//	go test ./server -run '^$' -bench RefreshChain -cpuprofile cpu.out
func BenchmarkRefreshChain(b *testing.B) {
	e := newEnv(b, storetest.Postgres(b))
	dev := e.developer(b, "dev@example.com")
	app := e.appWithNameField(b, dev)
	token := e.signUp(b, dev, app, "ann@example.com").GetRefreshToken()
	ctx := as(context.Background(), app, "")
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := e.auth.RefreshSession(ctx, &authv1.RefreshSessionRequest{RefreshToken: token})
		if err != nil {
			b.Fatalf("RefreshSession = %v", err)
		}
		token = res.GetSession().GetRefreshToken()
		size = proto.Size(res)
	}
	// Beside compressMinBytes: whether a refresh's answer is gzipped.
	b.ReportMetric(float64(size), "response-bytes")
}

// BenchmarkLoginHTTP is one password Login over real HTTP against a
// server on Postgres whose argon2id is cheap (1 MiB, one pass), so a
// profile shows what a login costs beyond the hash.
//
//	go test ./server -run '^$' -bench LoginHTTP -cpuprofile cpu.out
func BenchmarkLoginHTTP(b *testing.B) {
	e := newEnv(b, storetest.Postgres(b), func(c *config.Config) {
		c.RateLimits = []identity.LimitRule{{Name: "login:ip", Limit: 1 << 30, Window: 10 * time.Minute}}
	})
	dev := e.developer(b, "dev@example.com")
	app := e.appWithNameField(b, dev)
	e.signUp(b, dev, app, "ann@example.com")
	ctx := as(context.Background(), app, "")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.auth.Login(ctx, &authv1.LoginRequest{Handle: "ann@example.com", Password: "long-enough-pw"}); err != nil {
			b.Fatalf("Login = %v", err)
		}
	}
}
