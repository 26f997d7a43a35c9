#!/usr/bin/env bash
# Installs the pinned npm tools (buf, protoc-gen-es, the TypeScript SDK's
# dependencies) when package-lock.json changed since the last install.
# Go tools (protoc-gen-go, protoc-gen-connect-go) are `tool` lines in go.mod
# and need nothing here. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
install_if_stale() {
  local dir=$1
  local stamp="$dir/node_modules/.cosync-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
command -v node >/dev/null || { echo "node is required (Node 20+)"; exit 1; }
install_if_stale .
if [ -f sdk/ts/package-lock.json ]; then install_if_stale sdk/ts; fi
