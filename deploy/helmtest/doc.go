// Package helmtest renders the Helm chart in deploy/helm/cosync-auth with
// the Helm Go module and validates every manifest offline: against the
// Kubernetes OpenAPI schemas vendored in schemas/kubernetes.json (strict:
// unknown fields fail), by a strict decode into the typed k8s.io/api and
// prometheus-operator structs, and by checks that the objects fit together
// (selectors, ports, probes, hooks, the settings the server reads).
//
// It is its own module so that Helm and the Kubernetes modules stay out of
// the server's build: `cd deploy/helmtest && go test ./...`.
package helmtest
