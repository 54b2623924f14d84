#!/usr/bin/env bash
# Finds a working moto server command and prints it on stdout, installing moto[server] with pip if needed.
# Usage: MOTO_CMD=$(bash scripts/ensure-moto.sh)
# Diagnostics go to stderr so the command substitution captures only the command.
set -euo pipefail

log() { printf '[ensure-moto] %s\n' "$*" >&2; }

# Prints the first command that starts moto's server far enough to show its help (which imports flask/werkzeug).
find_moto() {
  if [ -n "${MOTO_CMD:-}" ] && ${MOTO_CMD} --help >/dev/null 2>&1; then
    printf '%s\n' "${MOTO_CMD}"
    return 0
  fi
  if command -v moto_server >/dev/null 2>&1 && moto_server --help >/dev/null 2>&1; then
    printf 'moto_server\n'
    return 0
  fi
  if command -v python3 >/dev/null 2>&1 && python3 -m moto.server --help >/dev/null 2>&1; then
    printf 'python3 -m moto.server\n'
    return 0
  fi
  return 1
}

if cmd=$(find_moto); then
  log "using: ${cmd}"
  printf '%s\n' "${cmd}"
  exit 0
fi

log 'no working moto server found; trying to install "moto[server]" with pip'
if command -v python3 >/dev/null 2>&1; then
  python3 -m pip install --user --quiet "moto[server]" >&2 ||
    python3 -m pip install --quiet "moto[server]" >&2 ||
    log 'pip install through python3 failed'
fi
if command -v pip >/dev/null 2>&1; then
  find_moto >/dev/null || pip install --quiet "moto[server]" >&2 || log 'pip install failed'
fi

if cmd=$(find_moto); then
  log "installed; using: ${cmd}"
  printf '%s\n' "${cmd}"
  exit 0
fi

cat >&2 <<'MSG'
[ensure-moto] ERROR: cannot find or install a moto server.
  The integration tests need moto's standalone server (tested with moto 5.2.1). Install it with
      python3 -m pip install --user "moto[server]"
  so that `moto_server --help` or `python3 -m moto.server --help` works, or point MOTO_CMD at a command
  that starts it (it is called with `-H 127.0.0.1 -p <port>`).
MSG
exit 1
