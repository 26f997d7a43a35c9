package portal

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// built is a bundle as Vite writes it, beside the committed placeholder.
var built = fstest.MapFS{
	"dist/placeholder.html":            {Data: []byte("<p>not built</p>")},
	"dist/app/index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`)},
	"dist/app/assets/index-abc123.js":  {Data: []byte("console.log(1)")},
	"dist/app/assets/index-def456.css": {Data: []byte("body{}")},
	"dist/app/favicon.svg":             {Data: []byte("<svg/>")},
}

var notBuilt = fstest.MapFS{
	"dist/placeholder.html": {Data: []byte("<p>The portal is not built: run scripts/build-portal.sh</p>")},
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerCaching(t *testing.T) {
	t.Parallel()
	h := newHandler(built)
	tests := []struct {
		name, path   string
		status       int
		cache, ctype string
		body         string
	}{
		{"root is index.html, revalidated", "/", 200, "no-cache", "text/html; charset=utf-8", "/assets/index-abc123.js"},
		{"index.html by name", "/index.html", 200, "no-cache", "text/html; charset=utf-8", "/assets/index-abc123.js"},
		{"hashed script is immutable", "/assets/index-abc123.js", 200, "public, max-age=31536000, immutable", "text/javascript; charset=utf-8", "console.log(1)"},
		{"hashed style is immutable", "/assets/index-def456.css", 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "body{}"},
		{"unhashed file is revalidated", "/favicon.svg", 200, "no-cache", "image/svg+xml", "<svg/>"},
		{"unknown file", "/nope.js", 404, "", "", ""},
		{"unknown asset", "/assets/missing-1.js", 404, "", "", ""},
		{"directory", "/assets/", 404, "", "", ""},
		{"escape is cleaned", "/../dist/placeholder.html", 404, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := get(t, h, http.MethodGet, tc.path, nil)
			if rec.Code != tc.status {
				t.Fatalf("GET %s = %d, want %d", tc.path, rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("GET %s Cache-Control = %q, want %q", tc.path, got, tc.cache)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("GET %s Content-Type = %q, want %q", tc.path, got, tc.ctype)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("GET %s body = %q, want it to contain %q", tc.path, rec.Body.String(), tc.body)
			}
		})
	}
}

func TestHandlerIndexRevalidates(t *testing.T) {
	t.Parallel()
	h := newHandler(built)
	first := get(t, h, http.MethodGet, "/", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("GET / has no ETag")
	}
	again := get(t, h, http.MethodGet, "/", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match = %d, want 304", again.Code)
	}
}

func TestHandlerSecurityHeaders(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, fsys := range []fstest.MapFS{built, notBuilt} {
		h := newHandler(fsys)
		for _, p := range []string{"/", "/assets/index-abc123.js", "/nope"} {
			rec := get(t, h, http.MethodGet, p, nil)
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("GET %s %s = %q, want %q", p, k, got, v)
				}
			}
		}
	}
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, directive) {
			t.Errorf("ContentSecurityPolicy lacks %q", directive)
		}
	}
	if strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Errorf("ContentSecurityPolicy allows something unsafe: %q", ContentSecurityPolicy)
	}
}

func TestHandlerMethods(t *testing.T) {
	t.Parallel()
	h := newHandler(built)
	if rec := get(t, h, http.MethodHead, "/", nil); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 and no body", rec.Code, rec.Body.Len())
	}
	rec := get(t, h, http.MethodPost, "/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d Allow %q, want 405 Allow \"GET, HEAD\"", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestHandlerFallsBackToPlaceholder(t *testing.T) {
	t.Parallel()
	h := newHandler(notBuilt)
	rec := get(t, h, http.MethodGet, "/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "scripts/build-portal.sh") {
		t.Fatalf("GET / without a bundle = %d %q, want 200 and the placeholder", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("placeholder Cache-Control = %q, want no-cache", got)
	}
	if rec := get(t, h, http.MethodGet, "/assets/index-abc123.js", nil); rec.Code != 404 {
		t.Errorf("GET an asset without a bundle = %d, want 404", rec.Code)
	}
}

// TestEmbeddedPlaceholder checks the committed placeholder is embedded and
// says how to build the portal, whether or not this binary has the bundle.
func TestEmbeddedPlaceholder(t *testing.T) {
	t.Parallel()
	page, err := dist.ReadFile("dist/placeholder.html")
	if err != nil {
		t.Fatalf("embedded placeholder: %v", err)
	}
	if !strings.Contains(string(page), "scripts/build-portal.sh") {
		t.Errorf("placeholder does not say how to build the portal: %q", page)
	}
	rec := get(t, Handler(), http.MethodGet, "/", nil)
	if rec.Code != 200 {
		t.Fatalf("Handler() GET / = %d, want 200", rec.Code)
	}
	if Built() != strings.Contains(rec.Body.String(), `type="module"`) {
		t.Errorf("Built() = %v but GET / served %q", Built(), rec.Body.String())
	}
}
