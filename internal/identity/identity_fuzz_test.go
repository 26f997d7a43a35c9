package identity

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cosync/cosync-auth/internal/apperr"
)

// fuzzFields are the metadata fields the metadata fuzzer validates against:
// nested and flat, every type, one required.
var fuzzFields = []MetadataField{
	{Path: "user_data.name", Name: "Name", Required: true, UserEditable: true, Type: FieldString},
	{Path: "user_data.age", Name: "Age", Type: FieldNumber},
	{Path: "user_data.pro", Name: "Pro", Type: FieldBool},
	{Path: "team", Name: "Team", Type: FieldString},
}

// wantInvalid fails tb unless err is an apperr Invalid whose reason is
// reason and whose every violation field starts with prefix: bad input is
// never Internal, and it always says which field.
func wantInvalid(tb testing.TB, what string, err error, reason apperr.Reason, prefix string) {
	tb.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		tb.Fatalf("%s = %v (%T), want an *apperr.Error", what, err, err)
	}
	if e.Kind() != apperr.Invalid || e.Reason() != reason {
		tb.Fatalf("%s = %v (kind %v, reason %q), want invalid %q", what, err, e.Kind(), e.Reason(), reason)
	}
	if len(e.Violations()) == 0 {
		tb.Fatalf("%s = %v names no field", what, err)
	}
	for _, v := range e.Violations() {
		if !strings.HasPrefix(v.Field, prefix) {
			tb.Fatalf("%s names field %q, want one under %q", what, v.Field, prefix)
		}
	}
}

// FuzzCheckMetadata feeds JSON objects, as SignUp, SetUserMetadata and the
// CosyncJWT metaData field decode them, to checkMetadata. What it keeps
// holds only declared paths with values of their types, checking it again
// gives it back unchanged, and it survives a JSON round trip (what the store
// and the token do with it); what it refuses is Invalid with fields under
// "metadata.".
func FuzzCheckMetadata(f *testing.F) {
	for _, s := range []string{
		`{"user_data":{"name":"Ann"}}`,
		`{"user_data":{"name":"Ann","age":41,"pro":true},"team":"blue"}`,
		`{"user_data":{"name":"Ann","age":"old"}}`,
		`{"user_data":{}}`,
		`{"user_data":{"name":{"first":"Ann"}}}`,
		`{"user_data":"flat"}`,
		`{"admin":true}`,
		`{"user_data.name":"dotted key"}`,
		`{"user_data":{"name":null}}`,
		`{"":{"":""}}`,
		`{"user_data":{"name":"` + strings.Repeat("x", 1025) + `"}}`,
		`{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}`,
		`{"user_data":{"age":1e308,"name":"\u0000"}}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, requireAll bool) {
		var in map[string]any
		if json.Unmarshal(data, &in) != nil || in == nil {
			return
		}
		out, err := checkMetadata(fuzzFields, in, requireAll)
		if err != nil {
			wantInvalid(t, "checkMetadata", err, apperr.ReasonMetadataInvalid, "metadata.")
			return
		}
		declared := map[string]FieldType{}
		for _, fd := range fuzzFields {
			declared[fd.Path] = fd.Type
		}
		for _, p := range leafPaths(out, "") {
			ft, ok := declared[p]
			if !ok {
				t.Fatalf("checkMetadata(%s) kept undeclared path %q", data, p)
			}
			if v, _ := lookupPath(out, p); !typeMatches(ft, v) {
				t.Fatalf("checkMetadata(%s) kept %q = %#v, not a %s", data, p, v, ft)
			}
		}
		if requireAll {
			if v, ok := lookupPath(out, "user_data.name"); !ok || v == nil {
				t.Fatalf("checkMetadata(%s, requireAll) = %v without the required user_data.name", data, out)
			}
		}
		again, err := checkMetadata(fuzzFields, out, requireAll)
		if err != nil || !reflect.DeepEqual(again, out) {
			t.Fatalf("checkMetadata(checkMetadata(%s)) = %v, %v; want %v again", data, again, err, out)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("json.Marshal(%v) = %v", out, err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, out) {
			t.Fatalf("metadata %v does not survive JSON: %s -> %v, %v", out, b, back, err)
		}
	})
}

// FuzzCheckFields feeds metadata field paths, as a developer sends them in
// app settings, to checkFields. An accepted path is dotted names, shadows
// no reserved claim, and names the same place for lookupPath and setPath.
func FuzzCheckFields(f *testing.F) {
	for _, s := range []string{
		"user_data.name", "name", "email_verified", "role", "scope", "cnf", "sub", "iss.x",
		"user_data..name", ".name", "name.", "a.b.c.d", "user-data", "ünïcode", "_x", "a\x00b",
		strings.Repeat("a", 65), "__proto__", "constructor.prototype",
	} {
		f.Add(s, "string")
	}
	f.Fuzz(func(t *testing.T, path, typ string) {
		fs := []MetadataField{{Path: path, Type: FieldType(typ)}}
		vs := checkFields("signup_metadata_fields", fs)
		for _, v := range vs {
			if !strings.HasPrefix(v.Field, "settings.signup_metadata_fields[0].") {
				t.Fatalf("checkFields(%q) names %q", path, v.Field)
			}
		}
		if slices.ContainsFunc(vs, func(v apperr.Violation) bool { return strings.HasSuffix(v.Field, ".path") }) {
			return
		}
		segs := strings.Split(path, ".")
		if ReservedClaims[segs[0]] {
			t.Fatalf("checkFields accepted %q, which shadows the reserved claim %q", path, segs[0])
		}
		for _, s := range segs {
			if s == "" || !utf8.ValidString(s) {
				t.Fatalf("checkFields accepted %q with segment %q", path, s)
			}
		}
		m := map[string]any{}
		setPath(m, path, "v")
		if v, ok := lookupPath(m, path); !ok || v != "v" {
			t.Fatalf("setPath then lookupPath(%q) = %v, %v", path, v, ok)
		}
		if got := leafPaths(m, ""); len(got) != 1 || got[0] != path {
			t.Fatalf("leafPaths after setPath(%q) = %v", path, got)
		}
	})
}

// FuzzNormalizePhone: a number is accepted only in E.164 form, normalising
// it again gives the same number, and a refusal is Invalid naming "phone".
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"+14155550100", "+447911123456", "+33612345678", "14155550100", "+1 415 555 0100",
		"+0123456789", "+1415555010099999", "+", "", "+1415555O100", "+١٤١٥٥٥٥٠١٠٠", "+14155550100\n",
		"+999999999999999", "tel:+14155550100",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizePhone("phone", in)
		if err != nil {
			wantInvalid(t, "NormalizePhone", err, apperr.ReasonInvalidArgument, "phone")
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", in, got)
		}
		again, err := NormalizePhone("phone", got)
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(NormalizePhone(%q)) = %q, %v; want %q", in, again, err, got)
		}
	})
}

// FuzzHandle: NormalizeEmail is idempotent and keeps "@" (so a handle is
// an email before and after), and a valid user name is never read as an
// email by findByHandle.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"ann@example.com", " Ann@Example.COM ", "ann", "Ann42", "İnci@example.com", "ß@EXAMPLE.com",
		"a@b", "@", "", "\u212a@example.com", "ann@exa\u0000mple.com", "\xff@example.com", "1ann",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		n := NormalizeEmail(h)
		if again := NormalizeEmail(n); again != n {
			t.Fatalf("NormalizeEmail(NormalizeEmail(%q)) = %q, want %q", h, again, n)
		}
		if strings.Contains(h, "@") != strings.Contains(n, "@") {
			t.Fatalf("NormalizeEmail(%q) = %q changed whether it is an email", h, n)
		}
		if userNameRE.MatchString(h) && strings.Contains(strings.TrimSpace(h), "@") {
			t.Fatalf("user name %q would be looked up as an email", h)
		}
	})
}
