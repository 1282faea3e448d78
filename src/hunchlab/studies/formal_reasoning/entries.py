"""The two study entries: what ``hunch run`` / ``hunch study run`` call with a Run.

Each entry reads its settings from the run's params, runs its science module
(``proof_search`` or ``expert_iteration``), and reports through the run: value
training losses with ``run.log``, the result table as summary metrics (every
number the check reads), one record per theorem and arm with ``run.example``
(so ``hunch failures`` can browse the unproved ones), and a figure with its
CSV and rebuild script as artifacts. A progress line with an ETA goes to
stderr before each stage.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

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
from hunchlab.studies.training import Callback


class Progress:
    """``[formal reasoning] 3/10 searching with learned; 12 s so far, about 28 s to go`` on stderr."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()

    def __call__(self, what: str) -> None:
        elapsed = time.monotonic() - self.started
        eta = f", about {elapsed / self.done * (self.total - self.done):.0f} s to go" if self.done else ""
        self.done += 1
        print(f"[formal reasoning] {self.done}/{self.total} {what}; {elapsed:.0f} s so far{eta}", file=sys.stderr,
              flush=True)


def proof_search(run: Any) -> None:
    """Study 1: best-first search with a learned value vs breadth-first at equal budget (Polu & Sutskever 2020)."""
    _threads()
    s = SearchSettings.from_config(run.config)

    def log(step: int, loss: float) -> None:
        run.log({"train/value/loss": loss}, step=step)

    result = proof_search_table(s, run.seed, log, Progress(1 + len(ARMS)))
    _report(run, result)
    points: list[Point] = [{"group": arm, "x": d, "y": result.metrics[f"proved/{arm}/d{d}"],
               "lo": result.metrics[f"proved/{arm}/d{d}/lo"], "hi": result.metrics[f"proved/{arm}/d{d}/hi"]}
              for arm in ARMS for d in s.difficulties]
    _figure(run, points, "proved_by_difficulty.png", "difficulty (random rewrites; deeper than "
            f"{s.train_depth} held out)", f"share proved at {s.budget} expansions")


def expert_iteration(run: Any) -> None:
    """Study 2: expert iteration on a mixed-difficulty pool vs a hard-only pool (Polu et al. 2022)."""
    _threads()
    s = IterationSettings.from_config(run.config)

    def log(pool: str) -> Callback:
        return lambda step, loss: run.log({f"train/{pool}/loss": loss}, step=step)

    result = expert_iteration_table(s, run.seed, log, Progress(len(POOLS) * (s.rounds + 1)))
    _report(run, result)
    for pool in POOLS:
        for r in range(s.rounds + 1):
            run.log({f"heldout/{pool}": result.metrics[f"heldout/{pool}/r{r}"]}, step=r)
    points: list[Point] = [{"group": "mixed pool (curriculum)" if pool == "curriculum" else "hard-only pool", "x": r,
               "y": result.metrics[f"heldout/{pool}/r{r}"], "lo": result.metrics[f"heldout/{pool}/r{r}/lo"],
               "hi": result.metrics[f"heldout/{pool}/r{r}/hi"]} for pool in POOLS for r in range(s.rounds + 1)]
    _figure(run, points, "heldout_by_round.png", "round (0: blind search, no guide yet)",
            f"held-out hard theorems proved (difficulty {', '.join(map(str, s.heldout))})")


def _threads() -> None:
    torch.set_num_threads(int(os.environ.get("HUNCH_TORCH_THREADS", "1")))


def _report(run: Any, result: Result) -> None:
    run.summary.update(result.metrics)
    for record in result.records:
        run.example(**record)


def _figure(run: Any, points: list[Point], name: str, x_label: str, y_label: str) -> None:
    files = interval_figure(points, Path(run.dir) / name, x_label, y_label)
    for path in (files.figure, files.data, files.script):
        run.artifact(path)
