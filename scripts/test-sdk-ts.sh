#!/usr/bin/env bash
# Everything the TypeScript SDK promises, checked the way an app developer
# meets it: install exactly what sdk/ts/package-lock.json names, build dist,
# type-check the sources and tests, pack the tarball and install it into a
# project outside the repository, then import it there from plain Node ESM,
# type-check it under `module: nodenext`. Last, the tests against a real
# server built from this checkout: the clients, the docs/sdks.md snippet, and
# the installed tarball bundled for the browser and for a React-Native-like
# runtime (no Node built-in may resolve) and run there with fetch only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/ensure-tools.sh sdk/ts

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sdk="$root/sdk/ts"
tsc=("node" "$sdk/node_modules/typescript/bin/tsc")

echo "sdk/ts: build and type check" >&2
(cd "$sdk" && npm run --silent build && "${tsc[@]}" -p tsconfig.test.json --noEmit)

echo "sdk/ts: npm pack, installed into a project outside the repository" >&2
tarball="$(cd "$sdk" && npm pack --silent --pack-destination "$tmp" | tail -n1)"
app="$tmp/app"
cp -r "$sdk/test/consumer" "$app"
# The consumer installs the tarball and @types/node; every dependency is an
# exact version already in npm's cache from the `npm ci` above, and the
# project is thrown away, so its own lock does not matter.
(cd "$app" && npm init -y >/dev/null &&
  npm pkg set type=module &&
  npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tmp/$tarball" @types/node@20.19.25 >&2)
for f in dist/index.js dist/index.d.ts dist/admin.js dist/server.js; do
  [ -f "$app/node_modules/@cosync/auth/$f" ] || { echo "the tarball lacks $f" >&2; exit 1; }
done

echo "sdk/ts: plain Node ESM" >&2
(cd "$app" && node node.mjs)

echo "sdk/ts: a module: nodenext TypeScript project" >&2
(cd "$app" && "${tsc[@]}" -p tsconfig.json)
echo "sdk/ts: nodenext type check passed"

# The tests bundle the installed tarball for the browser and React Native
# (test/bundle.test.ts) and run those bundles against the real server.
echo "sdk/ts: tests against a real server" >&2
go build -o "$tmp/cosync-auth" ./server
(cd "$sdk" && COSYNC_AUTH_BIN="$tmp/cosync-auth" COSYNC_SDK_CONSUMER="$app" npm test --silent)
echo "sdk/ts: all checks passed"
