"""(d) Cold start: CLI --help and bare import, for each tool, in a fresh interpreter.

Each command runs --warmup times untimed (so the disk cache is warm and .pyc files
exist), then --reps times timed. Reported: the median wall time, and the median CPU
time (user + sys of the child, from getrusage), which is less disturbed by other load
on the machine. `python -c pass` is the interpreter's own floor.

    python bench/bench_coldstart.py [--reps 7] [--warmup 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time

from common import PY, VENV_BIN, hunch_available, rm, scratch_dir, tool_env, write_result

COMMANDS = {
    "python -c pass": [PY, "-c", "pass"],
    "hunch --help": [str(VENV_BIN / "hunch"), "--help"],
    "import hunchlab": [PY, "-c", "import hunchlab"],
    "mlflow --help": [str(VENV_BIN / "mlflow"), "--help"],
    "import mlflow": [PY, "-c", "import mlflow"],
    "wandb --help": [str(VENV_BIN / "wandb"), "--help"],
    "import wandb": [PY, "-c", "import wandb"],
}


def measure(argv: list[str], cwd: str, reps: int, warmup: int) -> dict:
    for _ in range(warmup):
        cp = subprocess.run(argv, cwd=cwd, env=tool_env(), capture_output=True, timeout=120)
        if cp.returncode != 0:
            return {"error": f"rc={cp.returncode}: {cp.stderr.decode(errors='replace')[-1500:]}"}
    wall, cpu = [], []
    for _ in range(reps):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=tool_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120, check=True)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return {"median_ms": round(statistics.median(wall) * 1000, 1), "min_ms": round(min(wall) * 1000, 1),
            "cpu_median_ms": round(statistics.median(cpu) * 1000, 1),
            "all_ms": [round(w * 1000, 1) for w in wall]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    cwd = scratch_dir("coldstart")  # outside any project or git tree
    results, skipped = {}, {}
    try:
        have_hunch = hunch_available()
        for name, argv in COMMANDS.items():
            if "hunch" in name and not have_hunch:
                skipped[name] = "hunchlab not installed / `hunch --help` fails in bench/.venv"
                continue
            results[name] = measure(argv, str(cwd), a.reps, a.warmup)
            print(name, results[name], flush=True)
    finally:
        rm(cwd)
    write_result("coldstart", {
        "what": "fresh process per command; median wall and CPU time of --reps after --warmup",
        "reps": a.reps,
        "loadavg_at_end": os.getloadavg(),
        "results": results,
        "skipped": skipped,
    })


if __name__ == "__main__":
    main()
