"""The studies' figures: shares proved with their intervals, each written with its CSV and a redraw script.

``draw_intervals`` is portable (``plots.custom_figure`` copies its source into
the figure's ``*_plot.py``): it imports matplotlib inside and uses only the
standard library and ``plot_drawing``'s helpers. A share proved is a count out
of a fixed set of theorems, not a mean over seeds, so its bar is the 95% Wilson
interval of that one count, which the caller computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from hunchlab.figure_files import FigureFiles
from hunchlab.plot_drawing import COLORS, group_by, number
from hunchlab.plots import custom_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIELDS = ("group", "x", "y", "lo", "hi")


class Point(TypedDict):
    """One share proved: its arm or pool, where on the x axis, the share and its interval."""

    group: str
    x: int
    y: float
    lo: float
    hi: float


def draw_intervals(rows: list[dict[str, str]], x_label: str, y_label: str, interval: str) -> Figure:
    """One line per group through its shares, each with its interval as an error bar."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    groups = group_by(rows, "group")
    for i, (name, group) in enumerate(groups.items()):
        x = [number(r["x"]) for r in group]
        y = [number(r["y"]) for r in group]
        below = [m - number(r["lo"]) for m, r in zip(y, group, strict=True)]
        above = [number(r["hi"]) - m for m, r in zip(y, group, strict=True)]
        ax.errorbar(x, y, yerr=[below, above], color=COLORS[i % len(COLORS)], marker="o", markersize=4,
                    capsize=2.5, label=name)
    ax.set_xticks(sorted({number(r["x"]) for r in rows}))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    fig.legend(title=f"bars: {interval}", loc="outside lower center", ncols=min(len(groups), 3))
    return fig


def interval_figure(points: Sequence[Point], out: Path, x_label: str, y_label: str) -> FigureFiles:
    """The figure of ``points`` at ``out`` (PNG), with its CSV and the script that redraws it."""
    return custom_figure(points, FIELDS, draw_intervals, out, x_label=x_label, y_label=y_label,
                         interval="95% Wilson interval")
