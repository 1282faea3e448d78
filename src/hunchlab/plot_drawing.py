"""The portable half of ``hunchlab.plots``: draw a figure from the rows of its CSV.

Every function here uses only matplotlib, the standard library, STYLE, COLORS and
each other, because ``figure_files`` copies them verbatim into each figure's ``*_plot.py``:
the script that redraws a figure runs the very code hunchlab drew it with, so the two
cannot drift. matplotlib is imported inside the functions, and figures are drawn on a
bare ``Figure`` (no pyplot), so no backend is switched in a host process.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# Okabe–Ito: distinguishable under the common colour-vision deficiencies and in greyscale
# print; yellow comes last because it is faint on white.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

STYLE: dict[RcKeyType, Any] = {
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


def band_note(band: str, runs: list[int], smooth: int, band_from: int, cut: bool) -> str | None:
    """The legend title that says what every line and band is, so no reader has to guess."""
    parts = []
    banded = sorted({n for n in runs if n >= band_from})
    if banded:
        over = f"{banded[0]}" if len(banded) == 1 else f"{banded[0]}–{banded[-1]}"
        kind = "95% t-interval of the mean" if band == "ci" else "min–max"
        parts.append(f"band: {kind} over {over} runs" + (", cut at the axes" if cut else ""))
    if any(1 < n < band_from for n in runs):
        parts.append(f"thin: each run, thick: their mean (no band below {band_from} runs)")
    if smooth > 1:
        parts.append(f"trailing mean of {smooth} points")
    return "\n".join(parts) or None


def keep_in_view(ax: Axes, values: list[float], bands: list[float]) -> bool:
    """Limit the y axis to the data when a band reaches far past it; True when the band is cut.

    A band may extend half the data's span beyond it before the axis stops following,
    so a wide band is still seen to be wide, but never squeezes the curves into a line.
    """
    finite = [v for v in values if not math.isnan(v)]
    edges = [v for v in bands if not math.isnan(v)]
    if not finite or not edges:
        return False
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or abs(hi) or 1.0
    floor, ceiling = max(min(edges), lo - 0.5 * span), min(max(edges), hi + 0.5 * span)
    if floor <= min(edges) and ceiling >= max(edges):
        return False
    ax.set_ylim(min(floor, lo) - 0.05 * span, max(ceiling, hi) + 0.05 * span)
    return True


def draw_learning_curves(rows: list[dict[str, str]], x_label: str, x_column: str, band: str, smooth: int,
                         band_from: int) -> Figure:
    """One panel per metric; per group its mean (thick), and each run (thin) or a band over them."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    panels = group_by(rows, "metric")
    order = list(group_by(rows, "group"))  # one colour per group across all panels
    fig = Figure(figsize=(0.6 + 3.2 * len(panels), 3.2), layout="constrained")
    handles: dict[str, tuple[Any, ...]] = {}
    runs: dict[str, int] = {}
    cut = False
    for ax, (metric, panel_rows) in zip(fig.subplots(1, len(panels), squeeze=False)[0], panels.items(), strict=True):
        values: list[float] = []
        bands: list[float] = []
        for name, group in group_by(panel_rows, "group").items():
            color = COLORS[order.index(name) % len(COLORS)]
            lines = group_by(group, "line")
            for line, points in lines.items():
                x, y = [number(r[x_column]) for r in points], [number(r["value"]) for r in points]
                values += y
                if line != "mean":
                    ax.plot(x, y, color=color, linewidth=0.7, alpha=0.45)
                    continue
                (mean,) = ax.plot(x, y, color=color, linewidth=2.2 if len(lines) > 1 else 1.6)
                lo, hi = [number(r["band_lo"]) for r in points], [number(r["band_hi"]) for r in points]
                entry: tuple[Any, ...] = (mean,)
                if any(not math.isnan(v) for v in lo):
                    ax.fill_between(x, lo, hi, color=color, alpha=0.2, linewidth=0)
                    entry, bands = (Patch(color=color, alpha=0.2, linewidth=0), mean), bands + lo + hi
                handles.setdefault(name, entry)
                runs[name] = max(runs.get(name, 0), *(int(r["n_runs"]) for r in points))
        cut = keep_in_view(ax, values, bands) or cut
        ax.set_xlabel(x_label)
        ax.set_ylabel(metric)
    # A (band, line) tuple is a valid handle (matplotlib's HandlerTuple); the stubs allow only one Artist.
    fig.legend(  # type: ignore[call-overload]
        list(handles.values()), [f"{name} (n={runs[name]})" for name in handles],
        title=band_note(band, list(runs.values()), smooth, band_from, cut), loc="outside lower center",
        ncols=min(len(handles), 4))
    return fig


def readable_ticks(ax: Axes, numeric: bool, log: bool) -> None:
    """Tick labels that never run together: powers of ten on a log axis, few short labels on a linear one.

    ``--x lr`` over 0.0002..0.001 used to print "0.00060.00080.0010": five long labels
    side by side. A shared offset (``1e-4``) keeps each label to a digit or two.
    """
    from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator, NullFormatter

    if not numeric:
        return
    if log:
        ax.xaxis.set_major_formatter(LogFormatterSciNotation())
        ax.xaxis.set_minor_formatter(NullFormatter())
        return
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 4), useMathText=True)


def draw_param_curve(rows: list[dict[str, str]], param: str, metric: str, x_column: str, y_column: str,
                     band_from: int) -> Figure:
    """Every seed as a dot and their mean per swept value, one line per group; a 95% CI from band_from seeds."""
    from matplotlib.figure import Figure

    values = list(dict.fromkeys(r[x_column] for r in rows))
    numeric = all(is_number(v) for v in values)
    position = {v: float(v) if numeric else float(i) for i, v in enumerate(values)}
    groups = group_by(rows, "line")
    fig = Figure(figsize=(4.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    few = False
    for i, (name, group) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        # Side by side on a category axis so the groups' dots and bars do not overlap.
        shift = 0.0 if numeric else 0.12 * (i - (len(groups) - 1) / 2)
        seeds = [r for r in group if r["role"] == "seed"]
        means = sorted((r for r in group if r["role"] == "mean"), key=lambda r: position[r[x_column]])
        ax.scatter([position[r[x_column]] + shift for r in seeds], [number(r[y_column]) for r in seeds],
                   s=12, color=color, alpha=0.35, linewidths=0)
        x, y = [position[r[x_column]] + shift for r in means], [number(r[y_column]) for r in means]
        n = max(int(r["n_seeds"]) for r in means)
        ax.plot(x, y, color=color, marker="o", markersize=4, linestyle="-" if numeric else "none",  # no invented order
                label=f"{name} (n={n})")
        known = [j for j, r in enumerate(means) if r["ci_lo"] and r["ci_hi"]]
        few = few or len(known) < len(means)
        ax.errorbar([x[j] for j in known], [y[j] for j in known],
                    yerr=[[y[j] - number(means[j]["ci_lo"]) for j in known],
                          [number(means[j]["ci_hi"]) - y[j] for j in known]],
                    fmt="none", ecolor=color, elinewidth=1, capsize=2.5)
    log = numeric and min(position.values()) > 0 and max(position.values()) > 100 * min(position.values())
    if log:
        ax.set_xscale("log")
    readable_ticks(ax, numeric, log)
    if not numeric:
        ax.set_xticks(list(position.values()), values)
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    title = "mean ± 95% CI; dots: seeds" + (f" (no CI below {band_from} seeds)" if few else "")
    fig.legend(title=title, loc="outside lower center", ncols=min(len(groups), 4))
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
    known_means = [means[i] for i in known]
    points: tuple[Sequence[float], Sequence[float]] = (known_means, known) if horizontal else (known, known_means)
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
        # matplotlib's date converter plots datetimes; its stubs list only numbers, strings and arrays.
        ax.plot(when, scores, color=COLORS[1], marker=marker, markersize=3,  # type: ignore[arg-type]
                label="rolling Brier score")
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


# By name: what ``figure_files`` may copy into a script (a draw function's closure is looked up here).
PORTABLE = {
    fn.__name__: fn
    for fn in (
        read_rows,
        number,
        is_number,
        group_by,
        note,
        render,
        band_note,
        keep_in_view,
        readable_ticks,
        draw_learning_curves,
        draw_param_curve,
        draw_bars,
        draw_calibration,
        draw_brier,
        draw_reliability,
    )
}
