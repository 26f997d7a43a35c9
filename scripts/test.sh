#!/usr/bin/env bash
# `make test`: every check CI runs, on a fresh machine or a warm one.
#
# Two lanes run side by side so two cores stay busy:
#   lane 1: the Go tests (race detector, SQLite and Postgres, a real Vault),
#           preceded on a fresh machine by the one-time Vault build;
#   lane 2: lint, generated-code freshness and the other suites.
# Each lane logs to its own file; a lane's log is printed when it ends, so
# the output reads in order. The script fails when either lane fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$(mktemp -d "${TMPDIR:-/tmp}/cosync-test.XXXXXX")
start=$(date +%s)
say() { printf '==> [%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

say "checking the command-line tools the docs' tests run (curl, jq, openssl; installed from Debian when missing)"
scripts/ensure-commands.sh
say "installing pinned npm packages (npm ci from the committed locks; skipped when unchanged)"
scripts/ensure-tools.sh
say "finding a Postgres for the tests (Debian's postgresql is installed and started only when none answers)"
COSYNC_TEST_POSTGRES_URL="$(scripts/ensure-postgres.sh)"
export COSYNC_TEST_POSTGRES_URL
say "postgres for tests: $COSYNC_TEST_POSTGRES_URL"

# First, alone: regenerating rewrites sdk/ (buf's clean: true), which the Go
# tests compile, so nothing else may run while it does.
say "checking that generated code is fresh (buf generate, then git status)"
make --no-print-directory check-generated

# Also alone: the portal bundle is embedded by the Go package ./portal, which
# lane 1 compiles, so it is built (when its sources changed) before the lanes.
say "building the portal bundle when its sources changed (npm ci from portal/package-lock.json, Vite)"
scripts/build-portal.sh

vault_cached=yes
COSYNC_VAULT_BIN=$(COSYNC_VAULT_CHECK_ONLY=1 scripts/ensure-vault.sh 2>/dev/null) || vault_cached=no
if [ "$vault_cached" = no ]; then
  say "Vault 1.19.5 is not built on this machine yet: building it now, once (about 20-25 minutes on"
  say "two idle cores; later runs reuse ~/.cache/cosync-auth/vault-1.19.5). The other checks run meanwhile."
fi

lane1() {
  if [ "$vault_cached" = no ]; then
    # Build Vault and, meanwhile, compile every test binary, so the tests
    # start at once after.
    scripts/ensure-vault.sh >"$logs/vault.path" 2>"$logs/vault-build.log" &
    local vault_pid=$!
    go test -race -count=1 -run '^$' ./... >/dev/null
    if ! wait "$vault_pid"; then
      cat "$logs/vault-build.log"
      return 1
    fi
    cat "$logs/vault-build.log"
    COSYNC_VAULT_BIN=$(cat "$logs/vault.path")
  fi
  export COSYNC_VAULT_BIN
  echo "vault for tests: $COSYNC_VAULT_BIN"
  go test -race -count=1 ./...
  # A short bounded run of every fuzz target (the seed corpora already
  # replayed in go test); `make fuzz` runs them long.
  scripts/fuzz.sh 3
}

lane2() {
  make --no-print-directory lint
  scripts/test-sdk-ts.sh
  scripts/test-sdk-go.sh
  # The Helm chart, rendered and checked against the Kubernetes schemas
  # (its own module: Helm's dependencies stay out of the server's).
  (cd deploy/helmtest && go test -count=1 ./... && go vet ./...)
  scripts/test-sdk-swift.sh --no-go # its Go half (internal/swiftgen) runs in lane 1
  scripts/test-portal.sh             # component tests, then the journey in Debian's chromium
}

run_lane() {
  # Not `if lane; then`: bash ignores errexit inside a function called as a
  # condition, so a failed step would not stop (or fail) its lane.
  local name=$1 rc
  set +e
  (set -e; "$name") >"$logs/$name.log" 2>&1
  rc=$?
  set -e
  if [ $rc = 0 ]; then echo ok >"$logs/$name.rc"; else echo "failed (exit $rc)" >"$logs/$name.rc"; fi
}

say "lane 1: Go tests$([ "$vault_cached" = no ] && echo ' (after the Vault build)'); lane 2: lint, generated code, other suites"
run_lane lane1 &
pid1=$!
run_lane lane2 &
pid2=$!
wait $pid2 || true
say "lane 2 ended: $(cat "$logs/lane2.rc")"
cat "$logs/lane2.log"
wait $pid1 || true
say "lane 1 ended: $(cat "$logs/lane1.rc")"
cat "$logs/lane1.log"

status=0
for lane in lane1 lane2; do
  if [ "$(cat "$logs/$lane.rc")" != ok ]; then
    echo "FAILED: $lane ($(cat "$logs/$lane.rc")); its log is above and in $logs/$lane.log" >&2
    status=1
  fi
done
say "make test finished: $([ $status = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start ))s"
[ $status = 0 ] && rm -rf "$logs"
exit $status
