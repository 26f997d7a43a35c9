package cosyncjwt

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseForm: the lenient form parser takes any body; a body a
// standard encoder wrote (what every well-behaved client sends) decodes to
// exactly what was encoded; the first value of a repeated name wins; and a
// decoded value is never longer than its raw text.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"handle=a%2Bb@x.com&password=abc", "phone=+14155550123", `metaData={"name":{"last":"Van Dyke"}}`,
		`metaData={"a":"x; 100% y"}`, "code=12%", "handle=a@x.com&senderUserId", "handle=a%252B@x.com",
		"a=1&a=2", "", "&&&=&==", "%", "%zz=%G0", "%00=%ff", "name=%E2%82%AC", "a=b=c",
	} {
		f.Add(s, "handle", "ann+1@example.com")
	}
	f.Fuzz(func(t *testing.T, body, name, value string) {
		got := parseForm(body)
		for k, v := range got {
			if len(v) > len(body) || len(k) > len(body) {
				t.Fatalf("parseForm(%q) grew %q=%q", body, k, v)
			}
		}
		if name == "" {
			return
		}
		enc := url.Values{name: {value, "second"}}.Encode()
		if got := parseForm(enc); got[name] != value {
			t.Fatalf("parseForm(%q)[%q] = %q, want %q", enc, name, got[name], value)
		}
	})
}

// FuzzReadFields sends a CosyncJWT endpoint any body under any
// Content-Type: readFields either refuses it with an error (the endpoint
// answers 602/400) or returns fields; a JSON object of strings reads back
// as itself.
func FuzzReadFields(f *testing.F) {
	f.Add("application/json", `{"handle":"a+b@x.com","twoFactor":true,"n":5,"metaData":{"a":1},"x":null}`)
	f.Add("application/json; charset=utf-8", `{"handle":`)
	f.Add("application/x-www-form-urlencoded", "handle=a&password=b")
	f.Add("", ` {"handle":"a"}`)
	f.Add("text/plain", "[1,2,3]")
	f.Add("application/json", `[]`)
	f.Add("application/json", `{"a":"\ud800"}`)
	f.Add("multipart/form-data; boundary=x", "--x\r\n\r\n--x--")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		got, err := readFields(r)
		if err != nil {
			return
		}
		if got == nil {
			t.Fatalf("readFields(%q, %q) = nil fields and no error", contentType, body)
		}
		var obj map[string]string
		if strings.HasPrefix(contentType, "application/json") && json.Unmarshal([]byte(body), &obj) == nil && utf8.ValidString(body) {
			for k, v := range obj {
				if got[k] != v && !strings.Contains(body, `\u`) {
					t.Fatalf("readFields(%q)[%q] = %q, want %q", body, k, got[k], v)
				}
			}
		}
	})
}

// exportCSV writes a user-collection.csv with one user.
func exportCSV(tb testing.TB, handle, metaData, status string) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"handle", "password", "status", "metaData", "locale", "createdAt"})
	_ = w.Write([]string{handle, "$2b$10$abcdefghijklmnopqrstuu", status, metaData, "en", "Tue Jul 02 2024 10:00:00 GMT+0000 (Coordinated Universal Time)"})
	w.Flush()
	return b.Bytes()
}

// FuzzReadExport feeds the import's reader any bytes (and ZIPs around
// them): it returns an error or users, never panics; and a CSV a standard
// writer made with any handle and metaData reads back the same, alone or
// inside a ZIP.
func FuzzReadExport(f *testing.F) {
	f.Add(exportCSV(f, "ann@example.com", `{"name":"Ann"}`, "active"), "ann@example.com", `{"name":"Ann"}`)
	f.Add([]byte("handle\n\"unterminated"), "a,b", "[object Object]")
	f.Add([]byte("\ufeffhandle,handle\nx,y\n"), "\"quoted\"", "{")
	f.Add([]byte("PK\x03\x04garbage"), "\n", "\r\n")
	f.Add([]byte(""), "", "")
	f.Add([]byte("password,status\n1,2\n"), " spaced ", `{"a":{"b":[1,2,{"c":null}]}}`)
	f.Fuzz(func(t *testing.T, raw []byte, handle, metaData string) {
		if ex, err := ReadExport(bytes.NewReader(raw)); err == nil {
			for _, u := range ex.Users {
				if u.Line < 1 {
					t.Fatalf("ReadExport(%q) user %+v has no line", raw, u)
				}
				if md, ok := metadataOf(u.MetaData); md == nil {
					t.Fatalf("metadataOf(%q) = nil, %v; want an object to import", u.MetaData, ok)
				}
			}
		}
		if !utf8.ValidString(handle) || !utf8.ValidString(metaData) || strings.ContainsRune(handle+metaData, '\r') {
			return // encoding/csv turns \r\n into \n inside quotes: not a reader bug
		}
		plain := exportCSV(t, handle, metaData, "active")
		var z bytes.Buffer
		zw := zip.NewWriter(&z)
		for name, body := range map[string][]byte{"export/user-collection.csv": plain, "app-collection.csv": []byte("appToken\ntok\n")} {
			w, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write(body)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		for what, b := range map[string][]byte{"csv": plain, "zip": z.Bytes()} {
			ex, err := ReadExport(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("ReadExport(%s with handle %q, metaData %q) = %v", what, handle, metaData, err)
			}
			want := ExportUser{Line: 2, Handle: handle, MetaData: metaData}
			if len(ex.Users) != 1 || ex.Users[0].Handle != want.Handle || ex.Users[0].MetaData != want.MetaData {
				t.Fatalf("ReadExport(%s) = %+v, want one user %+v", what, ex.Users, want)
			}
			if what == "zip" && ex.AppToken != "tok" {
				t.Fatalf("ReadExport(zip) app token = %q, want tok", ex.AppToken)
			}
		}
		if md, ok := metadataOf(metaData); ok {
			var back map[string]any
			b, _ := json.Marshal(md)
			if json.Unmarshal(b, &back) != nil || !reflect.DeepEqual(back, md) {
				t.Fatalf("metadataOf(%q) = %v does not survive JSON", metaData, md)
			}
		}
	})
}
