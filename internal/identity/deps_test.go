package identity_test

import (
	"os/exec"
	"strings"
	"testing"
)

// domainPackages are the packages that hold the flows; adapters import
// them, never the other way round.
var domainPackages = []string{"./internal/identity", "./internal/console"}

// adapterLibraries are the libraries only adapters may reach: Vault,
// Twilio, the mail library, JOSE, the database, metrics and tracing.
var adapterLibraries = []string{
	"github.com/hashicorp/vault/api",
	"github.com/twilio/twilio-go",
	"github.com/wneessen/go-mail",
	"github.com/lestrrat-go/jwx",
	"github.com/uptrace/bun",
	"github.com/prometheus/client_golang",
	"go.opentelemetry.io/otel",
}

// TestDomainImportsNoAdapter keeps the dependencies pointing inward: the
// domain declares its value types and interfaces, and `go list -deps` of a
// domain package names no adapter library.
func TestDomainImportsNoAdapter(t *testing.T) {
	t.Parallel()
	for _, pkg := range domainPackages {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s named %d packages; want the whole closure", pkg, len(deps))
		}
		for _, dep := range deps {
			for _, lib := range adapterLibraries {
				if dep == lib || strings.HasPrefix(dep, lib+"/") {
					t.Errorf("%s depends on %s; the domain must not reach an adapter's library", pkg, dep)
				}
			}
		}
	}
}
