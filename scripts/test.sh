#!/usr/bin/env bash
# THE test command (`npm test`): every gate, cheapest and most decisive first.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

step typecheck
npx tsc -p tsconfig.json

step lint
npx eslint --max-warnings 0 .

# TypeDoc over every export of the package: fails on an undocumented export, a broken
# {@link}, or a public type that is referenced but not exported (typedoc.json).
step api docs
npx typedoc --emit none --logLevel Warn

step format
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

step supply chain
npm run -s check:supply-chain

step unit tests
npx vitest run --project unit

# Built before the integration project: e2e tests import the package by name
# (through the exports map into dist/) and run the built CLI.
step build
npm run -s build

step services
eval "$(bash scripts/services.sh)"
export REDIS_URL DATABASE_URL
export REQUIRE_SERVICES=1

step benchmarks still run
node --import tsx --import ./bench/use-dist.mjs bench/run.ts --quick

step integration and e2e tests
npx vitest run --project integration

step 'soak (60 s)'
npm run -s soak -- --seconds 60

step package checks
npx publint --strict
npx attw --pack . --profile esm-only

printf '\nall gates passed in %ss\n' "$(( $(date +%s) - start ))"
