"""Synthetic projects for the dashboard benchmark: many runs, and one run with a very long metric.

The runs come in seed groups of ``--group-size`` (default 50: 10,000 runs are 200 groups,
the shape that once listed 3,000 rows a page). Every run is made through the public API,
``hunchlab.start`` (code state, environment capture and the background fold included),
so the store is exactly what real runs produce and the time to make it is the time a
user's test project takes: issue 22 asks for 10,000 runs in under 2 minutes (when
``hunchlab.start`` took 0.2-0.3 s a run they took ~50 minutes).

    python bench/ui_data.py DIR --runs 10000 [--group-size 50] [--points 1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from pathlib import Path


def _make_runs(root: str, start: int, count: int, group_size: int) -> None:
    import hunchlab

    for i in range(start, start + count):
        config = i // group_size  # group_size seeds per config: one seed group each
        params = {"lr": round(1e-3 * (config % 7 + 1), 6), "model": {"width": 16 * (config % 4 + 1)},
                  "trial": config}
        acc = 0.5 + 0.4 * (1 - math.exp(-config / 500)) + 0.01 * (i % 3)
        with hunchlab.start(config=params, name=f"trial-{config}", seed=i % group_size, project=root) as run:
            run.log({"loss": 1 - acc, "acc": acc}, step=0)
            run.summary.update({"acc": acc, "loss": 1 - acc})


def _long_run(root: str, points: int) -> str:
    """One run whose metric ``loss`` has ``points`` steps: a noisy decay with a few one-step spikes."""
    import random

    import hunchlab

    rng = random.Random(0)
    spikes = {points // 5, points // 2, 4 * points // 5}
    params = {"lr": 0.001, "model": {"width": 64}, "trial": -1}
    with hunchlab.start(config=params, name="long-metric", project=root) as run:
        for step in range(points):
            value = 2.0 * math.exp(-step / (points / 5)) + 0.05 * rng.random() + (5.0 if step in spikes else 0.0)
            run.log({"loss": value}, step=step)
        run.summary["loss"] = value
    return run.id


def _wait_folded(root: Path) -> None:
    """Until the background folder has folded every run (the runs page shows folded runs)."""
    pending = root / ".hunch" / "pending"
    while pending.is_dir() and any(pending.iterdir()):
        time.sleep(0.05)


def build(root: Path, runs: int, points: int, workers: int, group_size: int = 50) -> dict:
    """Create a project at ``root`` with ``runs`` small runs and, if ``points``, one long run."""
    from hunchlab.run_records import init_project

    root.mkdir(parents=True, exist_ok=True)
    init_project(root)
    # The runs' code state is the working folder's: made from inside a hunchlab checkout with files
    # changed (bench/results/ while the bench runs), every run page would show that diff (400 KB of
    # HTML, ~140 ms more to ready) and the page measured would depend on the checkout's state.
    os.chdir(root)
    t0 = time.perf_counter()
    share = [runs // workers + (1 if k < runs % workers else 0) for k in range(workers)]
    starts = [sum(share[:k]) for k in range(workers)]
    with multiprocessing.Pool(workers) as pool:
        pool.starmap(_make_runs, [(str(root), s, n, group_size) for s, n in zip(starts, share, strict=True) if n])
    made = time.perf_counter() - t0
    _wait_folded(root)
    folded = time.perf_counter() - t0
    long_id = _long_run(str(root), points) if points else None
    _wait_folded(root)
    return {"runs": runs, "group_size": group_size, "workers": workers, "through": "hunchlab.start",
            "runs_s": round(made, 1), "runs_folded_s": round(folded, 1), "long_run": long_id, "points": points,
            "long_s": round(time.perf_counter() - t0 - folded, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--group-size", type=int, default=50)
    a = p.parse_args()
    print(build(a.dir, a.runs, a.points, a.workers, a.group_size), file=sys.stderr)


if __name__ == "__main__":
    main()
