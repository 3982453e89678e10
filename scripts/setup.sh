#!/usr/bin/env bash
# Set everything up on a fresh machine: a virtualenv with the project and its pinned dependencies.
# Usage: scripts/setup.sh [extra,...]   (extras: st, text2vec, milvus, web, api, bench, fit, test)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
target="."
[ -n "$extras" ] && target=".[${extras}]"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
log=.venv/setup.log
echo "setting up .venv (${extras:-core}); pip log in $log" >&2
if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e "$target"; } >"$log" 2>&1; then
  grep -v "^WARNING: Location" "$log" | tail -20 >&2
  echo "setup failed; see $log" >&2
  exit 1
fi
