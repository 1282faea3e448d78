"""Shared helpers for the hunchlab benchmarks: paths, machine facts, result files.

Every case script imports this module only (no tool is imported here), so the
orchestrating processes stay light; the tools are imported by ``worker.py``,
which each case runs as a fresh subprocess.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
VENV_BIN = VENV / "bin"
PY = str(VENV_BIN / "python")
# HUNCH_BENCH_RESULTS: bench_scaling.py runs other cases per size and collects their files there.
RESULTS = Path(os.environ.get("HUNCH_BENCH_RESULTS", BENCH / "results"))
# Scratch stores live outside any git work tree (hunchlab and W&B both capture the git
# state around the working directory of a run, and the bench folder sits inside the
# hunchlab repo). /tmp is ext4 on the reference machine; the filesystem type is recorded
# in every result because fsync on tmpfs costs nothing. Override with HUNCH_BENCH_SCRATCH.
SCRATCH = Path(os.environ.get("HUNCH_BENCH_SCRATCH", Path(tempfile.gettempdir()) / "hunchlab-bench"))

TOOLS = ("hunchlab", "mlflow", "wandb", "trackio")
# A variant is a tool plus its project settings. "hunchlab-machine" is hunchlab with
# `durability: machine` in .hunch/settings.yaml (fsync after every event write).
VARIANTS = {
    "hunchlab": "hunchlab",
    "hunchlab-machine": "hunchlab",
    "mlflow": "mlflow",
    "wandb": "wandb",
    "trackio": "trackio",
    # A script's unchanged wandb calls through hunchlab's stand-in (hunchlab.compat.wandb).
    "wandb-compat": "wandb-compat",
}
HUNCH_TOOLS = ("hunchlab", "wandb-compat")  # variants that need hunchlab and a hunchlab project
METRICS = [f"m{k}" for k in range(10)]


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every tool process gets: offline W&B, no telemetry, quiet."""
    env = dict(os.environ)
    env.update(
        {
            "WANDB_MODE": "offline",
            "WANDB_SILENT": "true",
            "WANDB_DISABLE_CODE": "true",
            "MLFLOW_ENABLE_TELEMETRY": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
            "TRACKIO_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.pop("HUNCH_DIR", None)
    if extra:
        env.update(extra)
    return env


def scratch_dir(prefix: str) -> Path:
    SCRATCH.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=SCRATCH))


def rm(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def hunch_available() -> bool:
    """True when hunchlab is installed in the bench venv and `hunch --help` works."""
    exe = VENV_BIN / "hunch"
    if not exe.exists():
        return False
    try:
        cp = subprocess.run([str(exe), "--help"], capture_output=True, timeout=60, env=tool_env())
    except Exception:
        return False
    return cp.returncode == 0


HUNCH_MISSING = "hunchlab not installed / `hunch --help` fails in bench/.venv"


def runnable(variants: str, tool_of: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The comma-separated ``variants`` that can run here, and why each of the others is skipped."""
    ok, skipped = [], {}
    have_hunch = None
    for variant in variants.split(","):
        if tool_of[variant] in HUNCH_TOOLS:
            have_hunch = hunch_available() if have_hunch is None else have_hunch
            if not have_hunch:
                skipped[variant] = HUNCH_MISSING
                continue
        ok.append(variant)
    return ok, skipped


def init_store(variant: str, store: Path) -> None:
    """Prepare an empty store so that set-up cost (schema creation) is not timed."""
    store.mkdir(parents=True, exist_ok=True)
    tool = VARIANTS[variant]
    if tool in HUNCH_TOOLS:
        subprocess.run([str(VENV_BIN / "hunch"), "init"], cwd=store, env=tool_env(), check=True,
                       capture_output=True, timeout=120)
        if variant == "hunchlab-machine":
            settings = store / ".hunch" / "settings.yaml"
            settings.write_text(settings.read_text() + "durability: machine\n")
    elif tool == "mlflow":
        # Creating the sqlite schema runs ~all alembic migrations: do it once, untimed.
        subprocess.run([PY, str(BENCH / "worker.py"), "init", "mlflow", "--store", str(store)],
                       cwd=store, env=tool_env(), check=True, capture_output=True, timeout=300)
    # wandb offline needs nothing: wandb.init creates <store>/wandb/.


def run_worker(args: list[str], cwd: Path, timeout: float, env: dict | None = None) -> dict:
    """Run ``worker.py ARGS`` and parse the JSON it prints on its last stdout line."""
    cp = subprocess.run([PY, str(BENCH / "worker.py"), *args], cwd=cwd, env=env or tool_env(),
                        capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("{")]
    if cp.returncode != 0 or not lines:
        raise RuntimeError(f"worker {args} failed rc={cp.returncode}\nstdout:{cp.stdout[-2000:]}\n"
                           f"stderr:{cp.stderr[-4000:]}")
    return json.loads(lines[-1])


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    SCRATCH.mkdir(parents=True, exist_ok=True)
    fs = subprocess.run(["df", "-T", str(SCRATCH)], capture_output=True, text=True).stdout.splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": mem_gib,
        "kernel": platform.release(),
        "python": subprocess.run([PY, "-V"], capture_output=True, text=True).stdout.strip(),
        "scratch_filesystem": fs[-1].split()[1] if len(fs) > 1 else "unknown",
    }


def commit() -> str:
    cp = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    head = cp.stdout.strip() if cp.returncode == 0 else "uncommitted"
    if head != "uncommitted":
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            head += " (+uncommitted changes in src/)"
    return head


def versions() -> dict:
    code = ("import importlib.metadata as m, json\n"
            "out = {}\n"
            "for p in ('hunchlab', 'mlflow', 'wandb', 'trackio'):\n"
            "    try: out[p] = m.version(p)\n"
            "    except Exception: out[p] = None\n"
            "print(json.dumps(out))")
    cp = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    return json.loads(cp.stdout) if cp.returncode == 0 else {}


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "case": name,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
        "commit": commit(),
        "machine": machine(),
        "versions": versions(),
        # other load on the machine inflates wall times: kept with every result
        "loadavg_1_5_15_at_write": [round(x, 2) for x in os.getloadavg()],
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return path


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
