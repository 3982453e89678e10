#!/usr/bin/env bash
# Set everything up on a fresh machine: a virtualenv with the project and its pinned dependencies.
# Usage: scripts/setup.sh [extra,...]   (extras: test, st, web, api)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install -q -e ".[${extras}]"
else
  .venv/bin/python -m pip install -q -e .
fi
