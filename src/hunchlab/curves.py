"""A group of runs' curves as one: each run's curve smoothed, all aligned on a shared x,
thinned, and their mean with a band — the numbers behind ``hunch plot``'s learning curves and
the dashboard's overlaid curves (``hunchlab.overlay``), so both draw a group alike.

Few seeds make misleading pictures: with 2 seeds a 95% t-band is +-12.7 standard
errors wide (a train loss band reaching -2 was seen). So below ``BAND_FROM`` = 5 runs
a group is drawn as each run's curve plus their mean, with no band; from 5 on, as the
mean with a band whose kind the legend names. The t quantile at 4 df is 2.78 and
shrinks slowly after, so 5 is where a t-band starts to describe the data rather than
the quantile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from hunchlab.distributions import t_ppf

BANDS = ("ci", "minmax")
BAND_FROM = 5  # runs in a group before a band is drawn instead of every run (module docstring)
# Points per curve: more than a 3-inch panel has pixels at 200 dpi, few enough that a
# 50k-step run does not make a megabyte SVG or PDF that LaTeX chokes on.
MAX_CURVE_POINTS = 1000


def mean_band(values: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a runs x points matrix (NaN = no value): mean, band low, band high, n.

    The band is the 95% t-interval of the mean (as ``stats.mean_ci``) or the min–max, and
    NaN where fewer than BAND_FROM runs have a value. Vectorised rather than calling
    ``mean_ci`` per point, because curves logged every step have tens of thousands;
    the t quantile is computed once per distinct run count.
    """
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
