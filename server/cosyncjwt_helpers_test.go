package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // CosyncJWT clients send MD5 hex passwords
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"
)

// cjwtAppToken is what a developer pastes from CosyncJWT's portal.
const cjwtAppToken = "eyJhbGciOiJSUzI1NiJ9.eyJhcHBJZCI6ImNvc3luYy1hcHAifQ.c2lnbmF0dXJl"

func md5hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // the wire format
	return hex.EncodeToString(sum[:])
}

// cjwtApp creates an app set up for CosyncJWT clients: the app token,
// MD5-prehashed passwords, invitations, anonymous login, user names, SMS
// second factor through the dev outbox, and a required name field.
func (e *env) cjwtApp(tb testing.TB, dev string, flow authv1.SignupFlow) string {
	tb.Helper()
	res, err := e.admin.CreateApp(as(context.Background(), "", dev), &adminv1.CreateAppRequest{
		Name: "Legacy Notes",
		Settings: &adminv1.AppSettings{
			SignupFlow: flow, InvitesEnabled: true, AnonymousLoginEnabled: true, UserNamesEnabled: true,
			TwoFactor:             authv1.TwoFactorMethod_TWO_FACTOR_METHOD_SMS,
			CosyncjwtAppToken:     cjwtAppToken,
			Md5PrehashedPasswords: true,
			SignupMetadataFields: []*authv1.MetadataField{
				{Path: "user_data.name.first", Name: "First", Required: true, UserEditable: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
				{Path: "user_data.name.last", Name: "Last", UserEditable: true, Type: authv1.MetadataFieldType_METADATA_FIELD_TYPE_STRING},
			},
		},
	})
	if err != nil {
		tb.Fatalf("CreateApp = %v", err)
	}
	return res.GetApp().GetId()
}

// wireReply is one answer as an SDK sees it.
type wireReply struct {
	status int
	body   []byte
}

func (r wireReply) json(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("reply %d %q is not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

// wantTrue checks the bare `true` the Swift SDK compares byte for byte.
func (r wireReply) wantTrue(tb testing.TB, what string) {
	tb.Helper()
	if r.status != http.StatusOK || string(r.body) != "true" {
		tb.Fatalf("%s = %d %q, want 200 and exactly `true`", what, r.status, r.body)
	}
}

// wantSession checks {"jwt","access-token"} and returns the access-token.
func (r wireReply) wantSession(tb testing.TB, what string) (jwt, access string) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("%s = %d %q, want 200 and a session", what, r.status, r.body)
	}
	m := r.json(tb)
	jwt, _ = m["jwt"].(string)
	access, _ = m["access-token"].(string)
	if strings.Count(jwt, ".") != 2 || access == "" {
		tb.Fatalf("%s = %s, want string jwt and access-token", what, r.body)
	}
	if c, ok := m["code"]; ok {
		tb.Fatalf("%s carries code %v; React rejects a truthy code", what, c)
	}
	return jwt, access
}

// wantError checks HTTP 400 and an integral numeric code, as Swift casts it.
func (r wireReply) wantError(tb testing.TB, what string, code int) {
	tb.Helper()
	if r.status != http.StatusBadRequest {
		tb.Fatalf("%s = %d %q, want 400 and code %d", what, r.status, r.body, code)
	}
	m := r.json(tb)
	got, ok := m["code"].(float64)
	if !ok || got != float64(code) {
		tb.Fatalf("%s = %s, want code %d", what, r.body, code)
	}
	if _, ok := m["message"].(string); !ok {
		tb.Fatalf("%s = %s, want a string message", what, r.body)
	}
}

// send makes one request with exactly the given headers and body.
func (e *env) send(tb testing.TB, method, path string, hdr map[string]string, body string) wireReply {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// A POST client does not follow a redirect as a POST: neither do we.
	hc := *e.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return wireReply{status: res.StatusCode, body: b}
}

// swift posts a form body exactly as CosyncJWTSwift builds it: the
// percent-decoded query of its URLComponents, values raw.
func (e *env) swift(tb testing.TB, path, header, token, body string) wireReply {
	tb.Helper()
	return e.send(tb, http.MethodPost, "/"+path, map[string]string{
		header: token, "Content-Type": "application/x-www-form-urlencoded",
	}, body)
}

func (e *env) swiftGet(tb testing.TB, path, header, token string) wireReply {
	tb.Helper()
	return e.send(tb, http.MethodGet, "/"+path, map[string]string{header: token}, "")
}

// kotlin posts Gson's JSON; react posts JSON.stringify's, with its
// Content-Type and Accept on every request, GETs included.
func (e *env) kotlin(tb testing.TB, path, header, token string, body map[string]any) wireReply {
	tb.Helper()
	b, _ := json.Marshal(body)
	return e.send(tb, http.MethodPost, "/api/appuser/"+path, map[string]string{
		header: token, "Content-Type": "application/json; charset=UTF-8",
	}, string(b))
}

func (e *env) react(tb testing.TB, method, path, header, token string, body map[string]any) wireReply {
	tb.Helper()
	var s string
	if body != nil {
		b, _ := json.Marshal(body)
		s = string(bytes.TrimSpace(b))
	}
	return e.send(tb, method, "/api/appuser/"+path, map[string]string{
		header: token, "Content-Type": "application/json", "Accept": "application/json",
	}, s)
}

var jsISOTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// zipOf is a ZIP archive of files (name → content), as CosyncJWT's export
// packs its CSV files.
func zipOf(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
