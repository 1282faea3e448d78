"""One metric's curves across the sides of a comparison, on one shared x: what the dashboard
overlays in a single chart per metric, one legend entry per side.

Each side is a run or a seed group. Its curve is the mean over its seeds; how the spread is
shown depends on how many seeds there are (the few-seed rule of issue 15, as in
``hunch plot``): below ``plots.BAND_FROM`` = 5 the seeds' own curves come with the mean,
because a 95% t-interval from 2 seeds is ±12.7 standard errors wide and draws a band far
outside anything observed; from 5 on, the mean comes with that interval as a band, named
in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple, TypedDict

from hunchlab import readsql as q
from hunchlab.compare_sides import labels_for, pick_sides
from hunchlab.current import current_store
from hunchlab.curves import BAND_FROM, aligned, evenly_spaced, mean_band, run_curve
from hunchlab.project import Project
from hunchlab.selectors import resolve

BAND = "95% t-interval of the mean"


class SeedCurve(TypedDict):
    run_id: str
    seed: int | None
    y: list[float | None]


class SideCurve(TypedDict):
    label: str
    n: int  # runs (seeds) with this metric
    mean: list[float | None]
    lo: list[float | None]  # the band, from BAND_FROM seeds on (all None below)
    hi: list[float | None]
    band: str | None  # what the band is, for the legend
    seeds: list[SeedCurve]  # each seed's curve, below BAND_FROM seeds


class Chart(TypedDict):
    metric: str
    x: list[float]
    groups: list[SideCurve]


class _Side(NamedTuple):
    """One side's curve on its own x (numpy arrays), before the sides share one x."""

    label: str
    x: Any
    mean: Any
    lo: Any  # None below BAND_FROM seeds
    hi: Any
    seeds: list[tuple[str, int | None, Any]]  # (run id, seed, values), below BAND_FROM seeds
    n: int


def compare_curves(selectors: Sequence[str], metrics: Sequence[str] = (), *,
                   project: Project | None = None) -> dict[str, Any]:
    """Per logged metric (or those named), each side's curve on one shared x."""
    with current_store(project) as store, store.read() as conn:
        picked = pick_sides(resolve(selectors, q.all_runs(conn), store.resolve_run))
        ids = [r["id"] for _, g in picked for r in g.runs]
        logged = sorted({k for values in q.last_values(conn, ids).values() for k in values})
        wanted = [m for m in metrics if m in logged] if metrics else logged
        history = q.histories(conn, ids, wanted)
    labels = labels_for(picked)
    charts = []
    for metric in wanted:
        sides = [_side(label, [(r, history.get(r["id"], {}).get(metric, ())) for r in g.runs])
                 for label, (_, g) in zip(labels, picked, strict=True)]
        present = [s for s in sides if s is not None]
        if present:
            charts.append(_on_shared_x(metric, present))
    return {"labels": labels, "metrics": logged, "charts": charts, "band_min_seeds": BAND_FROM}


def _side(label: str, runs: list[tuple[dict[str, Any], Sequence[tuple[Any, ...]]]]) -> _Side | None:
    """One side on its own x, thinned to at most MAX_CURVE_POINTS; None when no run has a point."""
    curves = [(r, run_curve(((step, v) for step, _, v in points), 0)) for r, points in runs]
    curves = [(r, c) for r, c in curves if c[0].size]
    if not curves:
        return None
    xs, matrix = aligned([c for _, c in curves])
    keep = evenly_spaced(xs.size)
    xs, matrix = xs[keep], matrix[:, keep]
    mean, lo, hi, _ = mean_band(matrix, "ci")
    banded = len(curves) >= BAND_FROM
    seeds = [] if banded else [(r["id"], r.get("seed"), row) for (r, _), row in zip(curves, matrix, strict=True)]
    return _Side(label, xs, mean, lo if banded else None, hi if banded else None, seeds, len(curves))


def _on_shared_x(metric: str, sides: list[_Side]) -> Chart:
    """Every side's arrays placed on the union of their x (None where a side has no point)."""
    import numpy as np

    xs = np.unique(np.concatenate([side.x for side in sides]))
    groups: list[SideCurve] = []
    for label, own_x, mean, lo, hi, seeds, n in sides:
        at = np.searchsorted(xs, own_x)

        def place(values: Any, at: Any = at) -> list[float | None]:
            out: list[float | None] = [None] * xs.size
            for i, v in zip(at, values, strict=True):
                out[int(i)] = _finite(v)
            return out

        nothing: list[float | None] = [None] * xs.size
        groups.append({"label": label, "n": n, "mean": place(mean), "lo": nothing if lo is None else place(lo),
                       "hi": nothing if hi is None else place(hi), "band": None if lo is None else f"{BAND}, {n} seeds",
                       "seeds": [{"run_id": run_id, "seed": seed, "y": place(row)} for run_id, seed, row in seeds]})
    return {"metric": metric, "x": [float(x) for x in xs], "groups": groups}


def _finite(v: Any) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)

