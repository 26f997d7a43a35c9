#!/usr/bin/env bash
# Tests the portal: builds it (scripts/build-portal.sh, which also checks the
# bundle budget), type-checks it, runs the component tests (Vitest + Testing
# Library), the Go handler's tests, and the browser journey in Debian's
# chromium against the real server binary on a temp data dir.
# --no-journey skips the browser (no chromium, or quick runs).
set -euo pipefail
cd "$(dirname "$0")/.."
journey=true
[ "${1:-}" = "--no-journey" ] && journey=false

scripts/build-portal.sh
(cd portal && npx --no-install vitest run)
go test -race -count=1 ./portal/...

$journey || exit 0
chromium=$(scripts/ensure-chromium.sh)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/cosync-auth" ./server
serve=""
# Until the server's mux mounts portal.Handler(), the journey serves the
# portal through portal/e2e/serve (the bundle embedded) in front of it.
if ! grep -qs 'portal.Handler()' server/*.go; then
  go build -o "$bin/portal-serve" ./portal/e2e/serve
  serve="$bin/portal-serve"
fi
(cd portal && CHROMIUM="$chromium" COSYNC_BIN="$bin/cosync-auth" PORTAL_SERVE_BIN="$serve" node e2e/journey.mjs)
