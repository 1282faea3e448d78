"""hunchlab.stats against scipy/statsmodels references, coverage simulations and edge cases."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests

from hunchlab.errors import HunchError
from hunchlab.stats import (
    NO_INTERVAL_N1,
    aggregate_seeds,
    bootstrap_ci,
    compare_groups,
    holm,
    mcnemar,
    mean_ci,
    paired_bootstrap,
    welch_t,
)

SEEDS_A = [0.712, 0.705, 0.721, 0.698, 0.716]
SEEDS_B = [0.741, 0.735, 0.752, 0.729, 0.748]


# ---------------------------------------------------------------- mean_ci


def test_mean_ci_t_matches_scipy_t_interval() -> None:
    values = np.random.default_rng(1).normal(3.0, 2.0, size=12)
    ci = mean_ci(values, confidence=0.9)
    lo, hi = sps.t.interval(0.9, df=11, loc=values.mean(), scale=sps.sem(values))
    assert (ci.n, ci.method) == (12, "t")
    assert ci.mean == pytest.approx(values.mean())
    assert ci.std == pytest.approx(values.std(ddof=1))
    assert (ci.lo, ci.hi) == (pytest.approx(lo), pytest.approx(hi))


def test_t_interval_covers_true_mean_about_95_percent() -> None:
    rng = np.random.default_rng(2024)
    draws = rng.normal(10.0, 3.0, size=(2000, 8))
    covered = sum(ci.lo <= 10.0 <= ci.hi for ci in map(mean_ci, draws))
    assert 0.93 <= covered / 2000 <= 0.97


def test_bootstrap_interval_covers_true_mean_about_95_percent_for_large_n() -> None:
    rng = np.random.default_rng(7)
    draws = rng.exponential(1.0, size=(2000, 200))  # skewed, as per-example scores often are
    cis = [bootstrap_ci(d, n_resamples=1000, seed=i) for i, d in enumerate(draws)]
    covered = sum(ci.lo <= 1.0 <= ci.hi for ci in cis)
    assert 0.92 <= covered / 2000 <= 0.975


def test_mean_ci_with_one_value_gives_no_interval_and_says_why() -> None:
    for method in ("t", "bootstrap"):
        ci = mean_ci([0.8], method=method)
        assert (ci.n, ci.mean, ci.std, ci.lo, ci.hi) == (1, 0.8, None, None, None)
        assert ci.reason == NO_INTERVAL_N1


def test_mean_ci_bootstrap_states_resamples_and_brackets_mean() -> None:
    ci = mean_ci(SEEDS_A, method="bootstrap", n_resamples=2000, seed=3)
    assert (ci.method, ci.n_resamples) == ("bootstrap", 2000)
    assert ci.lo < ci.mean < ci.hi


def test_mean_ci_of_constant_values_is_a_point() -> None:
    ci = mean_ci([0.5, 0.5, 0.5])
    assert (ci.std, ci.lo, ci.hi) == (0.0, 0.5, 0.5)


@pytest.mark.parametrize(
    ("values", "kwargs"),
    [
        ([], {}),
        ([1.0, float("nan")], {}),
        ([1.0, float("inf")], {}),
        (["a", "b"], {}),
        ([[1.0, 2.0], [3.0, 4.0]], {}),
        ([1.0, 2.0], {"method": "bayes"}),
        ([1.0, 2.0], {"confidence": 95}),
    ],
)
def test_mean_ci_rejects_bad_input_with_hunch_error(values: object, kwargs: dict) -> None:
    with pytest.raises(HunchError):
        mean_ci(values, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- bootstrap_ci


def test_bootstrap_is_reproducible_with_the_same_seed() -> None:
    values = np.random.default_rng(5).normal(size=300)
    first, again = bootstrap_ci(values, seed=11), bootstrap_ci(values, seed=11)
    other = bootstrap_ci(values, seed=12)
    assert first == again
    assert (first.lo, first.hi) != (other.lo, other.hi)
    assert (first.n_resamples, first.seed) == (10_000, 11)


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap() -> None:
    values = np.random.default_rng(6).gamma(2.0, size=400)
    ours = bootstrap_ci(values, np.median, n_resamples=5000, seed=0)
    ref = sps.bootstrap((values,), np.median, n_resamples=5000, method="percentile", random_state=0)
    assert ours.estimate == pytest.approx(np.median(values))
    tolerance = 0.25 * (ref.confidence_interval.high - ref.confidence_interval.low)
    assert ours.lo == pytest.approx(ref.confidence_interval.low, abs=tolerance)
    assert ours.hi == pytest.approx(ref.confidence_interval.high, abs=tolerance)


def test_bootstrap_of_ten_thousand_values_ten_thousand_times_is_fast() -> None:
    values = np.random.default_rng(0).normal(size=10_000)
    start = time.perf_counter()
    ci = bootstrap_ci(values, n_resamples=10_000)
    elapsed = time.perf_counter() - start
    assert ci.lo < values.mean() < ci.hi
    assert elapsed < 2.5  # about 0.5 s on one core; generous for loaded CI machines


def test_bootstrap_rejects_a_statistic_without_axis() -> None:
    with pytest.raises(HunchError, match="axis"):
        bootstrap_ci([1.0, 2.0, 3.0], stat=lambda x: float(np.mean(x)))


def test_bootstrap_rejects_zero_resamples() -> None:
    with pytest.raises(HunchError):
        bootstrap_ci([1.0, 2.0], n_resamples=0)


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


def test_welch_t_with_identical_constants_gives_p_one() -> None:
    result = welch_t([0.9, 0.9, 0.9], [0.9, 0.9])
    assert (result.diff, result.lo, result.hi, result.p) == (0.0, 0.0, 0.0, 1.0)
    assert result.t is None and result.df is None and result.note


def test_welch_t_with_different_constants_gives_exact_difference() -> None:
    result = welch_t([0.5, 0.5], [0.75, 0.75, 0.75])
    assert (result.diff, result.lo, result.hi, result.p) == (0.25, 0.25, 0.25, 0.0)
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


# ---------------------------------------------------------------- paired_bootstrap


def test_paired_bootstrap_detects_a_consistent_per_example_gain() -> None:
    rng = np.random.default_rng(9)
    a = rng.uniform(size=500)
    b = a + 0.02 + rng.normal(0.0, 0.05, size=500)
    result = paired_bootstrap(a, b, n_resamples=4000, seed=1)
    assert result.mean_diff == pytest.approx(np.mean(b - a))
    assert 0.0 < result.lo < result.mean_diff < result.hi
    assert result.p == pytest.approx(1 / 4001)


def test_paired_bootstrap_p_value_is_uniformish_under_the_null() -> None:
    rng = np.random.default_rng(10)
    ps = [
        paired_bootstrap(rng.normal(size=100), rng.normal(size=100), n_resamples=500, seed=i).p
        for i in range(300)
    ]
    assert 0.02 <= np.mean(np.array(ps) < 0.05) <= 0.10
    assert 0.4 <= np.mean(ps) <= 0.6


def test_paired_bootstrap_of_identical_scores_has_p_one() -> None:
    result = paired_bootstrap([0.1, 0.5, 0.9], [0.1, 0.5, 0.9], n_resamples=200)
    assert (result.mean_diff, result.lo, result.hi, result.p) == (0.0, 0.0, 0.0, 1.0)


def test_paired_bootstrap_is_reproducible_with_the_same_seed() -> None:
    a, b = np.arange(50.0), np.arange(50.0) ** 1.01
    assert paired_bootstrap(a, b, seed=4) == paired_bootstrap(a, b, seed=4)


@pytest.mark.parametrize(("a", "b"), [([1.0, 2.0], [1.0]), ([1.0], [2.0]), ([], [])])
def test_paired_bootstrap_rejects_unpaired_or_tiny_input(a: list, b: list) -> None:
    with pytest.raises(HunchError):
        paired_bootstrap(a, b)


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


# ---------------------------------------------------------------- holm


@pytest.mark.parametrize(
    "pvalues",
    [
        [0.01, 0.04, 0.03, 0.005],
        [0.2, 0.01, 0.2, 0.9, 0.04, 0.04],
        [0.5],
        [0.3, 0.6, 0.9],
    ],
)
def test_holm_matches_statsmodels_multipletests(pvalues: list[float]) -> None:
    expected = multipletests(pvalues, method="holm")[1]
    assert holm(pvalues) == pytest.approx(list(expected))


def test_holm_is_monotone_in_sorted_order_and_keeps_input_order() -> None:
    pvalues = list(np.random.default_rng(11).uniform(0.0, 0.2, size=20))
    adjusted = holm(pvalues)
    by_raw = [adj for _, adj in sorted(zip(pvalues, adjusted, strict=True))]
    assert by_raw == sorted(by_raw)
    assert all(adj >= raw for raw, adj in zip(pvalues, adjusted, strict=True))
    assert max(adjusted) <= 1.0


def test_holm_of_nothing_is_nothing_and_bad_p_is_rejected() -> None:
    assert holm([]) == []
    with pytest.raises(HunchError):
        holm([0.1, 1.5])


# ---------------------------------------------------------------- aggregate_seeds


def test_aggregate_seeds_summarises_each_group_in_order() -> None:
    summary = aggregate_seeds({"baseline": SEEDS_A, "new": SEEDS_B, "pilot": [0.7]})
    assert list(summary) == ["baseline", "new", "pilot"]
    assert summary["new"].mean == pytest.approx(np.mean(SEEDS_B))
    assert summary["new"].std == pytest.approx(np.std(SEEDS_B, ddof=1))
    assert summary["new"] == mean_ci(SEEDS_B)
    assert summary["pilot"].lo is None and summary["pilot"].reason == NO_INTERVAL_N1


def test_aggregate_seeds_names_the_empty_group() -> None:
    with pytest.raises(HunchError, match="'broken'"):
        aggregate_seeds({"ok": [1.0, 2.0], "broken": []})
    with pytest.raises(HunchError):
        aggregate_seeds({})


# ---------------------------------------------------------------- compare_groups


def test_compare_groups_reports_a_significant_gain_with_interval_seeds_and_test() -> None:
    result = compare_groups(SEEDS_A, SEEDS_B, "accuracy", higher_is_better=True)
    ref = sps.ttest_ind(SEEDS_B, SEEDS_A, equal_var=False)
    assert result.p == pytest.approx(ref.pvalue)
    assert result.significant and result.better == "B"
    assert result.verdict.startswith("B higher (better) by 0.031 [")
    assert "5 vs 5 seeds, Welch t p" in result.verdict


def test_compare_groups_says_within_noise_when_not_significant() -> None:
    a = [0.70, 0.72, 0.69, 0.73, 0.71]
    b = [0.71, 0.70, 0.72, 0.68, 0.72]
    result = compare_groups(a, b, "accuracy")
    assert not result.significant and result.better is None
    assert result.verdict.startswith(f"difference within noise (p={result.p:.2g}): ")
    assert result.verdict.endswith(", 5 vs 5 seeds")
    assert "higher" not in result.verdict and "lower" not in result.verdict


def test_compare_groups_names_a_lower_loss_as_better_for_a_lower_is_better_metric() -> None:
    result = compare_groups(SEEDS_B, SEEDS_A, "loss", higher_is_better=False)
    assert result.better == "B"
    assert result.verdict.startswith("B lower (better) by 0.031 [0.0")  # magnitude, not a negative interval


def test_compare_groups_uses_the_holm_adjusted_p_and_says_so() -> None:
    raw = compare_groups(SEEDS_A, SEEDS_B, "accuracy")
    adjusted = compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=0.2)
    assert raw.significant and not adjusted.significant
    assert adjusted.verdict.startswith("difference within noise (p=0.2, Holm-adjusted): ")
    still = compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=0.004)
    assert still.verdict.endswith("Welch t p=0.004 (Holm-adjusted)")


def test_compare_groups_with_one_seed_refuses_to_judge() -> None:
    result = compare_groups([0.7], SEEDS_B, "accuracy")
    assert result.verdict == "n=1 on a side (1 vs 5 seeds): no interval possible — run more seeds"
    assert (result.lo, result.hi, result.p, result.significant) == (None, None, None, None)
    assert result.diff == pytest.approx(np.mean(SEEDS_B) - 0.7)


def test_compare_groups_with_constant_seeds_warns_instead_of_claiming() -> None:
    same = compare_groups([0.8] * 3, [0.8] * 3, "accuracy")
    assert same.p == 1.0 and not same.significant
    assert same.verdict.startswith("no difference: every seed gave 0.8 on both sides")
    differ = compare_groups([0.8] * 3, [0.9] * 3, "accuracy")
    assert "zero variance on both sides" in differ.verdict
    assert "check that the seed changes anything" in differ.verdict


def test_compare_groups_uses_a_true_minus_sign_for_negative_numbers() -> None:
    result = compare_groups([0.71, 0.70, 0.72, 0.69], [0.70, 0.69, 0.71, 0.70], "accuracy")
    assert "\u2212" in result.verdict and "-" not in result.verdict


def test_compare_groups_never_rounds_p_across_alpha() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = rng.normal(0.0, 1.0, size=6), rng.normal(1.2, 1.0, size=6)
        result = compare_groups(a, b, "score")
        if 0.045 <= result.p < 0.0505:
            shown = float(re.search(r"p=([0-9.]+)", result.verdict).group(1))
            assert (shown < 0.05) == result.significant


def test_compare_groups_never_shows_a_nonzero_interval_bound_as_zero() -> None:
    result = compare_groups([0.0, 1.0, 2.0, 3.0], [2.25, 3.25, 4.25, 5.25], "score")
    assert result.lo is not None and 0.0 < result.lo < 0.05
    assert " [0.0, " not in result.verdict and " [0.00, " not in result.verdict


def test_comparison_to_dict_is_json_serialisable() -> None:
    result = compare_groups(SEEDS_A, SEEDS_B, "accuracy", higher_is_better=True)
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["a"]["n"] == 5 and payload["verdict"] == result.verdict
    json.dumps(compare_groups([0.7], SEEDS_B, "accuracy").to_dict(), allow_nan=False)


def test_compare_groups_rejects_bad_alpha_and_adjusted_p() -> None:
    with pytest.raises(HunchError):
        compare_groups(SEEDS_A, SEEDS_B, "accuracy", alpha=2.0)
    with pytest.raises(HunchError):
        compare_groups(SEEDS_A, SEEDS_B, "accuracy", p_adjusted=-0.1)
