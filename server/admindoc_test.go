package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosync/cosync-auth/internal/store/storetest"
)

// TestDocsAdminTeams runs the "Teams, roles and API keys" commands of
// docs/admin.md, as written, against the built binary on SQLite and on
// Postgres, and checks every answer the guide shows (its `# …` lines).
func TestDocsAdminTeams(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the guide needs %s: %v", tool, err)
		}
	}
	script := shBlocks(docSection(t, "docs/admin.md", "admin-teams"))
	var want []string
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "# ") {
			want = append(want, strings.TrimPrefix(line, "# "))
		}
	}
	if len(want) < 6 || !strings.Contains(script, "CreateApiKey") || !strings.Contains(script, "AddMember") {
		t.Fatalf("the admin-teams section looks incomplete:\n%s", script)
	}
	bin := filepath.Join(t.TempDir(), "cosync-auth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(bin, filepath.Join(dir, "bin", "cosync-auth")); err != nil {
				t.Fatal(err)
			}
			addr := freeAddr(t)
			base := "http://" + addr
			env := append(os.Environ(), "COSYNC_ADDR="+addr, "COSYNC_PUBLIC_URL="+base, "COSYNC_LOG_LEVEL=warn")
			if db == "postgres" {
				env = append(env, "COSYNC_DATABASE_URL="+storetest.EmptyPostgres(t))
			}
			var serverLog bytes.Buffer
			srv := exec.Command(filepath.Join(dir, "bin", "cosync-auth"), "serve")
			srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, &serverLog, &serverLog
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
			waitReady(t, base, &serverLog)

			cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.ReplaceAll(script, "http://localhost:8080", base))
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("docs/admin.md commands failed: %v\n%s\nserver log:\n%s", err, out, serverLog.String())
			}
			// Every shown answer, in order.
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			var answers []string
			for _, l := range got {
				if !strings.HasPrefix(l, "developer ") { // developer create's own line
					answers = append(answers, l)
				}
			}
			if strings.Join(answers, "\n") != strings.Join(want, "\n") {
				t.Errorf("docs/admin.md answers:\n%s\nwant (its # lines):\n%s", strings.Join(answers, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
