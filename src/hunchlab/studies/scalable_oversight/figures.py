"""The studies' figures, drawn by ``hunchlab.plots`` (each with its CSV and a script that redraws it).

Every bar and point is a mean over the run's seeds with its 95% interval; the
per-seed values are what ``plots`` turns into those intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hunchlab import plots
from hunchlab.intervals import mean_ci
from hunchlab.studies.scalable_oversight import debate as debate_study
from hunchlab.studies.scalable_oversight import weak_to_strong as w2s

Metrics = dict[str, float]


def _bar(label: str, values: Sequence[float]) -> dict[str, object]:
    """A bar: the mean of ``values`` with its 95% t-interval (none from one seed)."""
    ci = mean_ci(list(values))
    return {"label": label, "mean": ci.mean, "lo": ci.lo, "hi": ci.hi}


def weak_to_strong(folder: Path, per_seed: list[Metrics], grid: dict[str, list[float]],
                   s: w2s.Settings) -> list[Path]:
    """Accuracy of each arm; PGR of each student; and, with a grid, PGR against the imitability knobs."""
    arms = [("weak supervisor", "acc/weak"), ("naive student", "acc/naive"),
            ("confidence-loss student", "acc/conf"), ("strong ceiling", "acc/ceiling")]
    accuracy = plots.bar_chart([_bar(label, [m[key] for m in per_seed]) for label, key in arms],
                               folder / "w2s_accuracy.png", title=f"Test accuracy ({_seeds(per_seed)})",
                               ylabel="accuracy")
    gap = plots.bar_chart([_bar("naive", [m["pgr/naive"] for m in per_seed]),
                           _bar("confidence loss", [m["pgr/conf"] for m in per_seed])],
                          folder / "w2s_pgr.png", title="Performance gap recovered", ylabel="PGR")
    paths = [*_files(accuracy), *_files(gap)]
    for arm in ("naive", "conf") if grid else ():
        points = [{"group": f"weak_dims {k}", "x": noise, "values": grid[f"grid/pgr_{arm}/dims{k}/noise{noise:g}"]}
                  for k in s.grid_dims for noise in s.grid_noise]
        label = "naive" if arm == "naive" else "confidence-loss"
        paths += _files(plots.param_curve(points, "weak_noise", f"PGR of the {label} student",
                                          folder / f"imitability_{arm}.png"))
    return paths


def debate(folder: Path, per_seed: list[Metrics], s: debate_study.Settings) -> list[Path]:
    """Judge accuracy from random pixels versus the honest debater's win rate in each order, per k."""
    rows = [("random pixels", "acc/random"), ("debate, honest first", "win/honest_first"),
            ("debate, liar first", "win/liar_first")]
    bars = [_bar(f"k={k}: {label}", [m[f"{key}/k{k}"] for m in per_seed]) for k in s.k_values for label, key in rows]
    files = plots.bar_chart(bars, folder / "debate_accuracy.png",
                            title=f"Judge accuracy: random pixels vs debate ({_seeds(per_seed)})",
                            ylabel="judge right / honest debater wins")
    return _files(files)


def _files(files: plots.FigureFiles) -> list[Path]:
    """The figure, its CSV and its redraw script: all three go into the run."""
    return [files.figure, files.data, files.script]


def _seeds(per_seed: list[Metrics]) -> str:
    return f"mean and 95% CI over {len(per_seed)} seeds" if len(per_seed) > 1 else "one seed"
