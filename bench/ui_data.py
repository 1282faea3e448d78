"""Synthetic projects for the dashboard benchmark: many runs, and one run with a very long metric.

The runs come in seed groups of ``--group-size`` (default 50: 10,000 runs are 200 groups,
the shape that once listed 3,000 rows a page). Runs are made through hunchlab's own run handle (``hunchlab.run.create_run``, the path
``hunchlab.start`` takes) so the store is exactly what real runs produce; only the
environment capture (about 0.1 s a run, reading every installed package's metadata) is
skipped, so 10,000 runs take minutes rather than half an hour.

    python bench/ui_data.py DIR --runs 10000 [--group-size 50] [--points 1000000] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from pathlib import Path


def _make_runs(root: str, start: int, count: int, group_size: int) -> None:
    from hunchlab.project import find_project
    from hunchlab.run import create_run

    project = find_project(root)
    for i in range(start, start + count):
        config = i // group_size  # group_size seeds per config: one seed group each
        params = {"lr": round(1e-3 * (config % 7 + 1), 6), "model": {"width": 16 * (config % 4 + 1)},
                  "trial": config}
        meta = {"name": f"trial-{config}", "params": params, "seed": i % group_size,
                "spec": {"name": "bench", "entry": "python-api", "question": None}, "argv": [], "env": {}}
        run = create_run(project, meta)
        acc = 0.5 + 0.4 * (1 - math.exp(-config / 500)) + 0.01 * (i % 3)
        run.log({"loss": 1 - acc, "acc": acc}, step=0)
        run.summary.update({"acc": acc, "loss": 1 - acc})
        run.finish()


def _long_run(root: str, points: int) -> str:
    """One run whose metric ``loss`` has ``points`` steps: a noisy decay with a few one-step spikes."""
    import random

    from hunchlab.project import find_project
    from hunchlab.run import create_run

    rng = random.Random(0)
    meta = {"name": "long-metric", "params": {"lr": 0.001, "model": {"width": 64}, "trial": -1}, "seed": 0,
            "spec": {"name": "bench-long", "entry": "python-api", "question": None}, "argv": [], "env": {}}
    run = create_run(find_project(root), meta)
    spikes = {points // 5, points // 2, 4 * points // 5}
    for step in range(points):
        value = 2.0 * math.exp(-step / (points / 5)) + 0.05 * rng.random() + (5.0 if step in spikes else 0.0)
        run.log({"loss": value}, step=step)
    run.summary["loss"] = value
    run.finish()
    return run.id


def build(root: Path, runs: int, points: int, workers: int, group_size: int = 50) -> dict:
    """Create a project at ``root`` with ``runs`` small runs and, if ``points``, one long run."""
    from hunchlab.project import init_project

    root.mkdir(parents=True, exist_ok=True)
    init_project(root)
    t0 = time.perf_counter()
    share = [runs // workers + (1 if k < runs % workers else 0) for k in range(workers)]
    starts = [sum(share[:k]) for k in range(workers)]
    with multiprocessing.Pool(workers) as pool:
        pool.starmap(_make_runs, [(str(root), s, n, group_size) for s, n in zip(starts, share, strict=True) if n])
    made = time.perf_counter() - t0
    long_id = _long_run(str(root), points) if points else None
    return {"runs": runs, "group_size": group_size, "runs_s": round(made, 1), "long_run": long_id, "points": points,
            "long_s": round(time.perf_counter() - t0 - made, 1)}


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
