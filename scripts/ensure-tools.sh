#!/usr/bin/env bash
# Installs the pinned npm tools (buf, protoc-gen-es) and the TypeScript SDK's
# dependencies when their package-lock.json changed since the last install.
# Go tools (protoc-gen-go, protoc-gen-connect-go) are `tool` lines in go.mod
# and need nothing here. Idempotent.
#
# `npm ci` is not usable: @bufbuild/buf lists optional binaries for every
# platform and the registry this project installs from serves only the Linux
# ones, so the lock file cannot name them and `npm ci` refuses it. `npm install`
# with the committed lock installs exactly the locked versions; the check
# after it fails if it had to change the lock (which would mean a version
# was not pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
install_if_stale() {
  local dir=$1
  local stamp="$dir/node_modules/.cosync-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    cp "$dir/package-lock.json" "$dir/.package-lock.committed"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --omit-lockfile-registry-resolved)
    if ! cmp -s "$dir/package-lock.json" "$dir/.package-lock.committed"; then
      mv "$dir/.package-lock.committed" "$dir/package-lock.json"
      echo "$dir/package-lock.json does not pin what package.json asks for; run npm install there and commit the lock" >&2
      exit 1
    fi
    rm "$dir/.package-lock.committed"
    cp "$dir/package-lock.json" "$stamp"
  fi
}
command -v npm >/dev/null || { echo "node and npm are required (Node 20+)" >&2; exit 1; }
install_if_stale .
install_if_stale sdk/ts
