"""The numbers a statistic accepts, checked once, before anything is averaged.

Every interval and test in ``intervals`` and ``significance`` takes 1-D sequences of finite
numbers and a confidence level; checking them here, with one wording, means a failed run's NaN
or an empty list is reported as what it is (``BadInput`` naming the argument) instead of turning
into a NaN mean or a numpy traceback three calls later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hunchlab.errors import BadInput

ArrayLike = Sequence[float] | np.ndarray


def as_sample(values: ArrayLike, name: str = "values") -> np.ndarray:
    """``values`` as a flat float array, refusing what is not numbers, empty, or not finite."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{name} must be numbers ({exc})", where="stats") from exc
    if arr.ndim != 1:
        raise BadInput(f"{name} must be a flat list of numbers, got shape {arr.shape}", where="stats")
    if arr.size == 0:
        raise BadInput(f"{name} is empty", where="stats", fix="record at least one run or example")
    if not np.isfinite(arr).all():
        raise BadInput(
            f"{name} contains NaN or infinity",
            where="stats",
            fix="find the run that produced a non-finite metric and rerun or drop it",
        )
    return arr


def check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise BadInput(f"confidence must be between 0 and 1, got {confidence}", where="stats")


def check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise BadInput(f"n_resamples must be at least 1, got {n_resamples}", where="stats")


def mean_var(arr: np.ndarray) -> tuple[float, float]:
    """Mean and sample (n-1) variance, exact when every value is equal.

    Floating-point summation makes ``np.var([0.8] * 3)`` about 1e-32, not 0, which
    would turn "every seed gave the same value" into a spuriously certain t-test.
    """
    if arr.min() == arr.max():  # also covers n=1
        return float(arr[0]), 0.0
    return float(arr.mean()), float(arr.var(ddof=1))
