"""hunchlab.multiple_comparisons (Holm's step-down) against statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from hunchlab.errors import HunchError
from hunchlab.multiple_comparisons import holm

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
