#!/usr/bin/env bash
# Installs the npm side of the build exactly as the committed lock files say,
# with `npm ci`, for every folder given (default: the pinned codegen tools at
# the top and the TypeScript SDK). Go tools (protoc-gen-go,
# protoc-gen-connect-go) are `tool` lines in go.mod and need nothing here.
#
# Why `npm ci` and nothing cleverer: it installs what package-lock.json names
# and refuses a lock that does not match package.json, without asking the
# registry what it lists today. The locks name the optional binaries of every
# platform (@bufbuild/buf ships one per platform), so no day's registry
# metadata can make a committed lock wrong; npm fetches only this platform's.
#
# Idempotent and cheap when nothing changed: a folder is reinstalled only
# when its lock differs from the copy npm keeps in node_modules/.package-lock.json
# after a complete install (an interrupted install leaves no such copy, so the
# next run starts over).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "node and npm are required (Node 20+, npm 10+)" >&2; exit 1; }
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(. sdk/ts)
for dir in "${dirs[@]}"; do
  stamp="$dir/node_modules/.cosync-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    continue
  fi
  echo "npm ci in $dir (installs exactly what $dir/package-lock.json names)" >&2
  rm -f "$stamp"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$dir/package-lock.json" "$stamp"
done
