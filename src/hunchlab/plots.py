"""Paper-ready figures from plain data: one call writes the figure, its data and a script.

A figure in a paper outlives the tool that drew it, so beside every ``fig.pdf`` this
module writes ``fig.csv`` (exactly the numbers drawn, one observation per row) and
``fig_plot.py`` (a standalone matplotlib script that redraws the figure from that CSV).
An author can then restyle, re-plot or audit the figure without hunchlab.

The module has two halves. The *portable* half (``read_rows`` … ``draw_*``) draws from
CSV rows using only matplotlib and the standard library; the generated script contains
its source verbatim, and hunchlab itself draws by reading the CSV back through the very
same functions, so the script cannot drift from what hunchlab drew. The *data* half turns
the caller's runs, seeds and bins into those rows with numpy.

matplotlib is imported only inside drawing functions so that importing this module (and
starting the CLI) stays fast, and figures are drawn on a bare ``Figure`` instead of
pyplot so that no backend is switched and no figure is leaked in a host process such as
a notebook.
"""

from __future__ import annotations

import csv
import inspect
import math
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hunchlab.errors import HunchError, did_you_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "FORMATS",
    "FigureFiles",
    "bar_chart",
    "interval_curves",
    "learning_curves",
    "param_curve",
    "reliability_diagram",
]

FORMATS = (".png", ".pdf", ".svg")
BANDS = ("ci", "minmax")
# Points per curve: more than a 3-inch panel has pixels at 200 dpi, few enough that a
# 50k-step run does not make a megabyte SVG or PDF that LaTeX chokes on.
MAX_CURVE_POINTS = 1000

# Okabe–Ito: distinguishable under the common colour-vision deficiencies and in greyscale
# print; yellow comes last because it is faint on white.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.linewidth": 0.5,
    "grid.alpha": 0.4,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": f"cycler(color={COLORS!r})",
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    # Text stays text: SVGs stay small and editable, PDFs embed TrueType instead of Type 3.
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    # Fixed ids so redrawing unchanged data gives an identical SVG (clean diffs).
    "svg.hashsalt": "hunchlab",
}


# ============================================================ portable half
# Copied verbatim into every generated ``*_plot.py``: matplotlib + stdlib only, and no
# module globals other than STYLE, COLORS and each other.


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV as dicts of strings: the single input every draw function takes."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(cell: str) -> float:
    """A CSV cell as a float; a blank cell (e.g. no band from a single run) is NaN."""
    return float(cell) if cell else math.nan


def is_number(cell: str) -> bool:
    """Whether a swept value is numeric, which decides between a numeric and a category axis."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def group_by(rows: list[dict[str, str]], column: str) -> dict[str, list[dict[str, str]]]:
    """Rows split by one column in first-seen order, which is the order the caller gave."""
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row[column], []).append(row)
    return groups


def note(ax: Axes, text: str) -> None:
    """Say in the panel why it is empty, rather than leaving a blank box."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")


def render(csv_path: Path, out: Path, draw: Callable[..., Figure], options: dict[str, Any]) -> None:
    """Draw ``csv_path`` under STYLE and save it to ``out``: all of a generated script's main."""
    import matplotlib

    # PDF and SVG stamp the current date; dropping it makes identical data give identical files.
    metadata = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}.get(Path(out).suffix.lower(), {})
    with matplotlib.rc_context(STYLE):
        draw(read_rows(csv_path), **options).savefig(out, metadata=metadata)


def band_note(band: str, runs: list[int], smooth: int) -> str | None:
    """The legend title that states what the shaded band is, so no reader has to guess."""
    parts = []
    sizes = sorted({n for n in runs if n > 1})
    if sizes:
        over = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"
        parts.append(f"band: {'95% CI' if band == 'ci' else 'min–max'} over {over} runs")
    if smooth > 1:
        parts.append(f"trailing mean of {smooth} points")
    return "; ".join(parts) or None


def draw_learning_curves(rows: list[dict[str, str]], x_label: str, band: str, smooth: int) -> Figure:
    """One panel per metric; per group a mean line, shaded where two or more runs overlap."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = group_by(rows, "metric")
    order = list(group_by(rows, "group"))  # one colour per group across all panels
    fig = Figure(figsize=(0.6 + 3.2 * len(panels), 3.0), layout="constrained")
    handles: dict[str, tuple[Any, ...]] = {}
    runs: dict[str, int] = {}
    for ax, (metric, panel_rows) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels.items(), strict=True):
        for name, group in group_by(panel_rows, "group").items():
            color = COLORS[order.index(name) % len(COLORS)]
            x = [number(r["x"]) for r in group]
            lo, hi = [number(r["lo"]) for r in group], [number(r["hi"]) for r in group]
            (line,) = ax.plot(x, [number(r["mean"]) for r in group], color=color)
            entry: tuple[Any, ...] = (line,)
            if any(not math.isnan(v) for v in lo):
                ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
                entry = (Patch(color=color, alpha=0.2, linewidth=0), line)
            handles.setdefault(name, entry)
            runs[name] = max(runs.get(name, 0), *(int(r["n"]) for r in group))
        ax.set_xlabel(x_label)
        ax.set_ylabel(metric)
    fig.legend(
        list(handles.values()),
        [f"{name} (n={runs[name]})" for name in handles],
        title=band_note(band, list(runs.values()), smooth),
        loc="outside lower center",
        ncols=min(len(handles), 4),
    )
    return fig


def draw_param_curve(rows: list[dict[str, str]], param: str, metric: str) -> Figure:
    """Mean ± 95% CI per swept value with every seed as a faint dot, one line per group."""
    from matplotlib.figure import Figure

    values = list(dict.fromkeys(r["x"] for r in rows))
    numeric = all(is_number(v) for v in values)
    position = {v: float(v) if numeric else float(i) for i, v in enumerate(values)}
    groups = group_by(rows, "group")
    fig = Figure(figsize=(4.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    for i, (name, group) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        # Side by side on a category axis so the groups' dots and bars do not overlap.
        shift = 0.0 if numeric else 0.12 * (i - (len(groups) - 1) / 2)
        seeds = [r for r in group if r["role"] == "seed"]
        means = sorted((r for r in group if r["role"] == "mean"), key=lambda r: position[r["x"]])
        ax.scatter(
            [position[r["x"]] + shift for r in seeds],
            [number(r["y"]) for r in seeds],
            s=12,
            color=color,
            alpha=0.35,
            linewidths=0,
        )
        y = [number(r["y"]) for r in means]
        ax.errorbar(
            [position[r["x"]] + shift for r in means],
            y,
            yerr=[
                [m - number(r["lo"]) for m, r in zip(y, means, strict=True)],
                [number(r["hi"]) - m for m, r in zip(y, means, strict=True)],
            ],
            color=color,
            marker="o",
            markersize=4,
            capsize=2.5,
            linestyle="-" if numeric else "none",  # a line between categories would invent an order
            label=f"{name} (n={max(int(r['n']) for r in means)})",
        )
    if numeric and min(position.values()) > 0 and max(position.values()) > 100 * min(position.values()):
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(list(position.values()), values)
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    fig.legend(title="mean ± 95% CI; dots: seeds", loc="outside lower center", ncols=min(len(groups), 4))
    return fig


def draw_bars(rows: list[dict[str, str]], title: str, ylabel: str) -> Figure:
    """Bars in the given order with error bars where an interval is known; long labels go sideways."""
    from matplotlib.figure import Figure

    labels = [r["label"] for r in rows]
    means = [number(r["mean"]) for r in rows]
    # Inches each bar needs for its label at 9 pt; sideways once they would not fit a column.
    slot = max(0.5, 0.085 * max(len(label) for label in labels))
    horizontal = slot > 1.2 or slot * len(rows) > 6.0
    size = (5.0, 0.9 + 0.3 * len(rows)) if horizontal else (max(3.0, 0.8 + slot * len(rows)), 3.0)
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.add_subplot()
    places = list(range(len(rows)))
    (ax.barh if horizontal else ax.bar)(places, means, 0.65, color=COLORS[0])
    known = [i for i in places if rows[i]["lo"] and rows[i]["hi"]]
    spans = [[means[i] - number(rows[i]["lo"]) for i in known], [number(rows[i]["hi"]) - means[i] for i in known]]
    points = ([means[i] for i in known], known) if horizontal else (known, [means[i] for i in known])
    spans_xy = (spans, None) if horizontal else (None, spans)
    ax.errorbar(*points, xerr=spans_xy[0], yerr=spans_xy[1], fmt="none", ecolor="0.15", elinewidth=1, capsize=2.5)
    value_axis, label_axis = (ax.xaxis, ax.yaxis) if horizontal else (ax.yaxis, ax.xaxis)
    label_axis.set_ticks(places, labels)
    value_axis.set_label_text(ylabel)
    ax.grid(False, axis="y" if horizontal else "x")
    if horizontal:
        ax.invert_yaxis()  # first bar on top, reading order
    ax.set_title(title)
    return fig


def draw_calibration(ax: Axes, rows: list[dict[str, str]]) -> None:
    """Stated probability against observed frequency; the diagonal is perfect calibration."""
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", linewidth=1, label="perfect calibration")
    counts = [int(r["count"]) for r in rows]
    known = [r for r in rows if r["y_lo"] and r["y_hi"]]
    ax.errorbar(
        [number(r["x"]) for r in known],
        [number(r["y"]) for r in known],
        yerr=[[number(r["y"]) - number(r["y_lo"]) for r in known], [number(r["y_hi"]) - number(r["y"]) for r in known]],
        fmt="none",
        ecolor=COLORS[0],
        elinewidth=1,
        capsize=2,
    )
    ax.scatter(
        [number(r["x"]) for r in rows],
        [number(r["y"]) for r in rows],
        s=[15 + 150 * c / max(counts) for c in counts],
        color=COLORS[0],
        edgecolors="white",
        linewidths=0.5,
        zorder=3,
        label="bins (area ∝ count; bars: 90% interval)",
    )
    if not rows:
        note(ax, "no resolved predictions")
    ax.set(
        xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal", xlabel="stated probability", ylabel="observed frequency"
    )
    ax.set_title(f"calibration (n={sum(counts)})")


def draw_brier(ax: Axes, rows: list[dict[str, str]]) -> None:
    """Rolling Brier score over time against 0.25, the score of always answering 50%."""
    from datetime import datetime

    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    ax.axhline(0.25, linestyle="--", color="0.5", linewidth=1, label="always 50% (0.25)")
    scores = [number(r["y"]) for r in rows]
    if rows:
        when = [datetime.fromisoformat(r["x"]) for r in rows]
        marker = "o" if len(rows) <= 40 else None
        ax.plot(when, scores, color=COLORS[1], marker=marker, markersize=3, label="rolling Brier score")
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        note(ax, "no trend yet")
    ax.set_ylim(0, max([0.3, *(1.1 * s for s in scores)]))
    ax.set_ylabel("Brier score (lower is better)")
    ax.set_title("Brier score over time")


def draw_reliability(rows: list[dict[str, str]]) -> Figure:
    """Calibration on the left, its trend on the right: are stated chances honest, and improving?"""
    from matplotlib.figure import Figure

    panels = group_by(rows, "panel")
    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.4])
    draw_calibration(left, panels.get("calibration", []))
    draw_brier(right, panels.get("brier", []))
    # One legend under both panels, where it cannot cover a bin or the trend.
    fig.legend(loc="outside lower center", ncols=2, markerscale=0.6)
    return fig


def draw_interval_curves(rows: list[dict[str, str]], x_label: str, y_label: str, interval: str) -> Figure:
    """One line per group through points whose interval is known (a proportion's, a bootstrap's), as bars."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    for i, (name, group) in enumerate(group_by(rows, "group").items()):
        x = [number(r["x"]) for r in group]
        y = [number(r["y"]) for r in group]
        spans = [[m - number(r["lo"]) for m, r in zip(y, group, strict=True)],
                 [number(r["hi"]) - m for m, r in zip(y, group, strict=True)]]
        ax.errorbar(x, y, yerr=spans, color=COLORS[i % len(COLORS)], marker="o", markersize=4, capsize=2.5,
                    label=name)
    ax.set_xticks(sorted({number(r["x"]) for r in rows}))
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    fig.legend(title=f"bars: {interval}", loc="outside lower center", ncols=min(len(group_by(rows, "group")), 4))
    return fig


_PORTABLE = {
    fn.__name__: fn
    for fn in (
        read_rows,
        number,
        is_number,
        group_by,
        note,
        render,
        band_note,
        draw_learning_curves,
        draw_param_curve,
        draw_bars,
        draw_calibration,
        draw_brier,
        draw_reliability,
        draw_interval_curves,
    )
}


# ============================================================ files and scripts


@dataclass(frozen=True)
class FigureFiles:
    """Where one figure went: the image, the numbers drawn, and the script that redraws it."""

    figure: Path
    data: Path
    script: Path

    @classmethod
    def beside(cls, out: Path | str) -> FigureFiles:
        """The three paths for ``out``; checks the format first so a bad name writes nothing."""
        out = Path(out)
        if out.suffix.lower() not in FORMATS:
            raise HunchError(
                f"cannot draw a figure as '{out.suffix or out.name}'",
                where=str(out),
                fix=f"name the output with one of {', '.join(FORMATS)}",
            )
        return cls(out, out.with_name(f"{out.stem}.csv"), out.with_name(f"{out.stem}_plot.py"))


_SCRIPT_HEAD = '''"""Redraw {figure} from {data}: restyle freely, then run `python {script} [OUT]`.

Written by hunchlab; needs only matplotlib. OUT defaults to {figure} beside this file.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

{axes}from matplotlib.figure import Figure

STYLE = {{
{style}}}

COLORS = {colors!r}
'''

_SCRIPT_MAIN = """if __name__ == "__main__":
    HERE = Path(__file__).resolve().parent
    OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / {figure!r}
    render(HERE / {data!r}, OUT, {draw}, {options!r})
"""


def _global_names(code: types.CodeType) -> set[str]:
    """Names a function looks up globally, including inside its comprehensions and lambdas."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _portable_closure(draw: Callable[..., Figure]) -> list[Callable[..., Any]]:
    """``render``, ``draw`` and every portable function they call: all a script must define."""
    found: dict[str, Callable[..., Any]] = {}
    todo: list[Callable[..., Any]] = [render, draw]
    while todo:
        fn = todo.pop()
        if fn.__name__ not in found:
            found[fn.__name__] = fn
            todo.extend(_PORTABLE[name] for name in _global_names(fn.__code__) if name in _PORTABLE)
    return [fn for name, fn in _PORTABLE.items() if name in found]  # source order reads top-down


def _script_source(files: FigureFiles, draw: Callable[..., Figure], options: Mapping[str, Any]) -> str:
    """A standalone script whose functions are this module's own, so both draw the same figure."""
    functions = [inspect.getsource(fn) for fn in _portable_closure(draw)]
    head = _SCRIPT_HEAD.format(
        figure=files.figure.name,
        data=files.data.name,
        script=files.script.name,
        axes="from matplotlib.axes import Axes\n" if any("Axes" in f for f in functions) else "",
        style="".join(f"    {key!r}: {value!r},\n" for key, value in STYLE.items()),
        colors=COLORS,
    )
    main = _SCRIPT_MAIN.format(
        figure=files.figure.name, data=files.data.name, draw=draw.__name__, options=dict(options)
    )
    return "\n\n".join([head, *functions, main])


def _cell(value: Any) -> str:
    """One CSV cell: blank for a missing value, 12 significant digits for a float (no float noise)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.12g}"
    return str(value)


def _write_figure(
    files: FigureFiles,
    fields: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    draw: Callable[..., Figure],
    options: Mapping[str, Any],
) -> FigureFiles:
    """Write the CSV and script, then draw the figure from that CSV exactly as the script would."""
    files.figure.parent.mkdir(parents=True, exist_ok=True)
    with open(files.data, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(row.get(k)) for k in fields} for row in rows)
    files.script.write_text(_script_source(files, draw, options), encoding="utf-8")
    render(files.data, files.figure, draw, dict(options))
    return files


# ============================================================ data half


def _mean_band(values: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a runs × points matrix (NaN = no value): mean, band low, band high, n.

    The band is the 95% t-interval of the mean (as ``stats.mean_ci``) or the min–max, and
    NaN where fewer than two runs have a value. Vectorised rather than calling
    ``mean_ci`` per point, because curves logged every step have tens of thousands.
    """
    from scipy.special import stdtrit

    present = ~np.isnan(values)
    n = present.sum(axis=0)
    mean = np.nansum(values, axis=0) / np.maximum(n, 1)
    if band == "minmax":
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    else:
        squares = np.where(present, values - mean, 0.0) ** 2
        sd = np.sqrt(squares.sum(axis=0) / np.maximum(n - 1, 1))
        half = stdtrit(np.maximum(n - 1, 1), 0.975) * sd / np.sqrt(np.maximum(n, 1))
        lo, hi = mean - half, mean + half
    alone = n < 2
    return mean, np.where(alone, np.nan, lo), np.where(alone, np.nan, hi), n


def _run_curve(points: Iterable[Sequence[float]], smooth: int) -> tuple[np.ndarray, np.ndarray]:
    """One run's (x, y) sorted by x, the last value kept for a repeated x, then smoothed.

    The trailing average of ``smooth`` points only looks back, so a curve never shows
    a value before the run reached it.
    """
    by_x = {float(x): float(y) for x, y in points if y is not None}
    x = np.array(sorted(by_x))
    y = np.array([by_x[v] for v in x])
    if smooth > 1 and y.size:
        total = np.concatenate([[0.0], np.cumsum(y)])
        start = np.maximum(np.arange(1, y.size + 1) - smooth, 0)
        y = (total[1:] - total[start]) / (np.arange(1, y.size + 1) - start)
    return x, y


def _aligned(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Runs logged at different x on the union of their x: interpolated inside a run, NaN outside."""
    xs = np.unique(np.concatenate([x for x, _ in curves]))
    matrix = np.full((len(curves), xs.size), np.nan)
    for i, (x, y) in enumerate(curves):
        inside = (xs >= x[0]) & (xs <= x[-1])
        matrix[i, inside] = np.interp(xs[inside], x, y)
    return xs, matrix


def _evenly_spaced(n: int) -> np.ndarray:
    """Indices of at most MAX_CURVE_POINTS of ``n`` points, first and last always kept.

    Kept points are real aggregates (nothing is averaged away); use ``smooth`` to tame
    noise before thinning.
    """
    return np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int))


def _learning_rows(series: Sequence[Mapping[str, Any]], metric: str, smooth: int, band: str) -> list[dict[str, Any]]:
    """The long-format rows of one metric's panel: one row per group and x."""
    rows = []
    for group in series:
        curves = [_run_curve(run["metrics"].get(metric, ()), smooth) for run in group["runs"]]
        curves = [c for c in curves if c[0].size]
        if not curves:
            continue
        xs, matrix = _aligned(curves)
        keep = _evenly_spaced(xs.size)
        mean, lo, hi, n = (column[keep] for column in _mean_band(matrix, band))
        rows += [
            {"metric": metric, "group": group["label"], "x": x, "mean": m, "lo": a, "hi": b, "n": int(k)}
            for x, m, a, b, k in zip(xs[keep], mean, lo, hi, n, strict=True)
        ]
    if not rows:
        logged = {m for group in series for run in group["runs"] for m in run["metrics"]}
        raise HunchError(
            f"no run logged metric '{metric}'{did_you_mean(metric, logged)}",
            fix=f"logged metrics: {', '.join(sorted(logged)) or 'none'}",
        )
    return rows


def learning_curves(
    series: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    out: Path | str,
    x_label: str = "step",
    smooth: int = 0,
    band: str = "ci",
) -> FigureFiles:
    """Metric against step (or time): a mean line and a band over each group's runs, a panel per metric.

    ``series`` is ``[{"label", "runs": [{"run_id", "metrics": {metric: [(x, y), ...]}}]}]``.
    ``band`` is ``"ci"`` (95% t-interval of the mean across runs at each x) or ``"minmax"``;
    ``smooth=N`` averages each run over its last N points before runs are combined. Curves
    longer than MAX_CURVE_POINTS are drawn (and saved) at that many evenly spaced x values.
    """
    files = FigureFiles.beside(out)
    if band not in BANDS:
        raise HunchError(f"unknown band {band!r}", fix="use 'ci' (95% CI of the mean) or 'minmax'")
    if smooth < 0:
        raise HunchError(f"smooth must be 0 or more points, got {smooth}")
    if not metrics:
        raise HunchError("no metric to plot", fix="name at least one metric")
    rows = [row for metric in metrics for row in _learning_rows(series, metric, smooth, band)]
    fields = ("metric", "group", "x", "mean", "lo", "hi", "n")
    options = {"x_label": x_label, "band": band, "smooth": smooth}
    return _write_figure(files, fields, rows, draw_learning_curves, options)


def _param_rows(point: Mapping[str, Any], metric: str) -> list[dict[str, Any]]:
    """One swept value's rows: each seed, then their mean with its 95% CI."""
    values = [float(v) for v in point["values"] if v is not None]
    if not values:
        return []
    mean, lo, hi, n = _mean_band(np.array(values)[:, None], "ci")
    common = {"group": point.get("group") or metric, "x": point["x"]}
    seeds = [{**common, "role": "seed", "y": v, "n": 1} for v in values]
    return [*seeds, {**common, "role": "mean", "y": mean[0], "lo": lo[0], "hi": hi[0], "n": int(n[0])}]


def param_curve(points: Sequence[Mapping[str, Any]], param: str, metric: str, out: Path | str) -> FigureFiles:
    """A metric against a swept parameter: mean ± 95% CI over seeds, seeds as faint dots.

    ``points`` is ``[{"group", "x", "values": [per-seed metric]}]``. A numeric parameter
    gets a sorted axis (logarithmic when it spans more than two decades), anything else
    a category axis in the given order.
    """
    files = FigureFiles.beside(out)
    rows = [row for point in points for row in _param_rows(point, metric)]
    if not rows:
        raise HunchError(
            f"no values of '{metric}' to plot against '{param}'", fix="finish at least one run of the sweep"
        )
    fields = ("group", "x", "role", "y", "lo", "hi", "n")
    return _write_figure(files, fields, rows, draw_param_curve, {"param": param, "metric": metric})


def bar_chart(bars: Sequence[Mapping[str, Any]], out: Path | str, title: str = "", ylabel: str = "") -> FigureFiles:
    """Bars with error bars, in the order given (callers sort, e.g. largest first).

    ``bars`` is ``[{"label", "mean", "lo", "hi"}]``; ``lo``/``hi`` may be None (no error bar).
    """
    files = FigureFiles.beside(out)
    if not bars:
        raise HunchError("no bars to plot", fix="pass at least one labelled value")
    fields = ("label", "mean", "lo", "hi")
    return _write_figure(files, fields, bars, draw_bars, {"title": title, "ylabel": ylabel})


def interval_curves(points: Sequence[Mapping[str, Any]], out: Path | str, x_label: str, y_label: str,
                    interval: str = "95% interval") -> FigureFiles:
    """Lines through points whose interval the caller knows: ``[{"group", "x", "y", "lo", "hi"}]``.

    For numbers that are not means over seeds (``param_curve`` draws those), e.g. the share of
    test problems a method solved, with its Wilson interval; ``interval`` names it in the legend.
    """
    files = FigureFiles.beside(out)
    if not points:
        raise HunchError("no points to plot", fix="pass at least one point")
    fields = ("group", "x", "y", "lo", "hi")
    options = {"x_label": x_label, "y_label": y_label, "interval": interval}
    return _write_figure(files, fields, points, draw_interval_curves, options)


def _iso(text: str) -> str:
    """A timestamp any Python 3 can read back; aware times become UTC so they share one axis."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise HunchError(f"not an ISO date-time: {text!r}", fix="pass e.g. '2024-05-01T12:00:00'") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def reliability_diagram(
    bins: Sequence[Mapping[str, Any]], trend: Sequence[Mapping[str, Any]], out: Path | str
) -> FigureFiles:
    """Are stated probabilities honest? A reliability diagram beside the rolling Brier score.

    ``bins`` is ``[{"lo", "hi", "count", "mean_p", "freq", "freq_lo", "freq_hi"}]`` (the
    freq interval a 90% one); ``trend`` is ``[{"t": ISO date-time, "brier"}]``. Empty bins
    are left out: they have no frequency to draw.
    """
    files = FigureFiles.beside(out)
    calibration = [
        {
            "panel": "calibration",
            "x": b["mean_p"],
            "y": b["freq"],
            "y_lo": b["freq_lo"],
            "y_hi": b["freq_hi"],
            "count": b["count"],
        }
        for b in bins
        if b["count"]
    ]
    brier = sorted(({"panel": "brier", "x": _iso(p["t"]), "y": p["brier"]} for p in trend), key=lambda r: r["x"])
    if not calibration and not brier:
        raise HunchError("no resolved predictions to plot", fix="resolve some predictions first")
    fields = ("panel", "x", "y", "y_lo", "y_hi", "count")
    return _write_figure(files, fields, [*calibration, *brier], draw_reliability, {})
