"""hunchlab.significance (Welch t, McNemar) against scipy/statsmodels references and edge cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from hunchlab.errors import HunchError
from hunchlab.significance import mcnemar, welch_t

SEEDS_A = [0.712, 0.705, 0.721, 0.698, 0.716]
SEEDS_B = [0.741, 0.735, 0.752, 0.729, 0.748]



# ---------------------------------------------------------------- welch_t


def test_welch_t_matches_scipy_ttest_ind() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(0.0, 1.0, size=7), rng.normal(0.8, 2.5, size=11)
    ours = welch_t(a, b, confidence=0.99)
    ref = sps.ttest_ind(b, a, equal_var=False)
    ref_ci = ref.confidence_interval(0.99)
    assert ours.diff == pytest.approx(b.mean() - a.mean())
    assert ours.t == pytest.approx(ref.statistic)
    assert ours.df == pytest.approx(ref.df)
    assert ours.p == pytest.approx(ref.pvalue)
    assert (ours.lo, ours.hi) == (pytest.approx(ref_ci.low), pytest.approx(ref_ci.high))


@pytest.mark.parametrize(("a", "b", "diff"), [([0.9] * 3, [0.9] * 2, 0.0), ([0.5, 0.5], [0.75] * 3, 0.25)])
def test_welch_t_between_constant_sides_gives_no_p(a: list, b: list, diff: float) -> None:
    # No noise estimate, so no test: scipy says NaN for equal constants and p=0 (t=inf) for different
    # ones, and a p of 0 from two seeds a side would enter the Holm family as the surest test of all.
    result = welch_t(a, b)
    assert result.diff == pytest.approx(diff)
    assert (result.lo, result.hi, result.t, result.df, result.p) == (None, None, None, None, None)
    assert "zero variance on both sides" in (result.note or "")
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.filterwarnings(
    "ignore:Precision loss:RuntimeWarning"
)  # scipy's own warning on a constant sample
def test_welch_t_with_zero_variance_on_one_side_matches_scipy() -> None:
    a, b = [1.0, 1.0, 1.0], [1.1, 1.4, 1.2, 1.3]
    ref = sps.ttest_ind(b, a, equal_var=False)
    result = welch_t(a, b)
    assert (result.p, result.df) == (pytest.approx(ref.pvalue), pytest.approx(3.0))


def test_welch_t_needs_two_values_per_side() -> None:
    with pytest.raises(HunchError, match="run more seeds"):
        welch_t([1.0], [1.0, 2.0])


# ---------------------------------------------------------------- mcnemar


def _paired_outcomes(both: int, b01: int, b10: int, neither: int) -> tuple[list[int], list[int]]:
    a = [1] * both + [1] * b01 + [0] * b10 + [0] * neither
    b = [1] * both + [0] * b01 + [1] * b10 + [0] * neither
    return a, b


@pytest.mark.parametrize(("b01", "b10"), [(3, 9), (0, 5), (12, 12), (1, 0)])
def test_mcnemar_small_discordance_uses_exact_test_matching_statsmodels(b01: int, b10: int) -> None:
    a, b = _paired_outcomes(40, b01, b10, 20)
    result = mcnemar(a, b)
    ref = sm_mcnemar([[40, b01], [b10, 20]], exact=True)
    assert (result.b01, result.b10, result.n, result.method) == (b01, b10, 60 + b01 + b10, "exact binomial")
    assert result.statistic == ref.statistic
    assert result.p == pytest.approx(ref.pvalue)


@pytest.mark.parametrize(("b01", "b10"), [(10, 30), (25, 14), (40, 0)])
def test_mcnemar_large_discordance_uses_corrected_chi_square_matching_statsmodels(b01: int, b10: int) -> None:
    a, b = _paired_outcomes(100, b01, b10, 50)
    result = mcnemar(np.array(a, dtype=bool), np.array(b, dtype=bool))
    ref = sm_mcnemar([[100, b01], [b10, 50]], exact=False, correction=True)
    assert result.method == "chi-square with continuity correction"
    assert result.statistic == pytest.approx(ref.statistic)
    assert result.p == pytest.approx(ref.pvalue)


def test_mcnemar_with_equal_large_discordance_has_p_one() -> None:
    a, b = _paired_outcomes(10, 20, 20, 10)
    assert mcnemar(a, b).p == 1.0


def test_mcnemar_without_disagreement_has_p_one() -> None:
    result = mcnemar([1, 0, 1], [1, 0, 1])
    assert (result.b01, result.b10, result.p) == (0, 0, 1.0)


@pytest.mark.parametrize(("a", "b"), [([1, 0], [1]), ([1, 2], [1, 0]), ([], [])])
def test_mcnemar_rejects_mismatched_or_non_binary_input(a: list, b: list) -> None:
    with pytest.raises(HunchError):
        mcnemar(a, b)
