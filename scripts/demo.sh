#!/usr/bin/env bash
# `npm run demo`: install if needed, find (or install) moto, then run the whole loop on moto.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
MOTO_CMD=$(bash scripts/ensure-moto.sh)
export MOTO_CMD
exec npx tsx bin/demo.ts
