"""Median stopping for a sweep's trials (the rule the driver applies while trials run)."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from hunchlab.events import read_events

# ----------------------------------------------------------------------------- pruning


class MedianPruner:
    """Median stopping: a trial worse at step k than the median of finished trials at k is stopped.

    A finished trial's value "at k" is its last logged value at or before step k. No
    trial is judged before step ``after`` or before ``min_trials`` finished trials reach k.
    """

    def __init__(self, rule: dict[str, Any]) -> None:
        self.metric: str = rule["metric"]
        self.goal: str = rule["goal"]
        self.after: int = rule.get("after", 0)
        self.min_trials: int = rule.get("min_trials", 3)
        self.finished: list[list[tuple[int, float]]] = []
        self._curves: dict[str, list[tuple[int, float]]] = {}
        self._offsets: dict[str, int] = {}

    def add_finished(self, curve: list[tuple[int, float]]) -> None:
        if curve:
            self.finished.append(sorted(curve))

    def observe(self, run_id: str, events_path: Path) -> None:
        """Read the run's new events (the driver's copy for Ray trials)."""
        chunk = read_events(events_path, self._offsets.get(run_id, 0))
        self._offsets[run_id] = chunk.end
        curve = self._curves.setdefault(run_id, [])
        curve.extend((e["step"], float(e["m"][self.metric])) for e in chunk.events
                     if e["t"] == "log" and e["m"].get(self.metric) is not None)

    def ended(self, run_id: str, status: str) -> None:
        curve = self._curves.pop(run_id, [])
        self._offsets.pop(run_id, None)
        if status == "finished":
            self.add_finished(curve)

    def verdict(self, run_id: str) -> str | None:
        """Why the run should be pruned now, or None."""
        curve = self._curves.get(run_id)
        if not curve:
            return None
        step, value = curve[-1]
        if step < self.after:
            return None
        others = [v for c in self.finished if (v := _value_at(c, step)) is not None]
        if len(others) < self.min_trials:
            return None
        median = statistics.median(others)
        worse = value < median if self.goal == "max" else value > median
        if not worse or math.isnan(median):
            return None
        return (f"pruned at step {step}: {self.metric} {value:.4g} is worse than the median {median:.4g} of "
                f"{len(others)} finished trials at that step (median stopping, goal {self.goal})")


def _value_at(curve: list[tuple[int, float]], step: int) -> float | None:
    value = None
    for s, v in curve:
        if s > step:
            break
        value = v
    return value
