#!/usr/bin/env bash
# Checks the Go SDK, sdk/go: its own module, so the top-level `go vet ./...`
# and `go test ./...` never reach it. gofmt, a tidy go.mod, go vet, then the
# race-enabled tests, which build the server from this checkout (or use
# $COSYNC_SERVER_BIN) and run it on SQLite in a temporary directory.
# Extra arguments go to `go test` (e.g. -run TestVerifier -v).
set -euo pipefail
cd "$(dirname "$0")/../sdk/go"
out=$(gofmt -l .)
if [ -n "$out" ]; then echo "gofmt needed in sdk/go:"; echo "$out"; exit 1; fi
go mod tidy -diff || { echo "sdk/go: go.mod or go.sum is not tidy; run 'go mod tidy' in sdk/go"; exit 1; }
go vet ./...
go test -race -count=1 "$@" ./...
