#!/usr/bin/env bash
# Checks the Swift SDK (sdk/swift) on machines without a Swift toolchain:
#   1. the generator's Go tests (internal/swiftgen): golden files, the
#      committed Swift equal to what the generator prints, and the wire
#      fixtures (every message filled field by field, and the main flows
#      recorded from the real server, built and run here) held against the
#      Swift model; they fail when the committed fixtures differ;
#   2. every generated and hand-written .swift file, the golden files and the
#      Swift snippets of docs/sdks.md parse with tree-sitter's Swift grammar
#      with no ERROR or MISSING node;
#   3. `swift test` (replaying the fixtures) where a Swift toolchain exists.
# --no-go skips step 1 (for callers that already ran `go test ./...`).
# After a contract or server change, rewrite the golden files and fixtures
# with `go test ./internal/swiftgen/ -update` and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
run_go=1
[ "${1:-}" = "--no-go" ] && run_go=0
scripts/ensure-tools.sh .
if [ "$run_go" = 1 ]; then
  go test -count=1 ./internal/swiftgen/...
fi
node sdk/swift/scripts/check-syntax.mjs sdk/swift internal/swiftgen/testdata/golden docs/sdks.md
if command -v swift >/dev/null 2>&1; then
  (cd sdk/swift && swift test)
else
  echo "swift: no toolchain here; the Swift tests (sdk/swift/Tests) run where one exists"
fi
