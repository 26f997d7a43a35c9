package apperr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/apperr"
)

const apperrPath = "github.com/cosync/cosync-auth/internal/apperr"

// listed is what `go list -json` says of one package.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	DepOnly    bool
}

// TestReasonsInContract type-checks every package of the server (not its
// tests) and fails on any constant of type apperr.Reason whose value is not
// one of the contract's reasons, wherever it is written: a literal passed to
// apperr.New, a local constant, a return value. Reasons read back from rows
// are the store's business, so only there may a non-constant string become a
// Reason.
func TestReasonsInContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every package's export data")
	}
	t.Parallel()
	valid := map[string]bool{}
	for _, r := range apperr.Reasons {
		valid[string(r)] = true
	}

	pkgs, exports := goList(t, "../..", "./internal/...", "./server/...")
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if f, ok := exports[path]; ok && f != "" {
			return os.Open(f)
		}
		return nil, errors.New("no export data for " + path)
	})
	seen := map[string]bool{}
	for _, p := range pkgs {
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
		pkg, err := (&types.Config{Importer: imp}).Check(p.ImportPath, fset, files, info)
		if err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		reasonType := lookupReason(pkg)
		if reasonType == nil {
			continue // this package never names apperr.Reason
		}
		for expr, tv := range info.Types {
			if tv.Value == nil || tv.Value.Kind() != constant.String || !types.Identical(tv.Type, reasonType) {
				continue
			}
			v := constant.StringVal(tv.Value)
			if v == "" {
				continue // "no reason": the transport picks the kind's default
			}
			seen[v] = true
			if !valid[v] {
				t.Errorf("%s: reason %q is not a cosync.auth.v1.ErrorReason; add it to errors.proto and regenerate reasons.go", fset.Position(expr.Pos()), v)
			}
		}
		if strings.HasSuffix(p.ImportPath, "/internal/store") || p.ImportPath == apperrPath {
			continue
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				if fun, ok := info.Types[call.Fun]; ok && fun.IsType() && types.Identical(fun.Type, reasonType) && info.Types[call.Args[0]].Value == nil {
					t.Errorf("%s: apperr.Reason made from a computed string; return one of apperr's constants", fset.Position(call.Pos()))
				}
				return true
			})
		}
	}
	// A walk that found nothing would pass for the wrong reason.
	if len(seen) < 30 {
		t.Errorf("found %d distinct reasons in the server's packages, want the whole domain's (30 or more)", len(seen))
	}
}

// lookupReason returns the apperr.Reason type as pkg sees it, or nil.
func lookupReason(pkg *types.Package) types.Type {
	if pkg.Path() == apperrPath {
		return pkg.Scope().Lookup("Reason").Type()
	}
	for _, dep := range pkg.Imports() {
		if dep.Path() == apperrPath {
			return dep.Scope().Lookup("Reason").Type()
		}
	}
	return nil
}

// goList lists the packages patterns name (in dir) and the export data of
// every package they depend on.
func goList(tb testing.TB, dir string, patterns ...string) (targets []listed, exports map[string]string) {
	tb.Helper()
	args := append([]string{"list", "-export", "-deps", "-json=ImportPath,Dir,GoFiles,Export,DepOnly"}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	exports = map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			tb.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if !p.DepOnly {
			targets = append(targets, p)
		}
	}
	return targets, exports
}
