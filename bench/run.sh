#!/usr/bin/env bash
# Run every case and write bench/results/*.json (then print the side-by-side table).
# Extra arguments go to run_all.py, e.g.:  bench/run.sh --only throughput,kill9
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || { echo "run bench/setup.sh first" >&2; exit 1; }
exec .venv/bin/python run_all.py "$@"
