"""Thinning long metric histories for drawing, without hiding what matters.

A chart 800 pixels wide cannot show a million points, but the points it keeps decide
what a reader sees. Random or every-k-th sampling drops short events: a loss spike
that lasted one step vanishes, and a diverging run looks healthy. M4 (Jugel et al.,
"M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014) keeps, per
bucket of the x range, the first, last, smallest and largest point; drawn with one
bucket per pixel column, the line is the same as the line through every point. So
spikes, dips and the two endpoints always survive.

Buckets are ranges of integer steps (``bucket_bounds``), so the store can compute the
same selection in SQL for histories too long to read into memory
(``store.web.m4_steps``), and a test holds the two to the same answer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike


def bucket_bounds(lo: int, hi: int, buckets: int) -> list[tuple[int, int]]:
    """``buckets`` consecutive inclusive step ranges covering ``[lo, hi]`` (fewer if the range is shorter)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, got {buckets}")
    if hi < lo:
        return []
    width = (hi - lo + 1) / buckets
    edges = sorted({lo + math.floor(i * width) for i in range(buckets)} | {hi + 1})
    return [(a, b - 1) for a, b in zip(edges, edges[1:], strict=False)]


def m4(x: ArrayLike, y: ArrayLike, buckets: int) -> np.ndarray:
    """Indices (ascending) of the points M4 keeps: per bucket the first, the last, and the
    first occurrences of the smallest and the largest value.

    ``x`` holds integer steps sorted ascending. NaN values are left out of min and max,
    while a bucket's first and last point are kept whatever they are. When there are no
    more than ``4 * buckets`` points, all of them come back.
    """
    import numpy as np

    xs = np.asarray(x, dtype=np.int64)
    ys = np.asarray(y, dtype=float)
    n = xs.size
    if ys.size != n:
        raise ValueError(f"x has {n} values but y has {ys.size}")
    if n <= 4 * buckets:
        return np.arange(n)
    bounds = bucket_bounds(int(xs[0]), int(xs[-1]), buckets)
    starts = np.unique(np.searchsorted(xs, [a for a, _ in bounds], side="left"))
    starts = starts[starts < n]
    ends = np.append(starts[1:], n) - 1
    low = np.where(np.isnan(ys), np.inf, ys)
    high = np.where(np.isnan(ys), np.inf, -ys)  # max as the min of the negation: first occurrence either way
    keep = [starts, ends, _first_min(low, starts), _first_min(high, starts)]
    return np.unique(np.concatenate(keep))


def _first_min(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per segment ``values[starts[i]:starts[i+1]]``, the index of its first smallest value.

    Vectorised: ``minimum.reduceat`` finds each segment's minimum, then one comparison
    pass finds where it first occurs, so a million points take milliseconds.
    """
    import numpy as np

    smallest = np.minimum.reduceat(values, starts)
    counts = np.diff(np.append(starts, values.size))
    hits = np.flatnonzero(values == np.repeat(smallest, counts))
    return hits[np.searchsorted(hits, starts, side="left")]
