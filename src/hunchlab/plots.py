"""Paper-ready figures from plain data: one call writes the figure, its data and a script.

A figure in a paper outlives the tool that drew it, so beside every ``fig.pdf`` this
module writes ``fig.csv`` (exactly the numbers drawn, one observation per row) and
``fig_plot.py`` (a standalone matplotlib script that redraws the figure from that CSV).
An author can then restyle, re-plot or audit the figure without hunchlab.

The *portable* half (``hunchlab.plot_drawing``: ``read_rows`` … ``draw_*``) draws from
CSV rows using only matplotlib and the standard library; the generated script contains
its source verbatim, and hunchlab itself draws by reading the CSV back through the very
same functions, so the script cannot drift from what hunchlab drew. This module is the
*data* half: it turns the caller's runs, seeds and bins into those rows with numpy.

Few seeds make misleading pictures: with 2 seeds a 95% t-band is +-12.7 standard
errors wide (a train loss band reaching -2 was seen). So below ``BAND_FROM`` = 5 runs
a group is drawn as each run's curve plus their mean, with no band; from 5 on, as the
mean with a band whose kind the legend names. The t quantile at 4 df is 2.78 and
shrinks slowly after, so 5 is where a t-band starts to describe the data rather than
the quantile.
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
from hunchlab.plot_drawing import (
    _PORTABLE,
    COLORS,
    STYLE,
    draw_bars,
    draw_learning_curves,
    draw_param_curve,
    draw_reliability,
    render,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "FigureFiles", "bar_chart", "custom_figure", "learning_curves", "param_curve",
           "reliability_diagram"]

FORMATS = (".png", ".pdf", ".svg")
BANDS = ("ci", "minmax")
BAND_FROM = 5  # runs in a group before a band is drawn instead of every run (module docstring)
# Points per curve: more than a 3-inch panel has pixels at 200 dpi, few enough that a
# 50k-step run does not make a megabyte SVG or PDF that LaTeX chokes on.
MAX_CURVE_POINTS = 1000

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
    own = [] if draw.__name__ in _PORTABLE else [draw]  # a caller's own draw (custom_figure) comes last
    return [fn for name, fn in _PORTABLE.items() if name in found] + own  # source order reads top-down


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


def mean_band(values: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a runs x points matrix (NaN = no value): mean, band low, band high, n.

    The band is the 95% t-interval of the mean (as ``stats.mean_ci``) or the min–max, and
    NaN where fewer than BAND_FROM runs have a value. Vectorised rather than calling
    ``mean_ci`` per point, because curves logged every step have tens of thousands;
    the t quantile is computed once per distinct run count.
    """
    from hunchlab.distributions import t_ppf

    present = ~np.isnan(values)
    n = present.sum(axis=0)
    mean = np.nansum(values, axis=0) / np.maximum(n, 1)
    if band == "minmax":
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    else:
        squares = np.where(present, values - mean, 0.0) ** 2
        sd = np.sqrt(squares.sum(axis=0) / np.maximum(n - 1, 1))
        quantile = {k: t_ppf(0.975, k - 1) for k in np.unique(n) if k >= 2}
        half = np.array([quantile.get(k, np.nan) for k in n]) * sd / np.sqrt(np.maximum(n, 1))
        lo, hi = mean - half, mean + half
    few = n < BAND_FROM
    return mean, np.where(few, np.nan, lo), np.where(few, np.nan, hi), n


def run_curve(points: Iterable[Sequence[float]], smooth: int) -> tuple[np.ndarray, np.ndarray]:
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


def aligned(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Runs logged at different x on the union of their x: interpolated inside a run, NaN outside."""
    xs = np.unique(np.concatenate([x for x, _ in curves]))
    matrix = np.full((len(curves), xs.size), np.nan)
    for i, (x, y) in enumerate(curves):
        inside = (xs >= x[0]) & (xs <= x[-1])
        matrix[i, inside] = np.interp(xs[inside], x, y)
    return xs, matrix


def evenly_spaced(n: int) -> np.ndarray:
    """Indices of at most MAX_CURVE_POINTS of ``n`` points, first and last always kept.

    Kept points are real aggregates (nothing is averaged away); use ``smooth`` to tame
    noise before thinning.
    """
    return np.unique(np.linspace(0, n - 1, min(n, MAX_CURVE_POINTS)).round().astype(int))


def _learning_rows(series: Sequence[Mapping[str, Any]], metric: str, smooth: int, band: str,
                   x_column: str = "step") -> list[dict[str, Any]]:
    """The long-format rows of one metric's panel: per group its mean (``line`` "mean") at every x,
    with the band from BAND_FROM runs on, and below that each run's own curve (``line`` = its id)."""
    rows = []
    for group in series:
        curves = [(run["run_id"], run_curve(run["metrics"].get(metric, ()), smooth)) for run in group["runs"]]
        curves = [(run_id, c) for run_id, c in curves if c[0].size]
        if not curves:
            continue
        common = {"metric": metric, "group": group["label"]}
        if 1 < len(curves) < BAND_FROM:
            for run_id, (x, y) in curves:
                keep = evenly_spaced(x.size)
                rows += [{**common, "line": run_id, x_column: a, "value": b, "n_runs": 1}
                         for a, b in zip(x[keep], y[keep], strict=True)]
        xs, matrix = aligned([c for _, c in curves])
        keep = evenly_spaced(xs.size)
        mean, lo, hi, n = (column[keep] for column in mean_band(matrix, band))
        rows += [{**common, "line": "mean", x_column: x, "value": m, "band_lo": a, "band_hi": b, "n_runs": int(k)}
                 for x, m, a, b, k in zip(xs[keep], mean, lo, hi, n, strict=True)]
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
    """Metric against step (or time): per group the mean over its runs, a panel per metric.

    ``series`` is ``[{"label", "runs": [{"run_id", "metrics": {metric: [(x, y), ...]}}]}]``.
    A group of fewer than BAND_FROM runs shows each run and their mean; from BAND_FROM on,
    the mean with a band: ``"ci"`` (95% t-interval of the mean across runs at each x) or
    ``"minmax"``. ``smooth=N`` averages each run over its last N points before runs are
    combined. Curves longer than MAX_CURVE_POINTS are drawn (and saved) at that many
    evenly spaced x values. The CSV has a row per drawn point: ``line`` is "mean" or a
    run's id, the x column is named for the axis (``step`` or ``time_s``).
    """
    files = FigureFiles.beside(out)
    if band not in BANDS:
        raise HunchError(f"unknown band {band!r}", fix="use 'ci' (95% CI of the mean) or 'minmax'")
    if smooth < 0:
        raise HunchError(f"smooth must be 0 or more points, got {smooth}")
    if not metrics:
        raise HunchError("no metric to plot", fix="name at least one metric")
    x_column = "step" if x_label == "step" else "time_s"
    rows = [row for metric in metrics for row in _learning_rows(series, metric, smooth, band, x_column)]
    fields = ("metric", "group", "line", x_column, "value", "band_lo", "band_hi", "n_runs")
    options = {"x_label": x_label, "x_column": x_column, "band": band, "smooth": smooth, "band_from": BAND_FROM}
    return _write_figure(files, fields, rows, draw_learning_curves, options)


def _param_columns(param: str, metric: str) -> tuple[str, str]:
    """The CSV's x and y columns are named for the param and the metric (``param_value`` if a name is taken)."""
    taken = {"line", "role", "ci_lo", "ci_hi", "n_seeds"}
    x = param if param not in taken else "param_value"
    y = metric if metric not in taken | {x} else "metric_value"
    return x, y


def _param_rows(point: Mapping[str, Any], columns: tuple[str, str]) -> list[dict[str, Any]]:
    """One swept value's rows: each seed, then their mean, with its 95% CI from BAND_FROM seeds on."""
    values = [float(v) for v in point["values"] if v is not None]
    if not values:
        return []
    x_column, y_column = columns
    mean, lo, hi, n = mean_band(np.array(values)[:, None], "ci")
    common = {"line": point.get("line") or "all runs", x_column: point["x"]}
    seeds = [{**common, "role": "seed", y_column: v, "n_seeds": 1} for v in values]
    return [*seeds, {**common, "role": "mean", y_column: mean[0], "ci_lo": lo[0], "ci_hi": hi[0], "n_seeds": int(n[0])}]


def param_curve(points: Sequence[Mapping[str, Any]], param: str, metric: str, out: Path | str) -> FigureFiles:
    """A metric against a swept parameter: every seed as a dot, their mean, a 95% CI from BAND_FROM seeds on.

    ``points`` is ``[{"line", "x", "values": [per-seed metric]}]`` (``line`` names what
    sets one line apart, e.g. the groups' other params; None when there is one line). A
    numeric parameter gets a sorted axis (logarithmic when it spans more than two
    decades), anything else a category axis in the given order.
    """
    files = FigureFiles.beside(out)
    columns = _param_columns(param, metric)
    rows = [row for point in points for row in _param_rows(point, columns)]
    if not rows:
        raise HunchError(
            f"no values of '{metric}' to plot against '{param}'", fix="finish at least one run of the sweep"
        )
    fields = ("line", columns[0], "role", columns[1], "ci_lo", "ci_hi", "n_seeds")
    options = {"param": param, "metric": metric, "x_column": columns[0], "y_column": columns[1],
               "band_from": BAND_FROM}
    return _write_figure(files, fields, rows, draw_param_curve, options)


def bar_chart(bars: Sequence[Mapping[str, Any]], out: Path | str, title: str = "", ylabel: str = "") -> FigureFiles:
    """Bars with error bars, in the order given (callers sort, e.g. largest first).

    ``bars`` is ``[{"label", "mean", "lo", "hi"}]``; ``lo``/``hi`` may be None (no error bar).
    """
    files = FigureFiles.beside(out)
    if not bars:
        raise HunchError("no bars to plot", fix="pass at least one labelled value")
    fields = ("label", "mean", "lo", "hi")
    return _write_figure(files, fields, bars, draw_bars, {"title": title, "ylabel": ylabel})


def custom_figure(rows: Sequence[Mapping[str, Any]], fields: Sequence[str], draw: Callable[..., Figure],
                  out: Path | str, **options: Any) -> FigureFiles:
    """A figure drawn by the caller's own ``draw(rows, **options) -> Figure``, with its CSV and script.

    For figures this module has no kind for (a study's heat maps). ``draw`` must be
    portable as the functions above are: a module-level function that imports
    matplotlib inside itself and calls nothing but the standard library and this
    module's portable helpers (``number``, ``group_by``, ...), because its source
    is copied into the script that redraws the figure.
    """
    files = FigureFiles.beside(out)
    if not rows:
        raise HunchError("no rows to plot", where=str(out), fix="pass at least one row of data")
    return _write_figure(files, fields, rows, draw, options)


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
