#!/usr/bin/env bash
# Runs every Go fuzz target (func Fuzz… in *_fuzz_test.go) for a bounded time.
#
#   scripts/fuzz.sh                 3 s per target (the short run `make test` does, ~1.5 min)
#   scripts/fuzz.sh 300             5 minutes per target (the long run)
#   scripts/fuzz.sh 60 --save       …and copy what the fuzzer found interesting
#                                   into each package's testdata/fuzz/ (commit it)
#   scripts/fuzz.sh 5 ./internal/token/   only the targets of some packages
#
# A failing input is written by Go to the package's testdata/fuzz/FuzzX/ and
# the script fails; commit that file with the fix, so it stays a regression
# test (plain `go test` runs every committed input). Targets run one after
# another on two workers, so the script never takes more than two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=3
save=no
pkgs=()
for a in "$@"; do
  case "$a" in
    --save) save=yes ;;
    ''|*[!0-9]*) pkgs+=("$a") ;;
    *) seconds=$a ;;
  esac
done
if [ ${#pkgs[@]} -eq 0 ]; then
  mapfile -t pkgs < <(git ls-files '*_fuzz_test.go' | xargs -n1 dirname | sort -u | sed 's|^|./|')
fi
export COSYNC_TEST_POSTGRES_URL="${COSYNC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

cache=$(go env GOCACHE)/fuzz
start=$(date +%s)
n=0
for pkg in "${pkgs[@]}"; do
  mapfile -t targets < <(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  import_path=$(go list "$pkg")
  for t in "${targets[@]}"; do
    printf '==> %s %s (%ss)\n' "$pkg" "$t" "$seconds"
    # Go's fuzzing engine can report "context deadline exceeded" when the
    # time runs out while its workers are still starting on a busy machine
    # (no input failed, and none is written). That one outcome
    # is run again, once; any other failure, and a second one, fail.
    for attempt in 1 2; do
      passed=yes
      out=$(go test -run '^$' -fuzz "^${t}\$" -fuzztime "${seconds}s" -parallel 2 "$pkg" 2>&1) || passed=no
      grep -v '^fuzz: elapsed' <<<"$out" || true
      if [ "$passed" = yes ]; then
        break
      fi
      if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
        echo "fuzz: $t stopped before its workers ran (the engine's deadline, no failing input); running it again" >&2
        continue
      fi
      echo "fuzz: $t in $pkg failed; the input is under $pkg/testdata/fuzz/$t/" >&2
      exit 1
    done
    n=$((n + 1))
    if [ "$save" = yes ] && [ -d "$cache/$import_path/$t" ]; then
      mkdir -p "$pkg/testdata/fuzz/$t"
      # The 20 smallest entries: small inputs are the readable, fast ones.
      find "$cache/$import_path/$t" -type f -printf '%s %p\n' | sort -n | sed -n '1,20s/^[0-9]* //p' |
        while read -r f; do cp "$f" "$pkg/testdata/fuzz/$t/"; done
    fi
  done
done
echo "fuzz: $n targets, ${seconds}s each, passed in $(( $(date +%s) - start ))s"
