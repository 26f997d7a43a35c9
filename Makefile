# CoSync Auth. On a fresh machine: `make run` (server on SQLite at
# http://localhost:8080) and `make test` (everything CI checks).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/cosync-auth

.PHONY: run portal build test fuzz generate check-generated lint vet bench docker tools clean

tools: ## npm tools (buf, protoc-gen-es) at the versions in package-lock.json
	@scripts/ensure-tools.sh

portal: ## the portal bundle the binary embeds (rebuilt only when its sources changed; skipped without npm)
	@scripts/build-portal.sh --optional

build: portal ## the server binary in bin/, with the portal embedded
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./server

run: build ## the real server on its embedded defaults (SQLite and dev outbox under ./var)
	./$(BIN) serve

generate: tools ## regenerate Go and TypeScript code from proto/
	npx --no-install buf generate

check-generated: generate ## fail when committed generated code is stale
	@if [ -n "$$(git status --porcelain -- sdk/go sdk/ts/src/gen sdk/swift/Sources/Cosync/Generated)" ]; then \
		echo "generated code is out of date; run 'make generate' and commit:"; \
		git status --porcelain -- sdk/go sdk/ts/src/gen sdk/swift/Sources/Cosync/Generated; exit 1; fi

lint: tools vet ## buf lint, gofmt, go vet, then golangci-lint as .golangci.yml says
	npx --no-install buf lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@# golangci-lint is pinned in its own module (scripts/golangci/go.mod) so the
	@# server's go.mod stays clean; the first run builds it once (a few minutes).
	go tool -modfile=scripts/golangci/go.mod golangci-lint run ./...
	@# sdk/go is its own module, which ./... from here does not reach.
	cd sdk/go && go tool -modfile=../../scripts/golangci/go.mod golangci-lint run ./...
	cd deploy/helmtest && go tool -modfile=../../scripts/golangci/go.mod golangci-lint run ./...

vet:
	go vet ./...

test: ## everything CI checks (scripts/test.sh): lint, generated code, every suite; the first run builds Vault once
	@scripts/test.sh

bench: build ## benchmarks: token minting (local, Vault unbatched and batched when Vault is built), hashing, the Login paths, a 100,000-user CosyncJWT import, GetStats over 90 days of a 1,000,000-user app on Postgres, then the load generator against the binary on SQLite and Postgres, with the Vault signer, and with 1,000,000 users and 10,000,000 sessions
	COSYNC_VAULT_BIN="$${COSYNC_VAULT_BIN:-$$(COSYNC_VAULT_CHECK_ONLY=1 scripts/ensure-vault.sh || true)}" \
	COSYNC_TEST_POSTGRES_URL="$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}" \
	go test -run '^$$' -bench . -benchmem ./internal/token/ ./internal/password/ ./internal/keys/ ./internal/identity/
	COSYNC_TEST_POSTGRES_URL="$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}" \
	go test -run '^$$' -bench CosyncJWT -benchtime 1x ./server/
	@# Seeds 1,000,000 users and a year of events with generate_series (a few minutes).
	COSYNC_BENCH_STATS=1 COSYNC_TEST_POSTGRES_URL="$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}" \
	go test -run '^$$' -bench Stats90Days -benchtime 20x -timeout 60m ./server/
	@# The load generator against the real binary, on SQLite then Postgres
	@# (BENCH_DURATION per scenario, BENCH_WORKERS closed loops; see cmd/loadgen).
	go build -o bin/loadgen ./cmd/loadgen
	bin/loadgen -bin $(BIN) -duration $${BENCH_DURATION:-5s} -workers $${BENCH_WORKERS:-8}
	bin/loadgen -bin $(BIN) -duration $${BENCH_DURATION:-5s} -workers $${BENCH_WORKERS:-8} \
		-postgres "$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}"
	@# The same refresh and login through Vault Transit (batched), when Vault is built.
	vault=$${COSYNC_VAULT_BIN:-$$(COSYNC_VAULT_CHECK_ONLY=1 scripts/ensure-vault.sh || true)}; \
	if [ -n "$$vault" ]; then bin/loadgen -bin $(BIN) -vault "$$vault" -title "Postgres, Vault signer" -scenarios refresh,login \
		-duration $${BENCH_DURATION:-5s} -workers $${BENCH_WORKERS:-8} -postgres "$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}"; \
	else echo "Vault is not built: no Vault-signer run (scripts/ensure-vault.sh builds it)"; fi
	@# Login, refresh and GetUser again with 1,000,000 users and 10,000,000 sessions in the
	@# app (seeding takes several minutes): compare with the small database's rates above.
	bin/loadgen -bin $(BIN) -scenarios login,refresh,getuser -duration $${BENCH_DURATION:-5s} -workers $${BENCH_WORKERS:-8} \
		-seed-users $${BENCH_SEED_USERS:-1000000} -seed-sessions $${BENCH_SEED_SESSIONS:-10000000} \
		-postgres "$${COSYNC_TEST_POSTGRES_URL:-$$(scripts/ensure-postgres.sh)}"

fuzz: ## every fuzz target for FUZZTIME seconds each (default 300); make test runs them 3 s each
	scripts/fuzz.sh $${FUZZTIME:-300}

docker: ## the container image (needs a Docker engine)
	docker build -t cosync-auth:$(VERSION) .

clean:
	rm -rf bin
