package swiftgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden prints the kitchen-sink proto (every shape the generator
// supports) and compares with testdata/golden.
func TestGolden(t *testing.T) {
	_, files := runPlugin(t, "", kitchenFile(t))
	var names []string
	for _, name := range sortedKeys(files) {
		if _, runtime := runtimeFile(name); runtime {
			continue
		}
		names = append(names, name)
		checkGolden(t, filepath.Join("testdata", "golden", name), files[name])
	}
	want := []string{"kitchen_v1.namespace.swift", "kitchen_v1_kitchen.pb.swift"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("generated %v, want %v", names, want)
	}
}

// runtimeFile reports whether name is one of the embedded runtime files.
func runtimeFile(name string) (string, bool) {
	b, err := runtime.ReadFile("runtime/" + name)
	return string(b), err == nil
}

// TestCommittedSDKIsThisGenerator holds the committed Swift SDK against what
// the generator prints for the contract in-process (doc comments aside: the
// Go SDK's descriptors have none), so the model the wire tests check is the
// one behind the committed Swift.
func TestCommittedSDKIsThisGenerator(t *testing.T) {
	_, files := runPlugin(t, "strip_package_prefix=cosync", cosyncFiles()...)
	dir := filepath.Join("..", "..", "sdk", "swift", "Sources", "Cosync", "Generated")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files) {
		t.Errorf("%s has %d files, the generator writes %d", dir, len(entries), len(files))
	}
	for _, name := range sortedKeys(files) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%v (run make generate)", err)
			continue
		}
		if got, want := withoutDocs(files[name]), withoutDocs(string(b)); got != want {
			t.Errorf("%s is not what the generator writes (run make generate):\n%s", name, firstDiff(want, got))
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		fn       func(string) string
		in, want string
	}{
		{camel, "user_name", "userName"},
		{camel, "qr_png", "qrPng"},
		{camel, "int32_value", "int32Value"},
		{upperCamel, "v1", "V1"},
		{lowerFirst, "GetUser", "getUser"},
		{lowerFirst, "GetURLInfo", "getURLInfo"},
		{lowerFirst, "URLFetch", "urlFetch"},
		{lowerFirst, "ID", "id"},
		{screamingSnake, "TwoFactorMethod", "TWO_FACTOR_METHOD"},
		{screamingSnake, "ErrorReason", "ERROR_REASON"},
		{ident, "default", "`default`"},
		{ident, "handle", "handle"},
	} {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ enum, value, want string }{
		{"UserStatus", "USER_STATUS_ACTIVE", "active"},
		{"TemplateKind", "TEMPLATE_KIND_SIGNUP_CODE", "signupCode"},
		{"ErrorReason", "ERROR_REASON_INVALID_CODE", "invalidCode"},
		{"Color", "COLOR_DEFAULT", "default"},
		{"Odd", "OTHER_1", "other1"},
	} {
		if got := enumCase(tc.enum, tc.value); got != tc.want {
			t.Errorf("enumCase(%q, %q) = %q, want %q", tc.enum, tc.value, got, tc.want)
		}
	}
}
