package cosync_test

import (
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsSnippet builds the Go program of docs/sdks.md against this
// module and runs it against the test server, as written but for the
// server's URL and the app id.
func TestDocsSnippet(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/sdks.md")
	if err != nil {
		t.Skipf("docs/sdks.md is not beside this module: %v", err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- sdk-go:start -->")
	section, _, ok2 := strings.Cut(rest, "<!-- sdk-go:end -->")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	if !ok || !ok2 || len(blocks) != 1 {
		t.Fatalf("docs/sdks.md: want one go block between the sdk-go markers, found %d", len(blocks))
	}
	if formatted, err := format.Source([]byte(blocks[0][1])); err != nil || string(formatted) != blocks[0][1] {
		t.Errorf("the docs snippet is not gofmt-ed (%v); gofmt would write:\n%s", err, formatted)
	}
	program := strings.NewReplacer("http://localhost:8080", baseURL, "YOUR_APP_ID", appID).Replace(blocks[0][1])

	sdk, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module snippet\n\ngo 1.26.0\n\nrequire github.com/cosync/cosync-auth/sdk/go v0.0.0\n\n" +
		"replace github.com/cosync/cosync-auth/sdk/go => " + sdk + "\n"
	for name, body := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(program)} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run (the docs snippet): %v\n%s", err, out)
	}
	for _, want := range []string{"signed in as ann@example.com", "verified ann@example.com map[name:Ann]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the docs snippet printed\n%s\nwant a line %q", out, want)
		}
	}
}
