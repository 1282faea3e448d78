"""hunchlab.distributions: Student's t without scipy, held to scipy's own functions."""

from __future__ import annotations

import math

import pytest
from scipy.special import stdtr, stdtrit

from hunchlab.distributions import normal_ppf, normal_sf, t_cdf, t_ppf, t_sf

DFS = [1.0, 1.3, 2.0, 2.5, 3.0, 4.7, 10.0, 30.0, 123.4, 1000.0, 1e4]


@pytest.mark.parametrize("df", DFS)
def test_t_tail_probabilities_match_scipy(df: float) -> None:
    for t in (0.0, 0.01, 0.5, 1.0, 1.96, 3.0, 10.0, 50.0, -2.0, -40.0):
        assert t_cdf(t, df) == pytest.approx(float(stdtr(df, t)), rel=1e-10, abs=1e-300)
        assert t_sf(t, df) == pytest.approx(float(stdtr(df, -t)), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("df", DFS)
def test_t_quantiles_match_scipy(df: float) -> None:
    for p in (0.6, 0.8, 0.9, 0.975, 0.995, 0.9995, 1 - 1e-8, 0.1, 0.025, 1e-10):
        assert t_ppf(p, df) == pytest.approx(float(stdtrit(df, p)), rel=1e-10)
    assert t_ppf(0.5, df) == 0.0


def test_large_df_keeps_its_digits() -> None:
    # lgamma(5e5) is 6e6: subtracting two of them directly would keep only 9 digits.
    assert t_cdf(-2.0, 1e6) == pytest.approx(float(stdtr(1e6, -2.0)), rel=1e-9)
    assert t_ppf(0.975, 1e6) == pytest.approx(1.959966, rel=1e-6)


def test_normal_helpers_and_bad_quantile() -> None:
    assert normal_sf(1.959963984540054) == pytest.approx(0.025, rel=1e-12)
    assert normal_ppf(0.975) == pytest.approx(1.959963984540054, rel=1e-14)
    assert t_sf(math.inf, 3.0) == 0.0
    with pytest.raises(ValueError):
        t_ppf(1.0, 3.0)
