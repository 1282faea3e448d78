"""Paper-ready figures from plain data: one call writes the figure, its data and a script.

Each kind of figure here (learning curves, a metric against a swept param, bars,
a reliability diagram, or the caller's own) turns the caller's runs, seeds and bins
into the long-format rows of its CSV, checks them, and hands them with its portable
``draw_*`` function (``hunchlab.plot_drawing``) to ``figure_files.write_figure``, which
writes ``fig.csv``, the standalone ``fig_plot.py`` and the figure drawn from that CSV.
The group means and bands come from ``hunchlab.curves``, which also says why fewer than
``BAND_FROM`` = 5 runs get no band.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hunchlab.curves import BAND_FROM, BANDS, MAX_CURVE_POINTS, aligned, evenly_spaced, mean_band, run_curve
from hunchlab.errors import BadInput, NotFound, did_you_mean
from hunchlab.figure_files import FORMATS, FigureFiles, write_figure
from hunchlab.plot_drawing import draw_bars, draw_learning_curves, draw_param_curve, draw_reliability

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BAND_FROM", "FORMATS", "MAX_CURVE_POINTS", "FigureFiles", "bar_chart", "custom_figure",
           "learning_curves", "param_curve", "reliability_diagram"]


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
        raise NotFound(
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
        raise BadInput(f"unknown band {band!r}", fix="use 'ci' (95% CI of the mean) or 'minmax'")
    if smooth < 0:
        raise BadInput(f"smooth must be 0 or more points, got {smooth}")
    if not metrics:
        raise BadInput("no metric to plot", fix="name at least one metric")
    x_column = "step" if x_label == "step" else "time_s"
    rows = [row for metric in metrics for row in _learning_rows(series, metric, smooth, band, x_column)]
    fields = ("metric", "group", "line", x_column, "value", "band_lo", "band_hi", "n_runs")
    options = {"x_label": x_label, "x_column": x_column, "band": band, "smooth": smooth, "band_from": BAND_FROM}
    return write_figure(files, fields, rows, draw_learning_curves, options)


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
        raise BadInput(
            f"no values of '{metric}' to plot against '{param}'", fix="finish at least one run of the sweep"
        )
    fields = ("line", columns[0], "role", columns[1], "ci_lo", "ci_hi", "n_seeds")
    options = {"param": param, "metric": metric, "x_column": columns[0], "y_column": columns[1],
               "band_from": BAND_FROM}
    return write_figure(files, fields, rows, draw_param_curve, options)


def bar_chart(bars: Sequence[Mapping[str, Any]], out: Path | str, title: str = "", ylabel: str = "") -> FigureFiles:
    """Bars with error bars, in the order given (callers sort, e.g. largest first).

    ``bars`` is ``[{"label", "mean", "lo", "hi"}]``; ``lo``/``hi`` may be None (no error bar).
    """
    files = FigureFiles.beside(out)
    if not bars:
        raise BadInput("no bars to plot", fix="pass at least one labelled value")
    fields = ("label", "mean", "lo", "hi")
    return write_figure(files, fields, bars, draw_bars, {"title": title, "ylabel": ylabel})


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
        raise BadInput("no rows to plot", where=str(out), fix="pass at least one row of data")
    return write_figure(files, fields, rows, draw, options)


def _iso(text: str) -> str:
    """A timestamp any Python 3 can read back; aware times become UTC so they share one axis."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"not an ISO date-time: {text!r}", fix="pass e.g. '2024-05-01T12:00:00'") from exc
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
        raise BadInput("no resolved predictions to plot", fix="resolve some predictions first")
    fields = ("panel", "x", "y", "y_lo", "y_hi", "count")
    return write_figure(files, fields, [*calibration, *brier], draw_reliability, {})
