#!/usr/bin/env bash
# Type-checks the TypeScript SDK (generated code, the clients and their
# tests) in seconds. The whole check — pack, imports in Node, nodenext,
# browser and React-Native-like bundles, tests on a real server — is
# scripts/test-sdk-ts.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh sdk/ts
cd sdk/ts
npx --no-install tsc -p tsconfig.test.json --noEmit
echo "sdk/ts: type check passed"
