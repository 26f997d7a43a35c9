#!/usr/bin/env bash
# Builds the portal (portal/) into portal/dist/app, which the server binary
# embeds, and checks its bundle budget. Does nothing when no source changed
# since the last build (a hash of the sources, the lock and the generated API
# code is kept in portal/.build-stamp); --force builds anyway.
# Needs Node 20+ and npm; installs exactly the committed lock with npm ci.
# --optional: on a machine without npm, say so and succeed, so a build target
# can call it and still produce a binary (serving the placeholder page).
set -euo pipefail
cd "$(dirname "$0")/.."
force=false
optional=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    --optional) optional=true ;;
    *) echo "usage: scripts/build-portal.sh [--force] [--optional]" >&2; exit 2 ;;
  esac
done
if $optional && ! command -v npm >/dev/null; then
  echo "portal: npm not found, not building the portal; the binary will serve a page saying how to build it" >&2
  exit 0
fi

sources() {
  find portal/src portal/public portal/index.html portal/package.json portal/package-lock.json \
    portal/vite.config.ts portal/tsconfig.json portal/scripts sdk/ts/src/gen -type f -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

scripts/ensure-tools.sh portal
stamp=portal/.build-stamp
want=$(sources)
if ! $force && [ -f portal/dist/app/index.html ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "portal: up to date (scripts/build-portal.sh --force rebuilds)" >&2
  exit 0
fi
rm -f "$stamp"
(cd portal && npm run --silent build && node scripts/budget.mjs)
echo "$want" >"$stamp"
echo "portal: built into portal/dist/app; go build ./server embeds it once the server mounts portal.Handler()" >&2
