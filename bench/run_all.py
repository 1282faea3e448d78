"""Run every benchmark case in turn, then print the side-by-side table.

    bench/.venv/bin/python bench/run_all.py [--only throughput,kill9,concurrent,coldstart,listing,
                                                    compare,sweep,triage,ui,wandb_compat,scalars,scaling,ray] [--wait-quiet 120]

Each case is its own script (bench_*.py, each runnable alone with --help) and writes
bench/results/<case>.json. The arguments below keep the whole suite to about 40 minutes on
an idle 2-core machine (the scaling curves, up to 100,000 runs and 10,000,000 points, are about
half of it); every bound is recorded in the result files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from common import BENCH, PY, SCRATCH, hunch_available, rm

CASES = {
    "throughput": ["bench_throughput.py", "--steps", "10000", "--trials", "5"],  # a 31 ms loop: 5, against a stall
    # the loop as measured before 2026-12-05: each step's dict made in it (MLflow left out: a minute more)
    "throughput_in_loop": ["bench_throughput.py", "--variants", "hunchlab,wandb,trackio", "--trials", "3",
                           "--dicts", "in-loop", "--result", "throughput_dicts_in_loop"],
    "kill9": ["bench_kill.py", "--after", "2.0"],
    "concurrent": ["bench_concurrent.py", "--procs", "8,32", "--steps", "1000", "--max-seconds", "30"],
    "coldstart": ["bench_coldstart.py", "--reps", "7", "--warmup", "2"],
    "listing": ["bench_listing.py", "--runs", "10000", "--mlflow-runs", "1000,10000",
                "--create-budget-s", "300"],
    "compare": ["bench_compare.py", "--repeat", "7"],
    "sweep": ["bench_sweep.py", "--repeat", "3"],
    "triage": ["bench_triage.py", "--examples", "1000000", "--reps", "5"],
    "ui": ["bench_ui.py", "--runs", "10000", "--points", "1000000", "--reps", "5"],
    "wandb_compat": ["bench_throughput.py", "--variants", "wandb-compat,wandb", "--trials", "3",
                     "--result", "wandb_compat"],
    "scalars": ["bench_scalars.py", "--rate", "10000", "--seconds", "5", "--trials", "5"],
    "scaling": ["bench_scaling.py", "--reps", "5"],
    "ray": ["bench_ray.py", "--repeat", "1"],
}


def wait_quiet(limit_s: float, threshold: float = 1.0) -> None:
    """Wait (up to limit_s) for the 1-minute load average to drop below threshold."""
    t0 = time.monotonic()
    while os.getloadavg()[0] >= threshold and time.monotonic() - t0 < limit_s:
        time.sleep(5)
    print(f"load average {os.getloadavg()[0]:.2f} after waiting {time.monotonic() - t0:.0f} s", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(CASES))
    p.add_argument("--wait-quiet", type=float, default=120,
                   help="seconds to wait, before each case, for the machine to be idle (0: never wait)")
    a = p.parse_args()
    if not hunch_available():
        print("warning: hunchlab is not installed in bench/.venv (or `hunch --help` fails): "
              "its cases are skipped; run bench/setup.sh once the core is there", flush=True)
    failed = []
    for name in a.only.split(","):
        if a.wait_quiet:
            wait_quiet(a.wait_quiet)
        argv = [PY, str(BENCH / CASES[name][0]), *CASES[name][1:]]
        print(f"== {name}: {' '.join(argv[1:])}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call(argv, cwd=BENCH)
        print(f"== {name}: rc={rc} in {time.monotonic() - t0:.0f} s", flush=True)
        if rc:
            failed.append(name)
    rm(SCRATCH)
    subprocess.call([PY, str(BENCH / "report.py")], cwd=BENCH)
    if failed:
        print(f"failed cases: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
