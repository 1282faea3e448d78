"""Thinning long metric histories for drawing, without hiding what matters.

A chart 800 pixels wide cannot show a million points, but the points it keeps decide
what a reader sees. Random or every-k-th sampling drops short events: a loss spike
that lasted one step vanishes, and a diverging run looks healthy. M4 (Jugel et al.,
"M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014) keeps, per
bucket of the x range, the first, last, smallest and largest point; drawn with one
bucket per pixel column, the line is the same as the line through every point. So
spikes, dips and the two endpoints always survive.

Buckets are ranges of integer steps (``bucket_bounds``). For histories too long to
read, the store keeps the same four points per bucket of fixed widths, built while
folding (``store.lod``), so a chart of any length reads a few thousand rows.
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
    return np.unique(np.concatenate(segment_m4(ys, starts)))


def m4_of_pieces(pieces: list[list[tuple[int, float | None]]],
                 bounds: list[tuple[int, int]]) -> list[tuple[int, float | None]]:
    """M4 over pieces instead of points: each piece (a pyramid bucket's first, last, smallest
    and largest point, or one raw point, as ``store.lod.pieces`` gives them) goes to the bucket
    of ``bounds`` its first point falls in, and each bucket keeps the first, last, smallest and
    largest of its pieces' points (None values are never min or max).

    A piece never spans more than one bucket's width, so a bucket's extremes are the true
    extremes of its steps up to where its edges fall inside a piece.
    """
    from bisect import bisect_right

    starts = [a for a, _ in bounds]
    grouped: dict[int, list[tuple[int, float | None]]] = {}
    for piece in pieces:
        grouped.setdefault(bisect_right(starts, piece[0][0]) - 1, []).extend(piece)
    keep: set[tuple[int, float | None]] = set()
    for points in grouped.values():
        keep.update((min(points, key=lambda p: p[0]), max(points, key=lambda p: p[0])))
        valued = [(s, v) for s, v in points if v is not None]
        if valued:
            keep.update((min(valued, key=lambda p: (p[1], p[0])), min(valued, key=lambda p: (-p[1], p[0]))))
    return sorted(keep, key=lambda p: p[0])


def segment_m4(ys: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per segment ``ys[starts[i]:starts[i+1]]``: the index of its first and last point and of
    the first occurrence of its smallest and of its largest value (NaN is neither; a segment
    of NaN only gives its first point for both). The metric pyramid (``store.lod``) keeps the
    same four points per bucket, so charts read from it keep what M4 keeps.
    """
    import numpy as np

    ends = np.append(starts[1:], ys.size) - 1
    low = np.where(np.isnan(ys), np.inf, ys)
    high = np.where(np.isnan(ys), np.inf, -ys)  # max as the min of the negation: first occurrence either way
    return starts, ends, _first_min(low, starts), _first_min(high, starts)


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
