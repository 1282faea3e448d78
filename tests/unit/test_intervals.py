"""hunchlab.intervals against scipy references, coverage simulations and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from hunchlab.errors import HunchError
from hunchlab.intervals import aggregate_seeds, bootstrap_ci, mean_ci
from hunchlab.stat_records import NO_INTERVAL_N1

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


def test_mean_ci_of_a_bounded_metric_is_cut_to_its_range_and_says_so() -> None:
    raw = mean_ci([0.92, 0.98])  # two seeds: t with 1 df, +-12.7 standard errors
    assert raw.hi > 1.0 and raw.method == "t"
    cut = mean_ci([0.92, 0.98], bounds=(0.0, 1.0))
    assert (cut.lo, cut.hi) == (pytest.approx(raw.lo), 1.0)
    assert cut.method == "t, cut to the range [0, 1]" and cut.bounds == (0.0, 1.0)
    inside = mean_ci([0.4, 0.5, 0.6], bounds=(0.0, 1.0))
    assert inside.method == "t" and inside == mean_ci([0.4, 0.5, 0.6], bounds=(0.0, 1.0))
    with pytest.raises(HunchError, match="low < high"):
        mean_ci([0.5, 0.6], bounds=(1.0, 0.0))


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


def test_bootstrap_of_ten_thousand_values_ten_thousand_times_covers_the_mean() -> None:
    # Its speed (vectorised resampling, ~0.5 s on one core) is measured in bench/, not timed here:
    # a wall-clock assert fails on a loaded machine without anything being wrong.
    values = np.random.default_rng(0).normal(size=10_000)
    ci = bootstrap_ci(values, n_resamples=10_000)
    assert ci.lo < values.mean() < ci.hi
    assert ci.hi - ci.lo == pytest.approx(2 * 1.96 * values.std(ddof=1) / 100, rel=0.1)


def test_bootstrap_rejects_a_statistic_without_axis() -> None:
    with pytest.raises(HunchError, match="axis"):
        bootstrap_ci([1.0, 2.0, 3.0], stat=lambda x: float(np.mean(x)))


def test_bootstrap_rejects_zero_resamples() -> None:
    with pytest.raises(HunchError):
        bootstrap_ci([1.0, 2.0], n_resamples=0)


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
