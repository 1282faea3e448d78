#!/usr/bin/env bash
# Build the benchmark's own environment from scratch: bench/.venv with python3.11,
# the peers (MLflow, W&B, trackio) from PyPI, and hunchlab itself in editable mode.
# The peers live only here, never in hunchlab's dependencies. torch is not installed.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3.11}"
rm -rf .venv
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# playwright: the Python driver only, for bench_ui.py; the browser is Debian's chromium.
# matplotlib: the scaling plot (bench_scaling.py). trackio: Hugging Face's local-first SQLite tracker.
.venv/bin/python -m pip install -q mlflow wandb trackio playwright matplotlib
if [ -f ../pyproject.toml ]; then
  .venv/bin/python -m pip install -q -e '..[ray]'  # ray: bench_ray.py's nodes
else
  echo "setup.sh: ../pyproject.toml not found: hunchlab not installed (its cases will be skipped)" >&2
fi
.venv/bin/python - <<'PY'
import importlib.metadata as m
for p in ("hunchlab", "ray", "mlflow", "wandb", "trackio", "playwright", "matplotlib"):
    try:
        print(f"{p} {m.version(p)}")
    except m.PackageNotFoundError:
        print(f"{p} NOT INSTALLED")
PY
