package main

import (
	"os/exec"
	"strings"
	"testing"
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
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir, base, env, serverLog := docsServer(t, db)

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
