"""M4 keeps what a chart must show: endpoints, one-step spikes and dips, and nothing twice."""

from __future__ import annotations

import numpy as np
import pytest

from hunchlab.downsample import bucket_bounds, m4


def test_bucket_bounds_cover_the_range_without_gaps_or_overlaps():
    bounds = bucket_bounds(3, 1002, 7)
    assert bounds[0][0] == 3 and bounds[-1][1] == 1002 and len(bounds) == 7
    assert all(b[1] + 1 == c[0] for b, c in zip(bounds, bounds[1:]))
    assert bucket_bounds(0, 2, 10) == [(0, 0), (1, 1), (2, 2)]  # fewer steps than buckets
    assert bucket_bounds(5, 4, 3) == []


def test_spikes_dips_and_endpoints_survive_where_every_kth_sampling_loses_them():
    x = np.arange(1_000_000)
    y = np.sin(x / 5e4)
    y[123_457] = 40.0   # a one-step spike
    y[876_543] = -40.0  # a one-step dip
    keep = m4(x, y, 500)
    assert len(keep) <= 2000
    assert {0, 999_999, 123_457, 876_543} <= set(keep.tolist())
    strided = x[:: len(x) // 2000]
    assert 123_457 not in strided and 876_543 not in strided  # what sampling would have drawn


def test_each_bucket_keeps_first_last_min_and_max():
    x = np.arange(20)
    y = np.array([5, 9, 1, 5, 5, 5, 5, 5, 5, 7] * 2, dtype=float)
    assert m4(x, y, 2).tolist() == [0, 1, 2, 9, 10, 11, 12, 19]


def test_nan_is_never_the_min_or_max_and_short_series_come_back_whole():
    y = np.array([np.nan, 1.0, 3.0, np.nan, 2.0, 0.5, 4.0, np.nan, 1.0, 1.0])
    keep = m4(np.arange(10), y, 1)
    assert keep.tolist() == [0, 5, 6, 9]
    assert m4([0, 1, 2], [1.0, 2.0, 3.0], 1).tolist() == [0, 1, 2]


def test_uneven_steps_and_bad_input():
    x = np.array([0, 1, 2, 3, 1000, 1001, 1002, 5000, 5001, 9000])
    assert 4 in m4(x, np.where(x == 1000, 99.0, 0.0), 2)
    with pytest.raises(ValueError):
        m4([0, 1], [1.0], 1)
    with pytest.raises(ValueError):
        bucket_bounds(0, 10, 0)
