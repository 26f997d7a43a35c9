#!/usr/bin/env bash
# Type-checks the TypeScript SDK (generated code and the convenience layer).
set -euo pipefail
cd "$(dirname "$0")/../sdk/ts"
npx --no-install tsc -p . --noEmit
echo "sdk/ts: type check passed"
