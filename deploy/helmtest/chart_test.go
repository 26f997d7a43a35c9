package helmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

const chartDir = "../helm/cosync-auth"

// production is what docs/production.md installs with: Postgres and Vault
// (AppRole) by value.
func production() map[string]any {
	return map[string]any{
		"config": map[string]any{"publicURL": "https://auth.example.com", "vaultAddr": "https://vault.internal:8200"},
		"secrets": map[string]any{
			"databaseURL": "postgres://cosync:pw@db.internal:5432/cosync?sslmode=require",
			"vaultRoleID": "role", "vaultSecretID": "secret", "smtpURL": "smtp://u:p@smtp.example.com:587",
		},
	}
}

// doc is one rendered manifest.
type doc struct {
	source string // template file
	raw    map[string]any
	obj    any // the typed object
}

func (d doc) kind() string { s, _ := d.raw["kind"].(string); return s }

func (d doc) name() string {
	m, _ := d.raw["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}

// render loads the chart and renders it as `helm template` would, with
// values over the chart's defaults (validated against values.schema.json
// when the chart has one).
func render(t *testing.T, values map[string]any) ([]doc, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	vals, err := util.ToRenderValuesWithSchemaValidation(ch, values,
		common.ReleaseOptions{Name: "auth", Namespace: "cosync", Revision: 1, IsInstall: true}, common.DefaultCapabilities, false)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var docs []doc
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			continue // NOTES.txt, helpers
		}
		for _, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(files[n], -1) {
			if strings.TrimSpace(part) == "" {
				continue
			}
			var raw map[string]any
			if err := yaml.Unmarshal([]byte(part), &raw); err != nil {
				t.Fatalf("%s: not YAML: %v\n%s", n, err, part)
			}
			if raw == nil {
				continue // only comments
			}
			docs = append(docs, doc{source: path.Base(n), raw: raw})
		}
	}
	return docs, nil
}

// schemas compiles the vendored Kubernetes schemas once per test.
func schemas(t *testing.T) (*jsonschema.Compiler, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("schemas/kubernetes.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("kubernetes.json", spec); err != nil {
		t.Fatal(err)
	}
	// apiVersion/kind → schema, from each schema's x-kubernetes-group-version-kind.
	var parsed struct {
		Components struct {
			Schemas map[string]struct {
				GVK []struct{ Group, Version, Kind string } `json:"x-kubernetes-group-version-kind"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatal(err)
	}
	byKind := map[string]string{}
	for name, s := range parsed.Components.Schemas {
		for _, g := range s.GVK {
			av := g.Version
			if g.Group != "" {
				av = g.Group + "/" + g.Version
			}
			byKind[av+"/"+g.Kind] = name
		}
	}
	return c, byKind
}

// typed is the strict decoding target of each kind the chart renders.
func typed(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "batch/v1/Job":
		return &batchv1.Job{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &monitoringv1.ServiceMonitor{}
	}
	return nil
}

// validate checks each manifest against its Kubernetes schema (the
// ServiceMonitor, a CRD the core API has no schema for, by its typed
// struct alone) and decodes it strictly into its typed struct.
func validate(t *testing.T, docs []doc) []doc {
	t.Helper()
	c, byKind := schemas(t)
	compiled := map[string]*jsonschema.Schema{}
	for i, d := range docs {
		apiVersion, _ := d.raw["apiVersion"].(string)
		where := fmt.Sprintf("%s: %s %s", d.source, d.kind(), d.name())
		if errs := validation.IsDNS1123Subdomain(d.name()); len(errs) > 0 {
			t.Errorf("%s: name: %v", where, errs)
		}
		if name, ok := byKind[apiVersion+"/"+d.kind()]; ok {
			sch := compiled[name]
			if sch == nil {
				var err error
				if sch, err = c.Compile("kubernetes.json#/components/schemas/" + name); err != nil {
					t.Fatalf("compiling the schema of %s: %v", name, err)
				}
				compiled[name] = sch
			}
			// Through JSON, so numbers and maps have the types the validator expects.
			b, _ := json.Marshal(d.raw)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("%s does not match the Kubernetes schema:\n%v", where, err)
			}
		} else if apiVersion != "monitoring.coreos.com/v1" {
			t.Errorf("%s: no Kubernetes %s schema for apiVersion %s; add the kind to schemas/gen.go", where, d.kind(), apiVersion)
		}
		obj := typed(apiVersion, d.kind())
		if obj == nil {
			t.Errorf("%s: a kind the test does not know (%s)", where, apiVersion)
			continue
		}
		b, _ := yaml.Marshal(d.raw)
		if err := yaml.UnmarshalStrict(b, obj); err != nil {
			t.Errorf("%s: strict decode: %v", where, err)
		}
		docs[i].obj = obj
	}
	return docs
}

func find[T any](docs []doc) []T {
	var out []T
	for _, d := range docs {
		if o, ok := d.obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// settings are the variables the server reads, from the configuration
// guide's table (kept equal to internal/config by TestDocsConfigTable).
func settings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	if len(out) < 20 {
		t.Fatalf("found %d settings in docs/configuration.md; the table moved?", len(out))
	}
	return out
}
