"""Intervals for a mean over seeds or examples: t, percentile bootstrap, and per-group summaries.

A difference between two runs means nothing without knowing how much it moves from seed to seed,
so every mean ``hunch compare``, the sweep tables and the plots show carries its sample size and
an interval from here. The tests between two sides are in ``significance``, the correction for
testing many metrics at once in ``multiple_comparisons``, the paired test on examples in
``paired``, and the words a verdict may use in ``verdicts``.

t quantiles come from ``hunchlab.distributions`` (standard library), not scipy, whose import
alone was a fifth of ``hunch compare``'s cold start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hunchlab.distributions import t_ppf
from hunchlab.errors import BadInput, HunchError
from hunchlab.stat_inputs import ArrayLike, as_sample, check_confidence, check_resamples, mean_var
from hunchlab.stat_records import NO_INTERVAL_N1, BootstrapCI, Bounds, MeanCI

Statistic = Callable[..., Any]

# Indices drawn per resampling chunk: bounds memory at ~50 MB (indices plus gathered values) whatever n is,
# while keeping chunks large enough that numpy, not Python, does the work.
_CHUNK_INDICES = 2**22


def mean_ci(
    values: ArrayLike,
    confidence: float = 0.95,
    method: str = "t",
    n_resamples: int = 10_000,
    seed: int = 0,
    bounds: Bounds | None = None,
) -> MeanCI:
    """Interval for a mean: ``"t"`` suits a handful of seeds, ``"bootstrap"`` many skewed examples.

    With ``bounds`` (the metric's range) the interval is cut to it: two seeds of
    accuracy 0.92 and 0.98 have a t-interval of [0.76, 1.14], and accuracy cannot
    pass 1. Cutting never lowers the coverage, since the true mean is inside the
    range too; ``method`` then reads e.g. "t, cut to the range [0, 1]".
    """
    arr = as_sample(values)
    check_confidence(confidence)
    if method not in ("t", "bootstrap"):
        raise BadInput(f"unknown interval method {method!r}", where="stats", fix="use 't' or 'bootstrap'")
    _check_bounds(bounds)
    mean, var = mean_var(arr)
    lo, hi, reason = _mean_interval(arr, mean, var, confidence, method, n_resamples, seed)
    if bounds is not None and lo is not None and hi is not None and (lo < bounds[0] or hi > bounds[1]):
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
        method = f"{method}, cut to the range {range_text(bounds)}"
    return MeanCI(
        n=int(arr.size),
        mean=mean,
        std=math.sqrt(var) if arr.size > 1 else None,  # one seed says nothing about spread
        lo=lo,
        hi=hi,
        confidence=confidence,
        method=method,
        n_resamples=n_resamples if method.startswith("bootstrap") else None,
        reason=reason,
        bounds=bounds,
    )


def range_text(bounds: Bounds) -> str:
    """``[0, 1]``: a range as the spec writes it."""
    return f"[{bounds[0]:g}, {bounds[1]:g}]"


def _check_bounds(bounds: Bounds | None) -> None:
    if bounds is not None and not bounds[0] < bounds[1]:
        raise BadInput(f"a range must be [low, high] with low < high, got {list(bounds)}", where="stats")


def _mean_interval(
    arr: np.ndarray, mean: float, var: float, confidence: float, method: str, n_resamples: int, seed: int
) -> tuple[float | None, float | None, str | None]:
    """``(lo, hi, reason)``: no interval from one value, a point when there is no spread."""
    if arr.size < 2:
        return None, None, NO_INTERVAL_N1
    if var == 0.0:
        return mean, mean, None
    if method == "bootstrap":
        boot = bootstrap_ci(arr, np.mean, confidence=confidence, n_resamples=n_resamples, seed=seed)
        return boot.lo, boot.hi, None
    lo, hi = t_interval(mean, math.sqrt(var / arr.size), arr.size - 1, confidence)
    return lo, hi, None


def t_interval(centre: float, se: float, df: float, confidence: float) -> tuple[float, float]:
    """``centre`` plus and minus the two-sided t quantile times ``se`` (also Welch's interval)."""
    half = t_ppf((1.0 + confidence) / 2.0, df) * se
    return centre - half, centre + half


def _bootstrap_distribution(arr: np.ndarray, stat: Statistic, n_resamples: int, seed: int) -> np.ndarray:
    """``stat`` over ``n_resamples`` resamples, drawn in chunks so memory stays flat for large n.

    The chunk size depends only on ``arr.size``, so the same seed always yields the
    same distribution.
    """
    rng = np.random.default_rng(seed)
    n = arr.size
    rows = max(1, _CHUNK_INDICES // n)
    index_type = np.int32 if n < 2**31 else np.int64  # int32 draws are markedly faster
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n), dtype=index_type)
        out[start:stop] = _apply_rowwise(stat, arr[idx])
    return out


def _apply_rowwise(stat: Statistic, resamples: np.ndarray) -> np.ndarray:
    """Call ``stat`` once per chunk (``axis=1``), which is what makes the bootstrap fast."""
    try:
        result = np.asarray(stat(resamples, axis=1), dtype=float)
    except TypeError as exc:
        raise BadInput(
            "the bootstrap statistic must accept axis= like numpy reductions",
            where="stats",
            fix="pass e.g. np.mean or np.median, or a function f(x, axis) that reduces along axis",
        ) from exc
    if result.shape != (resamples.shape[0],):
        raise BadInput("the bootstrap statistic must reduce each resample to one number", where="stats")
    return result


def _percentile_interval(distribution: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(distribution, [tail, 1.0 - tail])
    return float(lo), float(hi)


def bootstrap_ci(
    values: ArrayLike,
    stat: Statistic = np.mean,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> BootstrapCI:
    """Percentile bootstrap: makes no normality assumption, so it suits skewed per-example scores.

    ``stat`` must reduce along ``axis=`` like numpy reductions (np.mean, np.median):
    it is called on whole blocks of resamples at once.
    """
    arr = as_sample(values)
    check_confidence(confidence)
    check_resamples(n_resamples)
    estimate = float(_apply_rowwise(stat, arr[np.newaxis, :])[0])
    lo, hi = _bootstrap_bounds(arr, stat, estimate, confidence, n_resamples, seed)
    return BootstrapCI(
        n=int(arr.size),
        estimate=estimate,
        lo=lo,
        hi=hi,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        reason=NO_INTERVAL_N1 if arr.size < 2 else None,
    )


def _bootstrap_bounds(
    arr: np.ndarray, stat: Statistic, estimate: float, confidence: float, n_resamples: int, seed: int
) -> tuple[float | None, float | None]:
    if arr.size < 2:
        return None, None
    if arr.min() == arr.max():  # every resample is the sample itself; resampling would only add rounding
        return estimate, estimate
    return _percentile_interval(_bootstrap_distribution(arr, stat, n_resamples, seed), confidence)


def aggregate_seeds(values_by_group: Mapping[str, ArrayLike], confidence: float = 0.95) -> dict[str, MeanCI]:
    """Per-group mean, std and t interval over seeds, in the mapping's order."""
    if not values_by_group:
        raise BadInput("no groups to aggregate", where="stats")
    out = {}
    for group, values in values_by_group.items():
        try:
            out[group] = mean_ci(values, confidence=confidence)
        except HunchError as exc:  # the same error, now naming the group it came from
            raise type(exc)(exc.what, where=f"group {group!r}", fix=exc.fix) from exc
    return out
