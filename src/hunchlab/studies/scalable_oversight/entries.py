"""The two study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry runs its study for every seed of the run (``run.seed``,
``run.seed + 1000``, ...), showing progress with an ETA on stderr, and reports
through the run: per-seed results and judge training losses with ``run.log``,
the mean over seeds as summary metrics (with a 95% interval over seeds for the
numbers people compare), worked examples with ``run.example``, and figures
(each with its CSV and a script that redraws it) as artifacts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from hunchlab.studies.runtime import set_threads, settings_from
from hunchlab.studies.scalable_oversight import debate as debate_study
from hunchlab.studies.scalable_oversight import weak_to_strong as w2s

T = TypeVar("T")
INTERVALS = ("acc/", "pgr/", "gain/", "win/")  # metrics that get a 95% interval over seeds in the summary


@settings_from(w2s.Settings.from_config)
def weak_to_strong(run: Any) -> None:
    """Weak-to-strong generalisation (Burns et al. 2023): weak, ceiling, naive and confidence-loss students."""
    s = w2s.Settings.from_config(run.config)
    seeds = _seeds(run, s.seeds)
    per_seed = []
    for i, seed in enumerate(progress(seeds, "weak-to-strong: seeds")):
        metrics, records = w2s.one_seed(s, seed)
        per_seed.append(metrics)
        run.log({name: metrics[name] for name in ("pgr/naive", "pgr/conf", "acc/weak", "acc/ceiling")}, step=i)
        for record in records if i == 0 else []:
            run.example(**record)
    summary = summarise(per_seed)
    grid: dict[str, list[float]] = {}
    if s.grid_dims and s.grid_noise:
        grid = w2s.grid(s, seeds[: s.grid_seeds])
        summary |= {name: sum(values) / len(values) for name, values in grid.items()}
    _report(run, summary)
    from hunchlab.studies.scalable_oversight import figures  # lazy: loads numpy only when called

    paths = figures.weak_to_strong(run.dir, per_seed, grid, s)
    for path in paths:
        run.artifact(path)


@settings_from(debate_study.Settings.from_config)
def debate(run: Any) -> None:
    """Debate with a sparse-pixel judge (Irving et al. 2018): judge accuracy with debate versus random pixels."""
    s = debate_study.Settings.from_config(run.config)
    per_seed = []
    for i, seed in enumerate(progress(_seeds(run, s.seeds), "debate: seeds")):
        suffix = "" if i == 0 else f"/seed{seed}"

        def log(step: int, loss: float, suffix: str = suffix) -> None:
            run.log({f"train/judge/loss{suffix}": loss}, step=step)

        metrics, records = debate_study.one_seed(s, seed, log)
        per_seed.append(metrics)
        for record in records if i == 0 else []:
            run.example(**record)
    _report(run, summarise(per_seed))
    from hunchlab.studies.scalable_oversight import figures  # lazy: loads numpy only when called

    for path in figures.debate(run.dir, per_seed, s):
        run.artifact(path)


def _seeds(run: Any, count: int) -> list[int]:
    """The run's seeds, 1000 apart so runs with seeds 0, 1, 2 never share one; torch at the project's threads."""

    set_threads()
    return [run.seed + 1000 * i for i in range(count)]


def _report(run: Any, summary: dict[str, float]) -> None:
    for name, value in summary.items():
        run.summary[name] = value


def summarise(per_seed: list[dict[str, float]]) -> dict[str, float]:
    """The mean over seeds of every metric; ``NAME/lo``, ``NAME/hi`` (95% t-interval) for the compared ones."""
    from hunchlab.intervals import mean_ci  # lazy: loads numpy only when called

    out: dict[str, float] = {}
    for name in per_seed[0]:
        ci = mean_ci([m[name] for m in per_seed])
        out[name] = ci.mean
        if name.startswith(INTERVALS) and ci.lo is not None and ci.hi is not None:
            out[f"{name}/lo"], out[f"{name}/hi"] = ci.lo, ci.hi
    return out


def progress(items: Iterable[T], what: str, stream: Any = None) -> Iterator[T]:
    """Yield the items, printing a bar with the time each took and an ETA after each."""
    stream = stream or sys.stderr
    items = list(items)
    start = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        each = (time.monotonic() - start) / done
        bar = "#" * round(20 * done / len(items))
        print(f"{what} [{bar:<20}] {done}/{len(items)}  {each:.1f} s each, ETA {each * (len(items) - done):.0f} s",
              file=stream, flush=True)
