"""Honest statistics behind ``hunch compare``.

A difference between two runs means nothing without knowing how much it moves
from seed to seed, so every result here carries its sample sizes, an interval
and a test, and the plain-language verdict of :func:`compare_groups` is worded
never to claim more than the numbers support.

Sample-based functions take 1-D sequences of finite numbers. Results are frozen
dataclasses whose ``to_dict()`` gives plain, JSON-serialisable values; a
quantity that cannot be computed (an interval from one seed) is ``None`` with a
``reason``/``note`` rather than NaN, because NaN is not valid JSON and hides why.

scipy is imported inside the functions that need it: it costs a noticeable
fraction of a second, which every CLI command would otherwise pay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from hunchlab.errors import HunchError

ArrayLike = Sequence[float] | np.ndarray
Statistic = Callable[..., Any]

NO_INTERVAL_N1 = "n=1: no interval possible — run more seeds"
EXACT_MCNEMAR_BELOW = 25
# Indices drawn per resampling chunk: bounds memory at ~50 MB (indices plus gathered values) whatever n is,
# while keeping chunks large enough that numpy, not Python, does the work.
_CHUNK_INDICES = 2**22
_ZERO_VARIANCE_NOTE = "zero variance on both sides: every seed gave the same value"


@dataclass(frozen=True)
class _Result:
    def to_dict(self) -> dict[str, Any]:
        """Nested plain dicts, so the CLI can ``json.dumps`` any result."""
        return asdict(self)


@dataclass(frozen=True)
class MeanCI(_Result):
    """A mean with its spread and interval; ``lo``/``hi`` are None when n < 2."""

    n: int
    mean: float
    std: float | None
    lo: float | None
    hi: float | None
    confidence: float
    method: str
    n_resamples: int | None = None
    reason: str | None = None


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
    """Welch's t-test of ``mean(b) - mean(a)``; ``t``/``df`` are None when both variances are 0."""

    n_a: int
    n_b: int
    diff: float
    lo: float
    hi: float
    t: float | None
    df: float | None
    p: float
    confidence: float
    note: str | None = None


@dataclass(frozen=True)
class PairedBootstrap(_Result):
    """Bootstrap of the mean per-example difference ``b - a``, with a two-sided p-value."""

    n: int
    mean_diff: float
    lo: float
    hi: float
    p: float
    confidence: float
    n_resamples: int
    seed: int


@dataclass(frozen=True)
class McNemarResult(_Result):
    """McNemar's test on paired correctness; ``method`` names the test actually used."""

    n: int
    b01: int
    b10: int
    statistic: float
    p: float
    method: str


@dataclass(frozen=True)
class Comparison(_Result):
    """Two groups of per-seed values compared: summaries, difference ``b - a``, test, verdict."""

    metric: str
    a: MeanCI
    b: MeanCI
    diff: float
    lo: float | None
    hi: float | None
    p: float | None
    p_adjusted: float | None
    test: str | None
    alpha: float
    higher_is_better: bool | None
    significant: bool | None
    better: str | None
    labels: tuple[str, str]
    verdict: str

    @property
    def p_used(self) -> float | None:
        """The p-value significance was decided on: the adjusted one when given."""
        return self.p if self.p_adjusted is None else self.p_adjusted


# ---------------------------------------------------------------- input checks


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
) -> MeanCI:
    """Interval for a mean: ``"t"`` suits a handful of seeds, ``"bootstrap"`` many skewed examples."""
    arr = _sample(values)
    _check_confidence(confidence)
    if method not in ("t", "bootstrap"):
        raise HunchError(f"unknown interval method {method!r}", where="stats", fix="use 't' or 'bootstrap'")
    mean, var = _mean_var(arr)
    lo, hi, reason = _mean_interval(arr, mean, var, confidence, method, n_resamples, seed)
    return MeanCI(
        n=int(arr.size),
        mean=mean,
        std=math.sqrt(var) if arr.size > 1 else None,  # one seed says nothing about spread
        lo=lo,
        hi=hi,
        confidence=confidence,
        method=method,
        n_resamples=n_resamples if method == "bootstrap" else None,
        reason=reason,
    )


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
    from scipy.special import stdtrit  # the t quantile; scipy.special loads in a third of scipy.stats' time

    half = float(stdtrit(df, (1.0 + confidence) / 2.0)) * se
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
    """Welch's t-test of ``mean(b) - mean(a)``: does not assume the two runs are equally noisy."""
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
        # No noise estimate at all: the difference is exact, so p is 1 or 0 and t, df are undefined.
        p = 1.0 if diff == 0.0 else 0.0
        return WelchResult(
            n_a=x.size,
            n_b=y.size,
            diff=diff,
            lo=diff,
            hi=diff,
            t=None,
            df=None,
            p=p,
            confidence=confidence,
            note=_ZERO_VARIANCE_NOTE,
        )
    from scipy.special import stdtr

    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    t = diff / se
    lo, hi = _t_interval(diff, se, df, confidence)
    p = float(2.0 * stdtr(df, -abs(t)))
    return WelchResult(
        n_a=x.size, n_b=y.size, diff=diff, lo=lo, hi=hi, t=t, df=df, p=p, confidence=confidence
    )


def paired_bootstrap(
    a: ArrayLike,
    b: ArrayLike,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedBootstrap:
    """Bootstrap over examples scored by both systems; pairing removes per-example difficulty.

    The p-value comes from the bootstrap distribution shifted to a zero mean
    (the null), counting resamples at least as extreme as the observed mean
    difference; the +1 in numerator and denominator keeps it from being
    reported as exactly 0 from a finite number of resamples.
    """
    x, y = _sample(a, "a"), _sample(b, "b")
    _check_confidence(confidence)
    _check_resamples(n_resamples)
    if x.size != y.size:
        raise HunchError(
            f"paired scores need the same examples on both sides, got {x.size} and {y.size}",
            where="stats",
            fix="score both runs on the same examples, or use an unpaired comparison",
        )
    if x.size < 2:
        raise HunchError("a paired bootstrap needs at least 2 paired examples", where="stats")
    d = y - x
    observed = float(d.mean())
    distribution = _bootstrap_distribution(d, np.mean, n_resamples, seed)
    lo, hi = _percentile_interval(distribution, confidence)
    extreme = int(np.count_nonzero(np.abs(distribution - observed) >= abs(observed)))
    return PairedBootstrap(
        n=int(d.size),
        mean_diff=observed,
        lo=lo,
        hi=hi,
        p=min(1.0, (extreme + 1) / (n_resamples + 1)),
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
    )


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


# ---------------------------------------------------------------- comparison


def compare_groups(
    a: ArrayLike,
    b: ArrayLike,
    metric_name: str,
    higher_is_better: bool | None = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
    p_adjusted: float | None = None,
    labels: tuple[str, str] = ("A", "B"),
) -> Comparison:
    """Compare per-seed values of two groups with Welch's t-test and word the result honestly.

    Pass ``p_adjusted`` (e.g. from :func:`holm` over all metrics compared) to
    decide significance on it; the verdict then says "(Holm-adjusted)".
    """
    _check_p(alpha, "alpha")
    if p_adjusted is not None:
        _check_p(p_adjusted, "p_adjusted")
    sa, sb = mean_ci(a, confidence), mean_ci(b, confidence)
    w = welch_t(a, b, confidence) if sa.n > 1 and sb.n > 1 else None
    p_used = None if w is None else (w.p if p_adjusted is None else p_adjusted)
    significant = None if p_used is None else p_used < alpha
    draft = Comparison(
        metric=metric_name,
        a=sa,
        b=sb,
        diff=sb.mean - sa.mean if w is None else w.diff,
        lo=None if w is None else w.lo,
        hi=None if w is None else w.hi,
        p=None if w is None else w.p,
        p_adjusted=p_adjusted,
        test=None if w is None else "Welch t",
        alpha=alpha,
        higher_is_better=higher_is_better,
        significant=significant,
        better=None,
        labels=labels,
        verdict="",
    )
    return replace(draft, better=_better(draft), verdict=_verdict(draft))


def _better(c: Comparison) -> str | None:
    if not c.significant or c.higher_is_better is None or c.diff == 0.0:
        return None
    return c.labels[1] if (c.diff > 0) == c.higher_is_better else c.labels[0]


def _verdict(c: Comparison) -> str:
    """One line that never claims more than the numbers support."""
    seeds = f"{c.a.n} vs {c.b.n} seeds"
    if c.lo is None or c.hi is None or c.p_used is None:
        return f"n=1 on a side ({seeds}): no interval possible — run more seeds"
    if c.a.std == 0.0 and c.b.std == 0.0:
        return _constant_verdict(c, seeds)
    decimals = _decimals_for(c.hi - c.lo)
    p_text = _fmt_p(c.p_used, c.alpha)
    if not c.significant:
        adjusted = ", Holm-adjusted" if c.p_adjusted is not None else ""
        interval = f"{_fmt(c.diff, decimals)} [{_fmt(c.lo, decimals)}, {_fmt(c.hi, decimals)}]"
        return f"difference within noise (p{p_text}{adjusted}): {interval}, {seeds}"
    # Report the magnitude in the direction named, so "lower by 0.03 [0.01, 0.05]" reads naturally.
    sign = 1.0 if c.diff > 0 else -1.0
    lo, hi = sorted((sign * c.lo, sign * c.hi))
    interval = f"{_fmt(abs(c.diff), decimals)} [{_fmt(lo, decimals)}, {_fmt(hi, decimals)}]"
    adjusted = " (Holm-adjusted)" if c.p_adjusted is not None else ""
    return f"{_direction(c)} by {interval}, {seeds}, Welch t p{p_text}{adjusted}"


def _constant_verdict(c: Comparison, seeds: str) -> str:
    """Identical seeds usually mean the seed is not reaching the code, so say that, not "significant"."""
    caution = "zero variance on both sides — check that the seed changes anything"
    if c.diff == 0.0:
        return f"no difference: every seed gave {_fmt(c.a.mean, None)} on both sides, {seeds}, {caution}"
    return f"{_direction(c)} by {_fmt(abs(c.diff), None)} on every seed, {seeds}, {caution}"


def _direction(c: Comparison) -> str:
    """``"B higher"``, with ``" (better)"``/``" (worse)"`` when the metric's direction is known."""
    up = c.diff > 0
    quality = "" if c.higher_is_better is None else (" (better)" if up == c.higher_is_better else " (worse)")
    return f"{c.labels[1]} {'higher' if up else 'lower'}{quality}"


def _decimals_for(width: float) -> int | None:
    """Decimals that show the interval's width to two significant digits: more would be noise."""
    if width <= 0.0:
        return None
    return min(15, max(0, 1 - math.floor(math.log10(width))))


def _fmt(x: float, decimals: int | None) -> str:
    """Fixed decimals (or 4 significant digits when there is no width to judge by), with a true minus.

    A nonzero bound that would round to "0.0" gets one significant digit instead, so an
    interval that just excludes (or just includes) zero never reads as touching it.
    """
    x = 0.0 if x == 0.0 else x  # never print "-0.000"
    text = f"{x:.4g}" if decimals is None else f"{x:.{decimals}f}"
    if x != 0.0 and float(text) == 0.0:
        text = f"{x:.1g}"
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def _fmt_p(p: float, alpha: float) -> str:
    """``=0.004``, ``=0.41`` or ``<0.001``, never rounded across ``alpha`` (0.0496 is not "0.05")."""
    if p < 0.001:
        return "<0.001"
    for digits in range(2, 6):
        text = f"{p:.{digits}g}"
        if (float(text) < alpha) == (p < alpha):
            return f"={text}"
    return f"={p:.6g}"
