"""Honest statistics behind ``hunch compare``: intervals and tests over seeds and examples.

A difference between two runs means nothing without knowing how much it moves
from seed to seed, so every result here carries its sample sizes, an interval
and a test. The paired test on examples is in ``hunchlab.paired``, the power of a
comparison in ``hunchlab.power``, and the plain-language verdicts that never claim
more than the numbers support in ``hunchlab.verdicts``.

Sample-based functions take 1-D sequences of finite numbers. Results are frozen
dataclasses whose ``to_dict()`` gives plain, JSON-serialisable values; a
quantity that cannot be computed (an interval from one seed, a test between two
sides that never vary) is ``None`` with a ``reason`` rather than NaN or a made-up
0 or 1, because NaN is not valid JSON and an invented p enters the Holm family as
if it were a test.

t quantiles come from ``hunchlab.distributions`` (standard library), not scipy,
whose import alone was a fifth of ``hunch compare``'s cold start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from hunchlab.distributions import t_ppf, t_sf
from hunchlab.errors import HunchError

ArrayLike = Sequence[float] | np.ndarray
Statistic = Callable[..., Any]

NO_INTERVAL_N1 = "n=1: no interval possible — run more seeds"
EXACT_MCNEMAR_BELOW = 25
# Indices drawn per resampling chunk: bounds memory at ~50 MB (indices plus gathered values) whatever n is,
# while keeping chunks large enough that numpy, not Python, does the work.
_CHUNK_INDICES = 2**22
ZERO_VARIANCE = "zero variance on both sides: every seed gave the same value, so there is no noise estimate to test against"
Bounds = tuple[float, float]


@dataclass(frozen=True)
class _Result:
    def to_dict(self) -> dict[str, Any]:
        """Nested plain dicts, so the CLI can ``json.dumps`` any result."""
        return asdict(self)


@dataclass(frozen=True)
class MeanCI(_Result):
    """A mean with its spread and interval; ``lo``/``hi`` are None when n < 2.

    ``bounds`` is the range the metric lives in (accuracy: 0 to 1); an interval that
    would leave it is cut to it, and ``method`` says so.
    """

    n: int
    mean: float
    std: float | None
    lo: float | None
    hi: float | None
    confidence: float
    method: str
    n_resamples: int | None = None
    reason: str | None = None
    bounds: Bounds | None = None


@dataclass(frozen=True)
class BootstrapCI(_Result):
    """A percentile-bootstrap interval, with the seed and resample count that reproduce it."""

    n: int
    estimate: float
    lo: float | None
    hi: float | None
    confidence: float
    n_resamples: int
    seed: int
    reason: str | None = None


@dataclass(frozen=True)
class WelchResult(_Result):
    """Welch's t-test of ``mean(b) - mean(a)``; no interval, t, df or p when both variances are 0."""

    n_a: int
    n_b: int
    diff: float
    lo: float | None
    hi: float | None
    t: float | None
    df: float | None
    p: float | None
    confidence: float
    se: float = 0.0  # standard error of the difference
    note: str | None = None



@dataclass(frozen=True)
class McNemarResult(_Result):
    """McNemar's test on paired correctness; ``method`` names the test actually used."""

    n: int
    b01: int
    b10: int
    statistic: float
    p: float
    method: str





def _sample(values: ArrayLike, name: str = "values") -> np.ndarray:
    """Validate early so a failed run's NaN or an empty list is reported, not averaged."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise HunchError(f"{name} must be numbers ({exc})", where="stats") from exc
    if arr.ndim != 1:
        raise HunchError(f"{name} must be a flat list of numbers, got shape {arr.shape}", where="stats")
    if arr.size == 0:
        raise HunchError(f"{name} is empty", where="stats", fix="record at least one run or example")
    if not np.isfinite(arr).all():
        raise HunchError(
            f"{name} contains NaN or infinity",
            where="stats",
            fix="find the run that produced a non-finite metric and rerun or drop it",
        )
    return arr


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise HunchError(f"confidence must be between 0 and 1, got {confidence}", where="stats")


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise HunchError(f"n_resamples must be at least 1, got {n_resamples}", where="stats")


def _check_p(p: float, name: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise HunchError(f"{name} must be between 0 and 1, got {p}", where="stats")


# ---------------------------------------------------------------- intervals


def _mean_var(arr: np.ndarray) -> tuple[float, float]:
    """Mean and sample (n-1) variance, exact when every value is equal.

    Floating-point summation makes ``np.var([0.8] * 3)`` about 1e-32, not 0, which
    would turn "every seed gave the same value" into a spuriously certain t-test.
    """
    if arr.min() == arr.max():  # also covers n=1
        return float(arr[0]), 0.0
    return float(arr.mean()), float(arr.var(ddof=1))


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
    arr = _sample(values)
    _check_confidence(confidence)
    if method not in ("t", "bootstrap"):
        raise HunchError(f"unknown interval method {method!r}", where="stats", fix="use 't' or 'bootstrap'")
    _check_bounds(bounds)
    mean, var = _mean_var(arr)
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
        raise HunchError(f"a range must be [low, high] with low < high, got {list(bounds)}", where="stats")


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
    lo, hi = _t_interval(mean, math.sqrt(var / arr.size), arr.size - 1, confidence)
    return lo, hi, None


def _t_interval(centre: float, se: float, df: float, confidence: float) -> tuple[float, float]:
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
        raise HunchError(
            "the bootstrap statistic must accept axis= like numpy reductions",
            where="stats",
            fix="pass e.g. np.mean or np.median, or a function f(x, axis) that reduces along axis",
        ) from exc
    if result.shape != (resamples.shape[0],):
        raise HunchError("the bootstrap statistic must reduce each resample to one number", where="stats")
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
    arr = _sample(values)
    _check_confidence(confidence)
    _check_resamples(n_resamples)
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


# ---------------------------------------------------------------- tests


def welch_t(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> WelchResult:
    """Welch's t-test of ``mean(b) - mean(a)``: does not assume the two runs are equally noisy.

    When every value on both sides is the same there is no noise estimate: the
    difference is reported, but no interval, t, df or p (scipy returns NaN there),
    because a p of 0 from two seeds of 0.8 against two of 0.9 would claim a
    certainty that nothing measured.
    """
    x, y = _sample(a, "a"), _sample(b, "b")
    _check_confidence(confidence)
    if x.size < 2 or y.size < 2:
        raise HunchError(
            f"Welch's t-test needs at least 2 values per side, got {x.size} and {y.size}",
            where="stats",
            fix="run more seeds",
        )
    (mean_a, var_a), (mean_b, var_b) = _mean_var(x), _mean_var(y)
    diff = mean_b - mean_a
    va, vb = var_a / x.size, var_b / y.size
    if va + vb == 0.0:
        return WelchResult(n_a=x.size, n_b=y.size, diff=diff, lo=None, hi=None, t=None, df=None, p=None,
                           confidence=confidence, note=ZERO_VARIANCE)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    t = diff / se
    lo, hi = _t_interval(diff, se, df, confidence)
    return WelchResult(n_a=x.size, n_b=y.size, diff=diff, lo=lo, hi=hi, t=t, df=df, p=min(1.0, 2.0 * t_sf(abs(t), df)),
                       confidence=confidence, se=se)


def _binary(values: ArrayLike, name: str) -> np.ndarray:
    arr = _sample(values, name)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise HunchError(f"{name} must be per-example correctness (0/1 or True/False)", where="stats")
    return arr.astype(bool)


def mcnemar(a_correct: ArrayLike, b_correct: ArrayLike) -> McNemarResult:
    """McNemar's test: only examples where the systems disagree carry evidence.

    ``b01`` counts examples A got right and B got wrong; ``b10`` the reverse.
    With fewer than 25 discordant examples the chi-square approximation is poor,
    so the exact binomial test is used instead. The continuity-corrected statistic
    is floored at 0, so equal discordant counts give p=1 rather than a spurious
    small statistic.
    """
    x, y = _binary(a_correct, "a_correct"), _binary(b_correct, "b_correct")
    if x.size != y.size:
        raise HunchError(
            f"paired correctness needs the same examples on both sides, got {x.size} and {y.size}",
            where="stats",
        )
    b01, b10 = int(np.count_nonzero(x & ~y)), int(np.count_nonzero(~x & y))
    discordant = b01 + b10
    if discordant < EXACT_MCNEMAR_BELOW:
        k = min(b01, b10)
        tail = sum(math.comb(discordant, i) for i in range(k + 1)) / 2.0**discordant  # Binomial(n, 1/2) cdf at k
        p = 1.0 if discordant == 0 else min(1.0, 2.0 * tail)
        return McNemarResult(
            n=int(x.size), b01=b01, b10=b10, statistic=float(k), p=p, method="exact binomial"
        )
    chi2 = max(abs(b01 - b10) - 1, 0) ** 2 / discordant
    return McNemarResult(
        n=int(x.size),
        b01=b01,
        b10=b10,
        statistic=float(chi2),
        p=math.erfc(math.sqrt(chi2 / 2.0)),  # chi-square survival with 1 df
        method="chi-square with continuity correction",
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order.

    Comparing many metrics at once makes some look significant by chance; Holm
    controls that family-wise error without Bonferroni's loss of power.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise HunchError("p-values must be a flat list", where="stats")
    if not ((p >= 0.0) & (p <= 1.0)).all():
        raise HunchError("p-values must be between 0 and 1", where="stats")
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return [float(v) for v in adjusted]


def aggregate_seeds(values_by_group: Mapping[str, ArrayLike], confidence: float = 0.95) -> dict[str, MeanCI]:
    """Per-group mean, std and t interval over seeds, in the mapping's order."""
    if not values_by_group:
        raise HunchError("no groups to aggregate", where="stats")
    out = {}
    for group, values in values_by_group.items():
        try:
            out[group] = mean_ci(values, confidence=confidence)
        except HunchError as exc:
            raise HunchError(exc.what, where=f"group {group!r}", fix=exc.fix) from exc
    return out
