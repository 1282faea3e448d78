"""What is known about a metric besides its values: the range it lives in and which way is better.

Both change what a comparison may say: an interval for accuracy must not pass 1,
and "better" needs a direction. A spec can declare them
(``metrics: {acc: {range: [0, 1], goal: max}}``, stored with every run); without a
declaration they are guessed from the name, and the guess is said as a guess:

- the goal from words that read as a cost (``val_loss``, ``error``) or a score
  (``test_acc``, ``reward``); a name with neither, or both, has no goal;
- the range [0, 1] only when the name's last word is a proportion (``acc``,
  ``accuracy``, ``f1``, ``precision``, ``recall``, ``auc``, ``winrate``, ...) *and*
  every value seen lies in [0, 1], so accuracy logged in percent is never cut at 1,
  and ``recall_gain`` (last word "gain") is not taken for a proportion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LOWER_IS_BETTER = {"loss", "error", "err", "nll", "perplexity", "ppl", "mse", "mae", "rmse", "regret", "wer", "cer",
                   "latency", "time", "seconds"}
HIGHER_IS_BETTER = {"acc", "accuracy", "f1", "auc", "auroc", "reward", "return", "precision", "recall", "bleu",
                    "rouge", "em", "exact", "correct", "win", "winrate"}
PROPORTIONS = {"acc", "accuracy", "f1", "auc", "auroc", "precision", "recall", "em", "winrate", "correct", "pass",
               "coverage", "sensitivity", "specificity"}


@dataclass(frozen=True)
class MetricInfo:
    """A metric's range and goal, and where each came from ("the spec", "the name", or None)."""

    name: str
    bounds: tuple[float, float] | None = None
    goal: str | None = None  # "max" or "min"
    bounds_from: str | None = None
    goal_from: str | None = None

    @property
    def higher_is_better(self) -> bool | None:
        return None if self.goal is None else self.goal == "max"


def _words(metric: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", metric.lower()) if w]


def guess_goal(metric: str) -> str | None:
    """``min`` for ``val_loss``, ``max`` for ``test_acc``, None when the name does not say."""
    words = set(_words(metric))
    lower, higher = bool(words & LOWER_IS_BETTER), bool(words & HIGHER_IS_BETTER)
    return None if lower == higher else ("max" if higher else "min")


def metric_info(metric: str, declared: Sequence[Mapping[str, Any] | None], values: Iterable[float]) -> MetricInfo:
    """The metric's range and goal: declared by the runs' specs, else guessed from its name and values.

    ``declared`` holds each run's ``spec.metrics`` declaration (None for a run
    without one); a declaration that the runs disagree on is not used.
    """
    entries = {repr(d.get(metric)) for d in declared if d}
    spec = next((d[metric] for d in declared if d and metric in d), None) if len(entries) == 1 else None
    spec = spec or {}
    bounds: tuple[float, float] | None = None
    bounds_from = None
    if spec.get("range"):
        bounds, bounds_from = (float(spec["range"][0]), float(spec["range"][1])), "the spec"
    else:
        words = _words(metric)
        if words and words[-1] in PROPORTIONS and all(0.0 <= v <= 1.0 for v in values):
            bounds, bounds_from = (0.0, 1.0), "the name"
    goal, goal_from = (spec["goal"], "the spec") if spec.get("goal") else (guess_goal(metric), "the name")
    return MetricInfo(metric, bounds, goal, bounds_from, goal_from if goal else None)
