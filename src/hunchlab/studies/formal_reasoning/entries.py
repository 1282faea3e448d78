"""The two study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry reads its settings from the run's params, runs its science module
(``proof_search`` or ``expert_iteration``), and reports through the run: value
training losses with ``run.log``, the result table as summary metrics (every
number the check reads), one record per theorem and arm with ``run.example``
(so ``hunch failures`` can browse the unproved ones), and a figure with its
CSV and rebuild script as artifacts. A progress line with an ETA goes to
stderr after each stage.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hunchlab.studies.formal_reasoning.expert_iteration import (
    POOLS,
    expert_iteration_table,
)
from hunchlab.studies.formal_reasoning.figures import Point, interval_figure
from hunchlab.studies.formal_reasoning.proof_search import (
    ARMS,
    Result,
    proof_search_table,
)
from hunchlab.studies.formal_reasoning.settings import IterationSettings, SearchSettings
from hunchlab.studies.runtime import Progress, set_threads, settings_from
from hunchlab.studies.training import Callback


def stages(label: str, total: int) -> Callable[[str], None]:
    """A progress bar with an ETA on stderr (``studies.runtime.Progress``), advanced once per
    stage: the science calls it with what it is about to do, and it shows how many stages are done."""
    bar = Progress(label, total)
    done = itertools.count()
    return lambda what: bar.update(next(done), what)


@settings_from(SearchSettings.from_config)
def proof_search(run: Any) -> None:
    """Study 1: best-first search with a learned value vs breadth-first at equal budget (Polu & Sutskever 2020)."""
    set_threads()
    s = SearchSettings.from_config(run.config)

    def log(step: int, loss: float) -> None:
        run.log({"train/value/loss": loss}, step=step)

    tell = stages("[proof-search]", 1 + len(ARMS))
    result = proof_search_table(s, run.seed, log, tell)
    tell("done")
    _report(run, result)
    points: list[Point] = [{"group": arm, "x": d, "y": result.metrics[f"proved/{arm}/d{d}"],
               "lo": result.metrics[f"proved/{arm}/d{d}/lo"], "hi": result.metrics[f"proved/{arm}/d{d}/hi"]}
              for arm in ARMS for d in s.difficulties]
    _figure(run, points, "proved_by_difficulty.png", "difficulty (random rewrites; deeper than "
            f"{s.train_depth} held out)", f"share proved at {s.budget} expansions")


@settings_from(IterationSettings.from_config)
def expert_iteration(run: Any) -> None:
    """Study 2: expert iteration on a mixed-difficulty pool vs a hard-only pool (Polu et al. 2022)."""
    set_threads()
    s = IterationSettings.from_config(run.config)

    def log(pool: str) -> Callback:
        return lambda step, loss: run.log({f"train/{pool}/loss": loss}, step=step)

    tell = stages("[expert-iteration]", len(POOLS) * (s.rounds + 1))
    result = expert_iteration_table(s, run.seed, log, tell)
    tell("done")
    _report(run, result)
    for pool in POOLS:
        for r in range(s.rounds + 1):
            run.log({f"heldout/{pool}": result.metrics[f"heldout/{pool}/r{r}"]}, step=r)
    points: list[Point] = [{"group": "mixed pool (curriculum)" if pool == "curriculum" else "hard-only pool", "x": r,
               "y": result.metrics[f"heldout/{pool}/r{r}"], "lo": result.metrics[f"heldout/{pool}/r{r}/lo"],
               "hi": result.metrics[f"heldout/{pool}/r{r}/hi"]} for pool in POOLS for r in range(s.rounds + 1)]
    _figure(run, points, "heldout_by_round.png", "round (0: blind search, no guide yet)",
            f"held-out hard theorems proved (difficulty {', '.join(map(str, s.heldout))})")


def _report(run: Any, result: Result) -> None:
    run.summary.update(result.metrics)
    for record in result.records:
        run.example(**record)


def _figure(run: Any, points: list[Point], name: str, x_label: str, y_label: str) -> None:
    files = interval_figure(points, Path(run.dir) / name, x_label, y_label)
    for path in (files.figure, files.data, files.script):
        run.artifact(path)
