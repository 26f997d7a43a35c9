package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/identity"
	"github.com/cosync/cosync-auth/internal/store"
	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// hostile is one request an attacker sends, and why it must be refused.
type hostile struct {
	name        string
	method, url string
	header      map[string]string
	contentType string
	body        []byte
	// domain: an RPC case whose body decodes, so the answer comes from
	// protovalidate or the domain and must carry details (ErrorInfo reason
	// or field violations); a body that does not decode gets the codec's
	// message only.
	domain bool
}

// The strings an attacker tries in every field that reaches a query, a
// path or a template.
var injections = []struct{ name, value string }{
	{"sql", `' OR '1'='1'; DROP TABLE users; --`},
	{"path", `../../../../etc/passwd%00`},
	{"template", `{{printf "%0999999d" 0}}{{.}}${jndi:ldap://x}`},
}

// TestHostileRequests sends several hundred hostile requests, generated
// from the service descriptors, across every RPC of both services, the
// CosyncJWT routes and the plain HTTP routes. Each must be answered with a
// 4xx and a reason (never a 5xx, never a success), and the database must be
// as it was: every table's rows hash the same afterwards, except what
// refusals are meant to record (rate-limit counters, failure audit events,
// failed-login counters).
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	hostileEach(t, func(t *testing.T, e *env, db *sql.DB) {
		ctx := context.Background()
		dev := e.developer(t, "dev@example.com")
		other := e.developer(t, "other@example.com")
		app := e.appWithNameField(t, dev)
		otherApp := e.appWithNameField(t, other)
		e.cjwtApp(t, dev, authv1.SignupFlow_SIGNUP_FLOW_CODE)
		user := e.signUp(t, dev, app, "ann@example.com").GetAccessToken()
		otherUser := e.signUp(t, other, otherApp, "bob@example.com").GetAccessToken()
		forged := forgedToken(user)
		if _, err := e.auth.GetUser(as(ctx, app, user), &authv1.GetUserRequest{}); err != nil {
			t.Fatalf("GetUser before = %v", err)
		}

		cases := rpcCases(e.url, authv1.File_cosync_auth_v1_auth_proto.Services().ByName("AuthService"), rpcCreds{
			valid:   map[string]string{"Cosync-App-Id": app, "Authorization": "Bearer " + user},
			forged:  map[string]string{"Cosync-App-Id": app, "Authorization": "Bearer " + forged},
			foreign: map[string]string{"Cosync-App-Id": app, "Authorization": "Bearer " + otherUser},
		}, otherApp)
		cases = append(cases, rpcCases(e.url, adminv1.File_cosync_admin_v1_admin_proto.Services().ByName("AdminService"), rpcCreds{
			valid:   map[string]string{"Authorization": "Bearer " + dev},
			forged:  map[string]string{"Authorization": "Bearer " + forgedToken(dev)},
			foreign: map[string]string{"Authorization": "Bearer " + user},
		}, otherApp)...)
		cases = append(cases, facadeCases(e.url, user, forged)...)
		cases = append(cases, plainCases(e.url, app)...)
		if len(cases) < 300 {
			t.Fatalf("only %d hostile cases, want at least 300", len(cases))
		}

		before := dbSnapshot(t, db, e.p.store.Dialect())
		unimplemented := map[string]bool{}
		for _, c := range cases {
			status, body := c.send(t, e.http)
			// An RPC the contract names but the server does not build yet
			// answers 501 to whoever passes the door; that is not a fault.
			if status == http.StatusNotImplemented && strings.Contains(string(body), `"code":"unimplemented"`) {
				unimplemented[strings.Split(c.name, "/")[0]] = true
				continue
			}
			if status < 400 || status > 499 {
				t.Errorf("%s: HTTP %d, want a 4xx: %.300s", c.name, status, body)
				continue
			}
			if !hasReason(body) {
				t.Errorf("%s: HTTP %d without a reason: %.300s", c.name, status, body)
			}
			if len(body) > 1<<20 {
				t.Logf("%s: a %d-byte request got a %d-byte error", c.name, len(c.body), len(body))
			}
			if c.domain && !hasDetails(body) {
				t.Errorf("%s: HTTP %d without a reason or field violations: %.300s", c.name, status, body)
			}
		}
		after := dbSnapshot(t, db, e.p.store.Dialect())
		for table, h := range before {
			if after[table] != h {
				t.Errorf("table %s changed under refused requests: %s -> %s", table, h, after[table])
			}
		}
		if _, err := e.auth.GetUser(as(ctx, app, user), &authv1.GetUserRequest{}); err != nil {
			t.Errorf("GetUser after the hostile requests = %v; the session should still work", err)
		}
		t.Logf("%d hostile requests refused; %d tables unchanged; not implemented yet: %v", len(cases), len(before), slices.Sorted(maps.Keys(unimplemented)))
	})
}

// hostileEach runs fn on SQLite and on Postgres, each with a second,
// independent connection to the same database for the snapshots.
func hostileEach(t *testing.T, fn func(t *testing.T, e *env, db *sql.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cosync.db")
		st := openStore(t, path)
		raw, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = raw.Close() })
		fn(t, newEnv(t, st), raw)
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.EmptyPostgres(t)
		st := openStore(t, url)
		raw := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(storetest.DriverURL(t, url))))
		t.Cleanup(func() { _ = raw.Close() })
		fn(t, newEnv(t, st), raw)
	})
}

func openStore(tb testing.TB, databaseURL string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), databaseURL, nil)
	if err != nil {
		tb.Fatalf("store.Open = %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate = %v", err)
	}
	return st
}

// dbSnapshot returns each table's row count and a hash of its rows, in an
// order of their own. What refusals are meant to write is left out:
// rate_limits (counting attempts is the point), audit events whose outcome
// is a failure, and a user's failed-login counter and lock.
func dbSnapshot(tb testing.TB, db *sql.DB, dialect string) map[string]string {
	tb.Helper()
	ctx := context.Background()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
	if dialect != store.Postgres {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	tables := queryStrings(tb, db, q)
	if len(tables) < 10 {
		tb.Fatalf("snapshot found tables %v; want the whole schema", tables)
	}
	skipCols := map[string]bool{"failed_logins": true, "locked_until": true}
	out := map[string]string{}
	for _, table := range tables {
		if table == "rate_limits" {
			continue
		}
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			tb.Fatalf("snapshot of %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("snapshot of %s: %v", table, err)
			}
			var b strings.Builder
			failure := false
			for i, c := range cols {
				if skipCols[c] {
					continue
				}
				v := vals[i]
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				if table == "audit_events" && c == "outcome" && v == identity.OutcomeFailure {
					failure = true
				}
				fmt.Fprintf(&b, "%s=%v\x1f", c, v)
			}
			if !failure {
				lines = append(lines, b.String())
			}
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("snapshot of %s: %v", table, err)
		}
		rows.Close()
		slices.Sort(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\x1e")))
		out[table] = fmt.Sprintf("%d rows %s", len(lines), hex.EncodeToString(sum[:8]))
	}
	return out
}

func queryStrings(tb testing.TB, db *sql.DB, q string) []string {
	tb.Helper()
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// forgedToken returns tok with its payload's sub and exp changed and the
// signature kept, and with alg none: what a forger without the key sends.
func forgedToken(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "x.y.z"
	}
	b64 := base64.RawURLEncoding
	payload, _ := b64.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	claims["sub"] = "00000000-0000-0000-0000-000000000000"
	claims["exp"] = 4102444800
	p, _ := json.Marshal(claims)
	return b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64.EncodeToString(p) + "." + parts[2]
}

func (c hostile) send(tb testing.TB, hc *http.Client) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		tb.Fatalf("%s: %v", c.name, err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s: %v", c.name, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	return res.StatusCode, body
}

// hasDetails reports whether a Connect error body carries details (an
// ErrorInfo reason, field violations) or lists protovalidate's violations
// in its message (as it does when they are too many for a detail).
func hasDetails(body []byte) bool {
	var m struct {
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	}
	return json.Unmarshal(body, &m) == nil && (len(m.Details) > 0 || strings.HasPrefix(m.Message, "validation error"))
}

// hasReason reports whether an error body says why: a Connect error's
// code and message, a CosyncJWT error's code and message, or a short
// plain-text reason.
func hasReason(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if msg, _ := m["message"].(string); msg != "" {
			return true
		}
		_, hasCode := m["code"]
		return hasCode && len(m) > 1
	}
	return len(bytes.TrimSpace(body)) > 0
}

// rpcCreds are the credentials one service's cases use: a valid caller
// (so a refusal comes from the input, not the door), a forged one, and a
// caller of another tenant.
type rpcCreds struct{ valid, forged, foreign map[string]string }

// rpcCases generates, for every method of svc, requests that are wrong in
// one way each: wrong JSON types, bodies that are not objects or not JSON,
// deep nesting, invalid UTF-8 and binary garbage (all with valid
// credentials), no or forged credentials, another tenant's ids, unknown
// fields, and field values that are huge, carry NUL bytes or injection
// strings, name undefined enum values, are negative or are oversized lists.
func rpcCases(base string, svc protoreflect.ServiceDescriptor, cr rpcCreds, otherApp string) []hostile {
	var out []hostile
	methods := svc.Methods()
	for i := range methods.Len() {
		m := methods.Get(i)
		url := base + "/" + string(svc.FullName()) + "/" + string(m.Name())
		in := m.Input()
		add := func(kind string, hdr map[string]string, ct string, body []byte) {
			out = append(out, hostile{name: string(m.Name()) + "/" + kind, method: http.MethodPost, url: url, header: hdr,
				contentType: ct, body: body, domain: !undecodable[kind]})
		}
		js := func(kind string, hdr map[string]string, v any) {
			b, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			add(kind, hdr, "application/json", b)
		}
		fields := in.Fields()
		first := protoreflect.FieldDescriptor(nil)
		if fields.Len() > 0 {
			first = fields.Get(0)
		}
		strs := fieldsWhere(in, func(fd protoreflect.FieldDescriptor) bool {
			return fd.Kind() == protoreflect.StringKind && !fd.IsList()
		})
		enums := fieldsWhere(in, func(fd protoreflect.FieldDescriptor) bool { return fd.Kind() == protoreflect.EnumKind && !fd.IsList() })
		nums := fieldsWhere(in, func(fd protoreflect.FieldDescriptor) bool { return isNumber(fd) && !fd.IsList() })
		lists := fieldsWhere(in, func(fd protoreflect.FieldDescriptor) bool { return fd.IsList() })
		appID := in.Fields().ByName("app_id")

		// Bodies that do not decode.
		if first != nil {
			js("wrong type", cr.valid, map[string]any{first.JSONName(): wrongType(first)})
		}
		add("array body", cr.valid, "application/json", []byte(`[1,2,3]`))
		add("truncated JSON", cr.valid, "application/json", []byte(`{"`))
		deepKey := "zz"
		if first != nil {
			deepKey = first.JSONName()
		}
		add("deep JSON", cr.valid, "application/json", []byte(`{"`+deepKey+`":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`))
		utf8Key := "zz\xff"
		if len(strs) > 0 {
			utf8Key = strs[0].JSONName()
		}
		add("invalid UTF-8", cr.valid, "application/json", []byte(`{"`+utf8Key+`":"\xff\xfe\xfd"}`))
		add("binary garbage", cr.valid, "application/proto", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))

		// The door: nobody, a forger, another tenant. GetApplication is
		// public: it answers whoever asks, with the public settings only.
		if public[m.FullName()] {
			continue
		}
		add("no credentials", nil, "application/json", []byte(`{}`))
		add("forged bearer", cr.forged, "application/json", []byte(`{}`))
		js("unknown fields, forged", cr.forged, map[string]any{"zz_unknown": map[string]any{"admin": true}, "isAdmin": true})
		if appID != nil {
			js("another tenant's app", cr.valid, map[string]any{"appId": otherApp})
		} else {
			add("another tenant's credentials", cr.foreign, "application/json", []byte(`{}`))
		}

		// Values. Free text takes any string as data (see freeText).
		if len(strs) > 0 && !freeText[m.FullName()] {
			js("huge strings", cr.valid, fill(strs, strings.Repeat("A", 256<<10)))
			js("NUL bytes", cr.valid, fill(strs, "ann\x00@example.com"))
			for _, inj := range injections {
				js("injection "+inj.name, cr.valid, fill(strs, inj.value))
			}
		}
		if len(enums) > 0 {
			js("undefined enum name", cr.valid, fill(enums, "NOT_A_VALUE"))
			js("undefined enum number", cr.valid, fill(enums, 99999))
		}
		if len(nums) > 0 {
			js("negative numbers", cr.valid, fill(nums, -1))
		}
		if len(lists) > 0 {
			v := map[string]any{}
			for _, fd := range lists {
				v[fd.JSONName()] = oversized(fd)
			}
			js("oversized lists", cr.valid, v)
		}
	}
	return out
}

// undecodable are the kinds of case whose body the codec refuses.
var undecodable = map[string]bool{
	"wrong type": true, "array body": true, "truncated JSON": true, "deep JSON": true,
	"invalid UTF-8": true, "binary garbage": true, "undefined enum name": true,
}

// public methods answer anyone; their door is the app id, tried with the
// plain HTTP routes.
var public = map[protoreflect.FullName]bool{"cosync.auth.v1.AuthService.GetApplication": true}

// freeText methods take any string as data, so the value cases would be
// accepted, not refused: an app name or a page token (an app id cursor;
// an unknown one ends the list), and ForgotPassword's handle, which
// answers alike for any handle so that it cannot be used to find accounts.
// Their injection strings are still sent with bad credentials above.
var freeText = map[protoreflect.FullName]bool{
	"cosync.admin.v1.AdminService.CreateApp":    true,
	"cosync.admin.v1.AdminService.ListApps":     true,
	"cosync.auth.v1.AuthService.ForgotPassword": true,
}

func fieldsWhere(md protoreflect.MessageDescriptor, keep func(protoreflect.FieldDescriptor) bool) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	for i := range md.Fields().Len() {
		if fd := md.Fields().Get(i); keep(fd) {
			out = append(out, fd)
		}
	}
	return out
}

func fill(fds []protoreflect.FieldDescriptor, v any) map[string]any {
	out := map[string]any{}
	for _, fd := range fds {
		out[fd.JSONName()] = v
	}
	return out
}

func isNumber(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind,
		protoreflect.Fixed32Kind, protoreflect.Fixed64Kind, protoreflect.FloatKind, protoreflect.DoubleKind:
		return true
	}
	return false
}

// wrongType returns a JSON value that the field cannot hold.
func wrongType(fd protoreflect.FieldDescriptor) any {
	switch {
	case fd.IsList() || fd.IsMap():
		return "not a list"
	case fd.Kind() == protoreflect.MessageKind:
		if fd.Message().FullName() == "google.protobuf.FieldMask" {
			return 12
		}
		return "not an object"
	case fd.Kind() == protoreflect.StringKind:
		return map[string]any{"an": "object"}
	case fd.Kind() == protoreflect.BoolKind:
		return "yes"
	case fd.Kind() == protoreflect.BytesKind:
		return "!!not base64!!"
	case fd.Kind() == protoreflect.EnumKind:
		return []any{1}
	default:
		return "twelve"
	}
}

// oversized returns a list of 20,000 elements of the field's kind.
func oversized(fd protoreflect.FieldDescriptor) any {
	var el any = "x@example.com"
	switch {
	case fd.Kind() == protoreflect.MessageKind:
		el = map[string]any{}
	case fd.Kind() == protoreflect.EnumKind || isNumber(fd):
		el = 1
	case fd.Kind() == protoreflect.BoolKind:
		el = true
	}
	l := make([]any, 20000)
	for i := range l {
		l[i] = el
	}
	return l
}

// facadeCases are hostile calls to every CosyncJWT route: no token, a
// forged access token, a token of an app not set up for CosyncJWT, bodies
// that are not forms or JSON, and injection strings with the app token.
func facadeCases(base, otherAppUser, forged string) []hostile {
	var out []hostile
	names := []string{
		"getApplication", "login", "loginComplete", "loginAnonymous", "signup", "completeSignup", "invite",
		"register", "getUser", "forgotPassword", "resetPassword", "changePassword", "setPhone", "verifyPhone",
		"setTwoFactorPhoneVerification", "setTwoFactorGoogleVerification", "setUserMetadata",
		"userNameAvailable", "setUserName", "setLocale", "deleteAccount",
	}
	gets := map[string]bool{"getApplication": true, "getUser": true, "userNameAvailable": true}
	for _, n := range names {
		method := http.MethodPost
		if gets[n] {
			method = http.MethodGet
		}
		url := base + "/api/appuser/" + n
		add := func(kind string, hdr map[string]string, ct, body string) {
			out = append(out, hostile{name: "cosyncjwt " + n + "/" + kind, method: method, url: url, header: hdr, contentType: ct, body: []byte(body)})
		}
		add("no token", nil, "application/x-www-form-urlencoded", "handle=ann@example.com")
		add("forged access token", map[string]string{"access-token": forged}, "application/x-www-form-urlencoded", "handle=ann@example.com")
		add("token of an app without CosyncJWT", map[string]string{"access-token": otherAppUser}, "application/x-www-form-urlencoded", "")
		add("garbage app token", map[string]string{"app-token": "' OR '1'='1"}, "application/json", `{"handle":"ann@example.com"}`)
		if method == http.MethodPost && n != "loginAnonymous" && n != "forgotPassword" {
			add("JSON that is not an object", map[string]string{"app-token": cjwtAppToken}, "application/json", `["handle"`)
			for _, inj := range injections {
				add("injection "+inj.name, map[string]string{"app-token": cjwtAppToken}, "application/x-www-form-urlencoded",
					"handle="+inj.value+"&password="+inj.value+"&code="+inj.value+"&metaData="+inj.value)
			}
		}
	}
	out = append(out, hostile{name: "cosyncjwt unknown route", method: http.MethodPost, url: base + "/api/appuser/../admin/deleteAll",
		header: map[string]string{"app-token": cjwtAppToken}})
	return out
}

// plainCases are hostile requests to the plain HTTP routes.
func plainCases(base, app string) []hostile {
	var out []hostile
	get := func(name, path string) {
		out = append(out, hostile{name: "GET " + name, method: http.MethodGet, url: base + path})
	}
	for _, id := range []string{"no-such-app", "..%2F..%2Fetc%2Fpasswd", "%27%20OR%20%271%27%3D%271", "%7B%7B.%7D%7D", "%00", strings.Repeat("a", 4096)} {
		get("jwks of "+id[:min(len(id), 20)], "/apps/"+id+"/.well-known/jwks.json")
		get("openid-configuration of "+id[:min(len(id), 20)], "/apps/"+id+"/.well-known/openid-configuration")
		get("totp-qr of "+id[:min(len(id), 20)], "/apps/"+id+"/totp-qr?token=x")
	}
	// GET of a signup link only shows a page whose button POSTs (so mail
	// scanners consume nothing); the POST is what must refuse.
	for _, q := range []string{"handle=ann%40example.com&code=000000", "handle=%27%20OR%201%3D1--&code=%7B%7B.%7D%7D", "code=123456", ""} {
		out = append(out, hostile{name: "POST signup link " + q, method: http.MethodPost, url: base + "/apps/" + app + "/signup/confirm",
			contentType: "application/x-www-form-urlencoded", body: []byte(q)})
	}
	get("totp-qr without token", "/apps/"+app+"/totp-qr")
	get("totp-qr with a forged token", "/apps/"+app+"/totp-qr?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	out = append(out, hostile{name: "POST signup link without a form", method: http.MethodPost, url: base + "/apps/" + app + "/signup/confirm",
		contentType: "application/x-www-form-urlencoded", body: []byte("handle=%zz&code=%%%")})
	out = append(out, hostile{name: "DELETE jwks", method: http.MethodDelete, url: base + "/apps/" + app + "/.well-known/jwks.json"})
	return out
}
