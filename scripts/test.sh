#!/usr/bin/env bash
# Runs every check CI runs: formatting, vet, the darwin cross-compile check,
# and the test suite (unit, real-peer and end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
bad="$(gofmt -l cmd internal scripts e2e packaging 2>/dev/null || true)"
if [ -n "$bad" ]; then
	echo "not gofmt-formatted:"; echo "$bad"; exit 1
fi

step "go mod tidy"
if ! go mod tidy -diff; then
	echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1
fi

step "go vet"
go vet ./...

if [ "$(uname -s)" = Linux ] && [ -x scripts/darwin-check.sh ] && [ "${LIVECAP_SKIP_DARWIN:-}" != 1 ]; then
	step "darwin compile check (zig, stub SDK)"
	scripts/darwin-check.sh
fi

step "go test"
go test -count=1 -timeout 30m ./... 2>&1 | tee /tmp/livecap-test.log
