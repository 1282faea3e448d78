"""hunchlab.power: what a comparison could detect, against statsmodels' exact power solutions."""

from __future__ import annotations

import pytest
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from hunchlab.power import MAX_SEEDS, examples_needed, paired_detectable, seeds_needed, welch_detectable


@pytest.mark.parametrize(("n", "tolerance"), [(2, 0.06), (3, 0.013), (5, 0.002), (10, 0.002), (50, 0.002)])
def test_detectable_difference_is_close_to_the_noncentral_t_solution(n: int, tolerance: float) -> None:
    exact = TTestIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0)  # in standard deviations
    assert welch_detectable(1.0, n, 1.0, n, 0.05) == pytest.approx(exact, rel=tolerance)


def test_seeds_needed_matches_statsmodels_and_gives_up_past_the_cap() -> None:
    exact = TTestIndPower().solve_power(effect_size=0.5, alpha=0.05, power=0.8)  # 63.8 per side
    assert seeds_needed(1.0, 1.0, 0.5, 0.05) == 64 == int(exact) + 1
    assert seeds_needed(1.0, 1.0, 1e-4, 0.05) is None and MAX_SEEDS == 100_000
    assert seeds_needed(0.0, 0.0, 0.1, 0.05) is None and welch_detectable(0.0, 3, 0.0, 3, 0.05) is None


def test_paired_power_is_the_one_sample_normal_formula() -> None:
    effect = NormalIndPower().solve_power(nobs1=100, alpha=0.05, power=0.8, ratio=0.0)  # one-sample z
    assert paired_detectable(1.0, 100, 0.05) == pytest.approx(effect, rel=1e-5)  # statsmodels adds the far tail
    assert examples_needed(1.0, paired_detectable(1.0, 100, 0.05), 0.05) == 100
