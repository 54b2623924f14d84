#!/usr/bin/env bash
# `npm test`: type-check, lint, then unit, integration (against moto) and infra tests, then the synth check.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() { printf '\n==== %s ====\n' "$*"; }

# The AWS SDK prints a 9-line NodeVersionSupportWarning once per process on Node < 22, and every jest test
# file, CLI child process and the demo is a process of its own: the same notice a dozen times in the output.
# The supported versions are stated once in README.md; test runs switch the notice off (the SDK's own switch).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# Everything the run writes to the temporary directory (CDK's cdk.out* of every synthesized app, the synth
# check, spawned processes) goes to one scratch directory, removed when the run ends: nothing left in /tmp.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nlb-sync-test-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

stage 'dependencies'
[ -d node_modules ] || npm ci --no-audit --no-fund

stage 'moto'
MOTO_CMD=$(bash scripts/ensure-moto.sh)
export MOTO_CMD

stage 'typecheck (tsc --noEmit)'
npx tsc --noEmit -p tsconfig.json

stage 'lint and format (biome check)'
npx biome check .

stage 'unit tests'
npx jest --ci --selectProjects unit

# Each jest worker runs its own moto and each integration test file its own lifecycle shim, with a reset and a
# fence before every test (test/integration/setup-moto.ts), so files may run two at a time: no faster on
# 2 cores, about twice as fast on more (test/support/README.md has the measurements).
stage "integration tests (moto: ${MOTO_CMD})"
npx jest --ci --selectProjects integration --maxWorkers=2

# The README's other command, as a check: the whole story on moto must converge (its output only on failure).
# Run with --json: the story goes to stderr, and stdout must be exactly the CLI's status document, valid against
# its schema (bin/demo-check-json.ts) and in sync. The demo's log goes under $TMPDIR, i.e. the scratch directory.
stage 'demo (npm run demo)'
if npx tsx bin/demo.ts --json > "$scratch/demo.json" 2> "$scratch/demo.out" &&
  npx tsx bin/demo-check-json.ts < "$scratch/demo.json"; then
  tail -n 1 "$scratch/demo.out"
else
  cat "$scratch/demo.out"
  exit 1
fi

stage 'infra tests'
npx jest --ci --selectProjects infra

if [ -f scripts/synth-check.ts ]; then
  stage 'synth check'
  npx tsx scripts/synth-check.ts
fi

stage 'all checks passed'
