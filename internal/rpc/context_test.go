package rpc_test

import (
	"net/http"
	"testing"

	"connectrpc.com/connect"

	"github.com/cosync/cosync-auth/internal/rpc"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header []string // Authorization values; nil: none
		want   string
	}{
		{"none", nil, ""},
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi"},
		{"lower case scheme", []string{"bearer abc"}, "abc"},
		{"upper case scheme", []string{"BEARER abc"}, "abc"},
		{"extra spaces", []string{"Bearer    abc  "}, "abc"},
		{"scheme only", []string{"Bearer"}, ""},
		{"scheme and space", []string{"Bearer "}, ""},
		{"scheme and spaces", []string{"Bearer     "}, ""},
		{"no space", []string{"Bearerabc"}, ""},
		{"basic", []string{"Basic dXNlcjpwdw=="}, ""},
		{"token alone", []string{"abc.def.ghi"}, ""},
		{"first of two", []string{"Bearer one", "Bearer two"}, "one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tc.header {
				h.Add("Authorization", v)
			}
			if got := rpc.BearerToken(h).Reveal(); got != tc.want {
				t.Errorf("BearerToken(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		peer  string
		xff   string
		trust bool
		want  string
	}{
		{"IPv4 peer", "192.0.2.10:51234", "", false, "192.0.2.10"},
		{"IPv6 peer", "[2001:db8::1]:51234", "", false, "2001:db8::1"},
		{"IPv6 loopback peer", "[::1]:443", "", true, "::1"},
		{"peer without port", "192.0.2.10", "", false, "192.0.2.10"},
		{"proxy header ignored when untrusted", "10.0.0.1:443", "203.0.113.7", false, "10.0.0.1"},
		{"proxy header used when trusted", "10.0.0.1:443", "203.0.113.7", true, "203.0.113.7"},
		{"trusted header trimmed", "10.0.0.1:443", "  203.0.113.7  ", true, "203.0.113.7"},
		{"trusted IPv6 header normalized", "10.0.0.1:443", "2001:DB8:0:0::7", true, "2001:db8::7"},
		{"trusted header garbage falls back to peer", "10.0.0.1:443", "not-an-ip", true, "10.0.0.1"},
		{"trusted header with port falls back to peer", "10.0.0.1:443", "203.0.113.7:8080", true, "10.0.0.1"},
		{"trusted but no header", "[2001:db8::1]:443", "", true, "2001:db8::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.xff != "" {
				h.Set("X-Forwarded-For", tc.xff)
			}
			if got := rpc.ClientIP(connect.Peer{Addr: tc.peer}, h, tc.trust); got != tc.want {
				t.Errorf("ClientIP(%q, X-Forwarded-For %q, trust %v) = %q, want %q", tc.peer, tc.xff, tc.trust, got, tc.want)
			}
		})
	}
}

// TestClientIPTakesTheProxysEntry: behind one trusted proxy, the client IP
// is the entry that proxy appended, not one the client wrote itself.
func TestClientIPTakesTheProxysEntry(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("X-Forwarded-For", "6.6.6.6, 10.0.0.1")
	h.Add("X-Forwarded-For", "203.0.113.7")
	if got := rpc.ClientIP(connect.Peer{Addr: "10.1.1.1:443"}, h, true); got != "203.0.113.7" {
		t.Errorf("ClientIP = %q, want 203.0.113.7 (the last entry)", got)
	}
}
