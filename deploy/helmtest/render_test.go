package helmtest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// merge returns base with over laid on it, maps merged key by key.
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = merge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// TestChart renders the chart in the set-ups docs/production.md describes,
// validates every manifest against the Kubernetes schemas, and checks that
// the objects fit together.
func TestChart(t *testing.T) {
	known := settings(t)
	tests := []struct {
		name   string
		values map[string]any
		want   []string // kinds, sorted, as "Kind name"
	}{
		{
			name:   "production defaults: Vault AppRole, Postgres, HPA, PDB, metrics service, migration",
			values: production(),
			want: []string{"ConfigMap auth-cosync-auth", "Deployment auth-cosync-auth", "HorizontalPodAutoscaler auth-cosync-auth",
				"Job auth-cosync-auth-migrate", "PodDisruptionBudget auth-cosync-auth", "Secret auth-cosync-auth",
				"Secret auth-cosync-auth-migrate", "Service auth-cosync-auth", "Service auth-cosync-auth-metrics",
				"ServiceAccount auth-cosync-auth"},
		},
		{
			name: "existing secret, local signer, fixed replicas, ServiceMonitor, tracing",
			values: map[string]any{
				"config":      map[string]any{"publicURL": "https://auth.example.com", "signer": "local", "otlpEndpoint": "http://otel:4318", "extra": map[string]any{"COSYNC_HASH_CONCURRENCY": 2}},
				"secrets":     map[string]any{"existingSecret": "cosync-auth-env"},
				"autoscaling": map[string]any{"enabled": false},
				"metrics":     map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus"}}},
			},
			want: []string{"ConfigMap auth-cosync-auth", "Deployment auth-cosync-auth", "Job auth-cosync-auth-migrate",
				"PodDisruptionBudget auth-cosync-auth", "Service auth-cosync-auth", "Service auth-cosync-auth-metrics",
				"ServiceAccount auth-cosync-auth", "ServiceMonitor auth-cosync-auth"},
		},
		{
			name: "CloudNativePG: the database URL from the cluster's app Secret",
			values: merge(production(), map[string]any{
				"secrets":  map[string]any{"databaseURL": ""},
				"database": map[string]any{"urlFromSecret": map[string]any{"name": "cosync-db-app", "key": "uri"}},
			}),
			want: []string{"ConfigMap auth-cosync-auth", "Deployment auth-cosync-auth", "HorizontalPodAutoscaler auth-cosync-auth",
				"Job auth-cosync-auth-migrate", "PodDisruptionBudget auth-cosync-auth", "Secret auth-cosync-auth",
				"Secret auth-cosync-auth-migrate", "Service auth-cosync-auth", "Service auth-cosync-auth-metrics",
				"ServiceAccount auth-cosync-auth"},
		},
		{
			name: "minimal: no metrics, migration, PDB or HPA; a token instead",
			values: merge(production(), map[string]any{
				"metrics": map[string]any{"enabled": false}, "migration": map[string]any{"enabled": false},
				"podDisruptionBudget": map[string]any{"enabled": false}, "autoscaling": map[string]any{"enabled": false},
				"serviceAccount": map[string]any{"create": false},
				"secrets":        map[string]any{"metricsToken": "0123456789abcdef0123"},
			}),
			want: []string{"ConfigMap auth-cosync-auth", "Deployment auth-cosync-auth", "Secret auth-cosync-auth", "Service auth-cosync-auth"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := render(t, tt.values)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d.kind()+" "+d.name())
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("rendered %q\nwant %q", got, tt.want)
			}
			docs = validate(t, docs)
			coherent(t, docs, tt.values, known)

			msgs := lint.RunAll(chartDir, tt.values, "cosync").Messages
			for _, m := range msgs {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

// coherent checks what the schemas cannot: that the objects refer to one
// another correctly and the pods get what the server needs.
func coherent(t *testing.T, docs []doc, values map[string]any, known map[string]bool) {
	t.Helper()
	deps := find[*appsv1.Deployment](docs)
	if len(deps) != 1 {
		t.Fatalf("%d Deployments, want 1", len(deps))
	}
	dep := deps[0]
	pod := labels.Set(dep.Spec.Template.Labels)
	sel := labels.SelectorFromSet(dep.Spec.Selector.MatchLabels)
	if !sel.Matches(pod) {
		t.Errorf("Deployment selector %v does not match its pods' labels %v", dep.Spec.Selector.MatchLabels, pod)
	}
	if dep.Spec.Template.Spec.SecurityContext == nil || dep.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil || !*dep.Spec.Template.Spec.SecurityContext.RunAsNonRoot {
		t.Errorf("the pods may run as root")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[name]
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want || ports[probe.HTTPGet.Port.String()] != 8080 {
			t.Errorf("%s probe = %+v, want GET %s on the http port (8080)", name, probe, want)
		}
	}

	// The pods' settings: every variable is one the server reads; the
	// Secret and ConfigMap they name are rendered (or the operator's).
	cms := map[string]*corev1.ConfigMap{}
	for _, cm := range find[*corev1.ConfigMap](docs) {
		cms[cm.Name] = cm
	}
	secrets := map[string]*corev1.Secret{}
	for _, s := range find[*corev1.Secret](docs) {
		secrets[s.Name] = s
	}
	existing, _ := values["secrets"].(map[string]any)["existingSecret"].(string)
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm := cms[ef.ConfigMapRef.Name]
			if cm == nil {
				t.Fatalf("the pods read ConfigMap %q, which is not rendered", ef.ConfigMapRef.Name)
			}
			maps.Copy(env, cm.Data)
		case ef.SecretRef != nil:
			s := secrets[ef.SecretRef.Name]
			if s == nil && ef.SecretRef.Name != existing {
				t.Fatalf("the pods read Secret %q, neither rendered nor the existing one %q", ef.SecretRef.Name, existing)
			}
			if s != nil {
				if _, hook := s.Annotations["helm.sh/hook"]; hook {
					t.Errorf("the pods read the hook Secret %s, which is deleted after the migration", s.Name)
				}
				for k, v := range s.Data {
					env[k] = string(v)
				}
			}
		}
	}
	for k := range env {
		if !known[k] {
			t.Errorf("the pods get %s, a variable the server does not read", k)
		}
	}
	if env["COSYNC_ADDR"] != "0.0.0.0:8080" || env["COSYNC_PUBLIC_URL"] != "https://auth.example.com" {
		t.Errorf("COSYNC_ADDR %q, COSYNC_PUBLIC_URL %q; want 0.0.0.0:8080 and the configured URL", env["COSYNC_ADDR"], env["COSYNC_PUBLIC_URL"])
	}
	// Settings by reference: env wins over envFrom, and the Job gets the same.
	refs := map[string]corev1.SecretKeySelector{}
	for _, e := range c.Env {
		if !known[e.Name] {
			t.Errorf("the pods get %s, a variable the server does not read", e.Name)
		}
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("the pods' %s is not a Secret key reference", e.Name)
			continue
		}
		refs[e.Name] = *e.ValueFrom.SecretKeyRef
	}
	if db, _ := values["database"].(map[string]any); db != nil {
		from := db["urlFromSecret"].(map[string]any)
		if r := refs["COSYNC_DATABASE_URL"]; r.Name != from["name"] || r.Key != from["key"] {
			t.Errorf("COSYNC_DATABASE_URL comes from %s/%s, want Secret %s key %s", r.Name, r.Key, from["name"], from["key"])
		}
	} else if existing == "" && !strings.HasPrefix(env["COSYNC_DATABASE_URL"], "postgres://") {
		t.Errorf("COSYNC_DATABASE_URL = %q, want the Postgres URL", env["COSYNC_DATABASE_URL"])
	}

	// Services select the pods and name ports the container has; the
	// metrics port is on its own ClusterIP Service only.
	svcs := find[*corev1.Service](docs)
	var metricsSvc *corev1.Service
	for _, s := range svcs {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(pod) {
			t.Errorf("Service %s selects %v, not the pods", s.Name, s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s targets port %q, which the container does not name", s.Name, p.TargetPort.String())
			}
			if p.TargetPort.String() == "metrics" {
				metricsSvc = s
				if s.Spec.Type != corev1.ServiceTypeClusterIP || len(s.Spec.Ports) != 1 {
					t.Errorf("metrics are on Service %s (%s, %d ports), want a ClusterIP Service of their own", s.Name, s.Spec.Type, len(s.Spec.Ports))
				}
			}
		}
	}
	if _, on := ports["metrics"]; on != (env["COSYNC_METRICS_ADDR"] == "0.0.0.0:9090") || on != (metricsSvc != nil) {
		t.Errorf("metrics port %v, COSYNC_METRICS_ADDR %q, metrics Service %v: want all three or none", on, env["COSYNC_METRICS_ADDR"], metricsSvc != nil)
	}
	for _, sm := range find[*monitoringv1.ServiceMonitor](docs) {
		if metricsSvc == nil || !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(metricsSvc.Labels)) {
			t.Errorf("ServiceMonitor %s selects %v, not the metrics Service", sm.Name, sm.Spec.Selector.MatchLabels)
		}
		for _, sel := range svcs {
			if sel != metricsSvc && labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(sel.Labels)) {
				t.Errorf("ServiceMonitor %s also selects Service %s", sm.Name, sel.Name)
			}
		}
		if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints = %+v, want port metrics, path /metrics", sm.Spec.Endpoints)
		}
	}

	for _, pdb := range find[*policyv1.PodDisruptionBudget](docs) {
		s := labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels)
		if !s.Matches(pod) {
			t.Errorf("PodDisruptionBudget selects %v, not the pods", pdb.Spec.Selector.MatchLabels)
		}
	}
	hpas := find[*autoscalingv2.HorizontalPodAutoscaler](docs)
	for _, h := range hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != dep.Name {
			t.Errorf("HPA scales %s %s, want Deployment %s", h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, dep.Name)
		}
	}
	if (len(hpas) > 0) == (dep.Spec.Replicas != nil) {
		t.Errorf("HPA %d, Deployment replicas %v: with an HPA the Deployment must leave replicas to it, without one set them", len(hpas), dep.Spec.Replicas)
	}

	// The migration Job runs before install and upgrade, with the same
	// image and settings, and a Secret that exists by then.
	for _, job := range find[*batchv1.Job](docs) {
		if job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
			t.Errorf("Job %s hook = %q, want pre-install,pre-upgrade", job.Name, job.Annotations["helm.sh/hook"])
		}
		jc := job.Spec.Template.Spec.Containers[0]
		if !slices.Equal(jc.Args, []string{"migrate"}) || jc.Image != c.Image {
			t.Errorf("Job runs %s %q, want the Deployment's image %s with migrate", jc.Image, jc.Args, c.Image)
		}
		if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("Job restart policy %q, want Never (the Job retries)", job.Spec.Template.Spec.RestartPolicy)
		}
		jobEnv := map[string]string{}
		for _, e := range jc.Env {
			if !known[e.Name] {
				t.Errorf("the Job gets %s, a variable the server does not read", e.Name)
			}
			if e.ValueFrom != nil {
				if e.ValueFrom.SecretKeyRef == nil || *e.ValueFrom.SecretKeyRef != refs[e.Name] {
					t.Errorf("the Job's %s comes from %+v, the pods' from %+v", e.Name, e.ValueFrom, refs[e.Name])
				}
				delete(refs, e.Name)
				continue
			}
			jobEnv[e.Name] = e.Value
		}
		for name := range refs {
			t.Errorf("the Job lacks %s, which the pods read from a Secret", name)
		}
		for k, v := range cms[dep.Name].Data {
			if k != "COSYNC_METRICS_ADDR" && jobEnv[k] != v {
				t.Errorf("the Job's %s = %q, the pods' %q", k, jobEnv[k], v)
			}
		}
		ref := jc.EnvFrom[0].SecretRef.Name
		if existing != "" {
			if ref != existing {
				t.Errorf("the Job reads Secret %q, want the existing %q", ref, existing)
			}
			continue
		}
		s := secrets[ref]
		if s == nil || s.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" || s.Annotations["helm.sh/hook-weight"] >= job.Annotations["helm.sh/hook-weight"] {
			t.Errorf("the Job reads Secret %q, want a hook Secret created before it (a lower hook weight)", ref)
		} else if !maps.EqualFunc(s.Data, secrets[dep.Name].Data, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Errorf("the Job's Secret differs from the pods'")
		}
	}
}

// TestChartRefuses: settings that cannot work with replicas stop the
// render with a message naming the value to set.
func TestChartRefuses(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"no public URL", merge(production(), map[string]any{"config": map[string]any{"publicURL": ""}}), "config.publicURL"},
		{"no database", merge(production(), map[string]any{"secrets": map[string]any{"databaseURL": ""}}), "secrets.databaseURL"},
		{"SQLite", merge(production(), map[string]any{"secrets": map[string]any{"databaseURL": "sqlite:///var/lib/cosync/cosync.db"}}), "postgres"},
		{"local signer without a master key", merge(production(), map[string]any{"config": map[string]any{"signer": "local"}}), "secrets.masterKey"},
		{"Vault without an address", merge(production(), map[string]any{"config": map[string]any{"vaultAddr": ""}}), "config.vaultAddr"},
		{"a misspelt value", merge(production(), map[string]any{"replicaCont": 5}), "replicaCont"},
		{"a setting the server does not read", merge(production(), map[string]any{"config": map[string]any{"extra": map[string]any{"PORT": "80"}}}), "PORT"},
		{"an unknown signer", merge(production(), map[string]any{"config": map[string]any{"signer": "hsm"}}), "signer"},
		{"Vault without credentials", merge(production(), map[string]any{"secrets": map[string]any{"vaultRoleID": "", "vaultSecretID": ""}}), "secrets.vaultRoleID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, tt.values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
