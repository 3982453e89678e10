#!/usr/bin/env bash
# Set everything up and start the web chat on the bundled corpus (http://127.0.0.1:7860).
# With arguments, answer one question in the terminal instead:  scripts/run.sh "燃气安全由谁牵头?"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  scripts/setup.sh
  exec .venv/bin/rag ask "$@"
fi
scripts/setup.sh web
exec .venv/bin/python app.py
