package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/cosync/cosync-auth/sdk/go/cosync/admin/v1"
	authv1 "github.com/cosync/cosync-auth/sdk/go/cosync/auth/v1"

	"github.com/cosync/cosync-auth/internal/config"
)

// docSection returns the text of file (a path from the repository root,
// such as "docs/lifecycle.md") between <!-- name:start --> and
// <!-- name:end -->: the commands and tables the tests run or check verbatim.
func docSection(tb testing.TB, file, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
	if err != nil {
		tb.Fatal(err)
	}
	body, ok := section(string(b), name)
	if !ok {
		tb.Fatalf("%s has no %s section", file, name)
	}
	return body
}

// section returns the text of doc between <!-- name:start --> and
// <!-- name:end -->, and whether both markers are there.
func section(doc, name string) (string, bool) {
	_, rest, ok := strings.Cut(doc, "<!-- "+name+":start -->")
	body, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	return body, ok && ok2
}

// readmeSection returns the section called name wherever it lives among
// README.md and docs/*.md, failing unless exactly one file has it. The tests
// in this file name their files with docSection; readmeSection keeps the
// callers that name only a section (TestREADMESocial, TestREADMEVault) working
// after the README's guides moved to docs/.
func readmeSection(tb testing.TB, name string) string {
	tb.Helper()
	var found []string
	for _, file := range docFiles(tb) {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
		if err != nil {
			tb.Fatal(err)
		}
		if _, ok := section(string(b), name); ok {
			found = append(found, file)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("section %s is in %d of README.md and docs/*.md (%v), want exactly one", name, len(found), found)
	}
	return docSection(tb, found[0], name)
}

// docFiles lists README.md and docs/*.md as paths from the repository root.
func docFiles(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		tb.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range paths {
		rel, err := filepath.Rel("..", p)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// shBlocks joins the ```sh blocks of a section, in order, into one script.
func shBlocks(text string) string {
	var b strings.Builder
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		b.WriteString(m[1])
	}
	return b.String()
}

// TestREADMEWalkthrough runs the README's walkthrough and then the account
// lifecycle guide (docs/lifecycle.md), as written, in one shell against the
// built binary: on SQLite, then on Postgres.
func TestREADMEWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthrough needs %s: %v", tool, err)
		}
	}
	walk := shBlocks(docSection(t, "README.md", "walkthrough"))
	life := shBlocks(docSection(t, "docs/lifecycle.md", "lifecycle"))
	if !strings.Contains(walk, "developer create") || !strings.Contains(walk, "jwtVerify") || !strings.Contains(life, "DeleteAccount") {
		t.Fatalf("walkthrough or lifecycle script looks incomplete:\n%s\n%s", walk, life)
	}
	script := walk + life
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir, base, env, serverLog := docsServer(t, db)

			sh := strings.ReplaceAll(script, "http://localhost:8080", base)
			cmd := exec.Command("bash", "-euo", "pipefail", "-c", sh)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("walkthrough failed: %v\n%s\nserver log:\n%s", err, out, serverLog.String())
			}
			for _, want := range []string{
				`{"flow":"SIGNUP_FLOW_CODE"}`, `"email":"ann@example.com"`, "verified, kid", `"name": "Ann"`, `"my-atlas-app-id"`,
				`{"code":"invalid_argument","reason":"PASSWORD_POLICY","field":"new_password"}`, `{"available":true}`,
				`{"user_data":{"name":"Annie"}}`, "same user id", `{"team":"blue","user_data":{"name":"Bo"}}`,
				`{"flow":"SIGNUP_FLOW_LINK"}`, "Location: fieldnotes://signed-up", "Your Field Notes code is 123456",
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("walkthrough output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(tb testing.TB, base string, log fmt.Stringer) {
	tb.Helper()
	waitHTTP(tb, base+"/readyz", log)
}

// waitHTTP waits up to 30 seconds for url to answer 200, then fails tb
// with log.
func waitHTTP(tb testing.TB, url string, log fmt.Stringer) {
	tb.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
	}
	tb.Fatalf("%s never answered 200; log:\n%s", url, log)
}

// TestDocsConfigTable keeps the configuration guide's table equal to the
// settings the binary reads.
func TestDocsConfigTable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("\n| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range config.Settings() {
		def := s.Default
		if s.Shown != "" {
			def = s.Shown
		} else if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | %s | %s |\n", s.Env, s.Flag, def, s.Usage)
	}
	if got := docSection(t, "docs/configuration.md", "config"); got != b.String() {
		t.Errorf("docs/configuration.md: the settings table is stale; want:\n%s", b.String())
	}
}

// TestDocsAPITable keeps the API guide's table listing every RPC, marked
// implemented exactly when a handler method exists for it.
func TestDocsAPITable(t *testing.T) {
	t.Parallel()
	table := docSection(t, "docs/api.md", "api")
	services := map[string]struct {
		desc protoreflect.ServiceDescriptor
		dir  string
	}{
		"AuthService":  {authv1.File_cosync_auth_v1_auth_proto.Services().ByName("AuthService"), "../internal/authapi"},
		"AdminService": {adminv1.File_cosync_admin_v1_admin_proto.Services().ByName("AdminService"), "../internal/adminapi"},
	}
	rows := 0
	for name, svc := range services {
		implemented := handlerMethods(t, svc.dir)
		methods := svc.desc.Methods()
		for i := range methods.Len() {
			rpc := string(methods.Get(i).Name())
			rows++
			row := regexp.MustCompile(`(?m)^\| ` + name + ` \| ` + "`" + rpc + "`" + ` \| (.*) \|$`).FindStringSubmatch(table)
			if row == nil {
				t.Errorf("docs/api.md: the table has no row for %s.%s", name, rpc)
				continue
			}
			if got, want := strings.HasPrefix(row[1], "implemented"), implemented[rpc]; got != want {
				t.Errorf("docs/api.md says %s.%s is %q; implemented = %v", name, rpc, row[1], want)
			}
		}
	}
	if n := strings.Count(table, "\n| "); n-1 != rows {
		t.Errorf("docs/api.md: the table has %d rows, the contract %d RPCs", n-1, rows)
	}
}

// handlerMethods lists the methods declared on *Handler in a package's
// non-test Go files.
func handlerMethods(tb testing.TB, dir string) map[string]bool {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		tb.Fatal(err)
	}
	var decls []ast.Decl
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		decls = append(decls, f.Decls...)
	}
	out := map[string]bool{}
	for _, d := range decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok && id.Name == "Handler" && fn.Name.IsExported() {
				out[fn.Name.Name] = true
			}
		}
	}
	return out
}
