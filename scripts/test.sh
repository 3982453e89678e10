#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh
scripts/setup.sh test,st,text2vec,milvus,web,api,bench
.venv/bin/python -m pytest -q "$@"
