package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestCORSPreflight sends the preflight a browser sends for a Connect call
// with a bearer token (header names lower-case and sorted) and checks that
// the answer lets the browser proceed.
func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteStore(t))
	req, _ := http.NewRequest(http.MethodOptions, e.url+"/cosync.auth.v1.AuthService/GetUser", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,connect-protocol-version,content-type,cosync-app-id")
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight = %d %v, want 204 with an allowed origin", res.StatusCode, res.Header)
	}
	for _, h := range []string{"authorization", "cosync-app-id", "content-type", "connect-protocol-version"} {
		if !strings.Contains(allowed, h) {
			t.Errorf("Access-Control-Allow-Headers = %q, want %s", allowed, h)
		}
	}
}
