"""What a comparison could have detected, and what it would take to detect more.

"Difference within noise" is not "no effect": with 2 seeds per side Welch's test
misses all but huge differences. So every "within noise" verdict also states the
smallest difference the comparison could detect with 80% power at its alpha, and
(``hunch compare --detect D``) how many seeds per side would detect D.

The detectable difference uses the usual approximation (t_{1-alpha/2,df} +
t_{power,df}) * SE, with Welch's df and the variances measured; it ignores the far
tail of the test. Against statsmodels' exact noncentral-t solution (equal variances,
``TTestIndPower``) it is within 0.2% from 5 seeds per side on, 1.2% at 3, and
understates the detectable difference by 5% at 2 seeds per side (5.36 against 5.65
standard deviations; tests/unit/test_power.py), which no reader of "about 5 sd" will
mistake; the seeds it asks for match statsmodels' (17 per side for 1 sd). The paired test's counterpart is the normal
approximation (z_{1-alpha/2} + z_{power}) * sd(d) / sqrt(n).
"""

from __future__ import annotations

import math

from hunchlab.distributions import normal_ppf, t_ppf

POWER = 0.8
MAX_SEEDS = 100_000  # beyond this "seeds per side" stops being advice


def _welch_df(va: float, vb: float, n_a: int, n_b: int) -> float:
    """Welch-Satterthwaite df for variances of the means ``va``, ``vb``."""
    return (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))


def welch_detectable(var_a: float, n_a: int, var_b: float, n_b: int, alpha: float, power: float = POWER) -> float | None:
    """The smallest |mean(b) - mean(a)| Welch's test detects with ``power`` at ``alpha``; None without spread."""
    va, vb = var_a / n_a, var_b / n_b
    if n_a < 2 or n_b < 2 or va + vb == 0.0:
        return None
    df = _welch_df(va, vb, n_a, n_b)
    return (t_ppf(1.0 - alpha / 2.0, df) + t_ppf(power, df)) * math.sqrt(va + vb)


def seeds_needed(var_a: float, var_b: float, detect: float, alpha: float, power: float = POWER) -> int | None:
    """Seeds per side for Welch's test to detect ``detect`` with ``power`` at ``alpha``.

    None when there is no spread to plan with, or when it would take more than
    MAX_SEEDS (say "more than" rather than a number nobody can run).
    """
    if var_a + var_b == 0.0 or detect <= 0.0:
        return None

    def enough(n: int) -> bool:
        found = welch_detectable(var_a, n, var_b, n, alpha, power)
        return found is not None and found <= detect

    if not enough(MAX_SEEDS):
        return None
    lo, hi = 1, MAX_SEEDS  # enough(hi), not enough(lo)
    while hi - lo > 1:
        middle = (lo + hi) // 2
        lo, hi = (lo, middle) if enough(middle) else (middle, hi)
    return max(hi, 2)


def paired_detectable(sd: float, n: int, alpha: float, power: float = POWER) -> float | None:
    """The smallest mean per-example difference a paired test on ``n`` examples detects (normal approximation)."""
    if n < 2 or sd == 0.0:
        return None
    return (normal_ppf(1.0 - alpha / 2.0) + normal_ppf(power)) * sd / math.sqrt(n)


def examples_needed(sd: float, detect: float, alpha: float, power: float = POWER) -> int | None:
    """Paired examples needed to detect a mean difference ``detect`` (normal approximation)."""
    if sd == 0.0 or detect <= 0.0:
        return None
    exact = ((normal_ppf(1.0 - alpha / 2.0) + normal_ppf(power)) * sd / detect) ** 2
    return max(2, math.ceil(exact - 1e-9))  # 100.00000000000001 examples is 100
