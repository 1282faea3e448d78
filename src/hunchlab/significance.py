"""Tests of whether two runs differ: Welch's t over seeds, McNemar's on paired correctness.

``hunch compare`` asks two questions of two seed groups: is B's mean different from A's given how
much each moves from seed to seed (Welch, which does not assume equal noise), and, for the same
examples graded right or wrong, do the examples where they disagree lean one way (McNemar). Each
returns its statistic, p and sample sizes as a record from ``stat_records``; the p-values of many
metrics are then corrected together in ``multiple_comparisons``. The sign-flip paired test on
per-example scores is in ``paired``.
"""

from __future__ import annotations

import math

import numpy as np

from hunchlab.distributions import t_sf
from hunchlab.errors import BadInput
from hunchlab.intervals import t_interval
from hunchlab.stat_inputs import ArrayLike, as_sample, check_confidence, mean_var
from hunchlab.stat_records import ZERO_VARIANCE, McNemarResult, WelchResult

EXACT_MCNEMAR_BELOW = 25


def welch_t(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> WelchResult:
    """Welch's t-test of ``mean(b) - mean(a)``: does not assume the two runs are equally noisy.

    When every value on both sides is the same there is no noise estimate: the
    difference is reported, but no interval, t, df or p (scipy returns NaN there),
    because a p of 0 from two seeds of 0.8 against two of 0.9 would claim a
    certainty that nothing measured.
    """
    x, y = as_sample(a, "a"), as_sample(b, "b")
    check_confidence(confidence)
    if x.size < 2 or y.size < 2:
        raise BadInput(
            f"Welch's t-test needs at least 2 values per side, got {x.size} and {y.size}",
            where="stats",
            fix="run more seeds",
        )
    (mean_a, var_a), (mean_b, var_b) = mean_var(x), mean_var(y)
    diff = mean_b - mean_a
    va, vb = var_a / x.size, var_b / y.size
    if va + vb == 0.0:
        return WelchResult(n_a=x.size, n_b=y.size, diff=diff, lo=None, hi=None, t=None, df=None, p=None,
                           confidence=confidence, note=ZERO_VARIANCE)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    t = diff / se
    lo, hi = t_interval(diff, se, df, confidence)
    return WelchResult(n_a=x.size, n_b=y.size, diff=diff, lo=lo, hi=hi, t=t, df=df, p=min(1.0, 2.0 * t_sf(abs(t), df)),
                       confidence=confidence, se=se)


def _binary(values: ArrayLike, name: str) -> np.ndarray:
    arr = as_sample(values, name)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise BadInput(f"{name} must be per-example correctness (0/1 or True/False)", where="stats")
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
        raise BadInput(
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
