#!/usr/bin/env bash
# `npm run demo [-- --json|--keep]`: install if needed, find (or install) moto, then tell the whole story on moto
# (bin/demo.ts). Everything but the demo's own report goes to stderr, so that with --json stdout carries only
# the status document: `npm run -s demo -- --json | jq .` (-s keeps npm's banner off stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund >&2
MOTO_CMD=$(bash scripts/ensure-moto.sh)
export MOTO_CMD
exec npx tsx bin/demo.ts "$@"
