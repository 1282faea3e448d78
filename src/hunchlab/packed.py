"""A metric's points packed into blocks: steps, values and times as little-endian arrays in BLOBs.

The store keeps a metric as rows of up to ``BLOCK_POINTS`` points (``metric_blocks``,
one row per run, metric and block) rather than one row per point. Folding 2M points
as rows cost 3.8 s of CPU in SQLite's insert and index upkeep alone (1.9 µs a point,
on the 2-core bench machine, an in-memory database); packing the same points into
blocks cost 0.24 s (0.12 µs a point). That insert was two thirds of the first read of a
run killed right after logging 2M points (bench/README.md, issue 23).

A block holds its points in the order they were logged, steps going backwards or
repeating included; ``points`` puts the blocks of a metric back in step order with a
stable sort, so of equal steps the one logged last comes last, as the per-point rows'
index (run, metric, step, then insertion order) gave them.

Values and times are doubles. ``None`` is stored as one particular quiet NaN (``NULL``)
so it reads back as None on every database; a logged NaN reads back as None on SQLite
and as NaN on PostgreSQL, which is what each made of a NaN in a REAL column before.
This module is stdlib-only: the fast read path (``hunchlab.readsql``) may not import
SQLAlchemy, and neither may ``import hunchlab`` load numpy.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import islice
from operator import le

# Points a block holds at most: a range read decodes at most two partial blocks (~20 µs each), and a
# 2M-point metric is ~500 rows.
BLOCK_POINTS = 4096
# A fold adds to the metric's last block while it holds fewer than this, so a run folded every few
# seconds as it logs still gets blocks of hundreds of points, while each fold rewrites at most
# ~12 KiB a metric (filling blocks to 4,096 would rewrite ~96 KiB a metric every 2 s: 100 MiB a
# minute for a run with 1,000 metrics).
MERGE_BELOW = 512
_NULL_BITS = 0x7FF8_0000_0000_0A11  # a quiet NaN no arithmetic makes: the payload marks "no value"
_NULL_BYTES = struct.pack("<Q", _NULL_BITS)
NULL: float = struct.unpack("<d", _NULL_BYTES)[0]
_SWAP = sys.byteorder != "little"

Value = float | None
Points = tuple[list[int], list[Value], list[Value]]  # steps, values, times, in step order


def pack_steps(steps: Sequence[int]) -> bytes:
    return _bytes(array("q", steps))


def pack_values(values: Sequence[Value]) -> bytes:
    """Doubles, with None as ``NULL`` (ints become doubles, as in the REAL column before)."""
    try:
        return _bytes(array("d", values))
    except TypeError:  # a None among them (rare): a pass to find it costs more than this retry
        return _bytes(array("d", [NULL if v is None else v for v in values]))


def unpack_steps(blob: bytes) -> list[int]:
    return _array("q", blob).tolist()


def unpack_values(blob: bytes, nan_is_null: bool) -> list[Value]:
    """The doubles back; ``NULL`` as None, and any NaN too where ``nan_is_null`` (SQLite)."""
    out: list[Value] = _array("d", blob).tolist()
    total = sum(out)  # type: ignore[arg-type]  # NaN if any value is NaN: one pass in C
    if total == total:
        return out
    return [None if v != v and (nan_is_null or struct.pack("<d", v) == _NULL_BYTES) else v for v in out]


def points(blocks: Iterable[tuple[bytes, bytes, bytes]], nan_is_null: bool, lo: int | None = None,
           hi: int | None = None, *, times: bool = True) -> Points:
    """The points of a metric's blocks (in block order) sorted by step, stably, and cut to
    ``lo <= step <= hi`` where given; ``times=False`` leaves the times list empty."""
    steps: list[int] = []
    values: list[Value] = []
    whens: list[Value] = []
    for s, v, t in blocks:
        steps += unpack_steps(s)
        values += unpack_values(v, nan_is_null)
        if times:
            whens += unpack_values(t, nan_is_null)
    if not all(map(le, steps, islice(steps, 1, None))):  # logged in order: the common case, no sort
        order = sorted(range(len(steps)), key=steps.__getitem__)
        steps, values = [steps[i] for i in order], [values[i] for i in order]
        whens = [whens[i] for i in order] if times else whens
    a = 0 if lo is None else bisect_left(steps, lo)
    b = len(steps) if hi is None else bisect_right(steps, hi)
    if a or b < len(steps):
        steps, values, whens = steps[a:b], values[a:b], whens[a:b]
    return steps, values, whens


def last_point(blocks: Iterable[tuple[bytes, bytes]], nan_is_null: bool) -> tuple[int, Value] | None:
    """The step and value at a metric's highest step, the one logged last of equal steps, from
    (steps, values) of blocks in block order (only those that may hold the highest step are needed)."""
    best: tuple[int, Value] | None = None
    for s, v in blocks:
        steps = unpack_steps(s)
        top = max(steps)
        if best is None or top >= best[0]:
            at = len(steps) - 1 - steps[::-1].index(top)
            best = (top, unpack_values(v, nan_is_null)[at])
    return best


Block = tuple[int, int, int, bytes, bytes, bytes]  # min step, max step, n, steps, values, times
Frame = list[tuple[int, int, int, bytes, bytes]]  # per block: min step, max step, n, steps, times


def frame(steps: Sequence[int], times: Sequence[Value]) -> Frame:
    """What the blocks of every metric logged on the same lines share: their step ranges, counts,
    steps and times, packed once (packing them again for each of 10 metrics cost 0.2 s of CPU in
    the fold of a killed 2M-point run, bench/README.md (n))."""
    s_all, t_all, width = pack_steps(steps), pack_values(times), 8 * BLOCK_POINTS
    out = []
    for at, i in enumerate(range(0, len(steps), BLOCK_POINTS)):
        s = steps[i:i + BLOCK_POINTS]
        out.append((min(s), max(s), len(s), s_all[at * width:(at + 1) * width], t_all[at * width:(at + 1) * width]))
    return out


def split(steps: Sequence[int], values: Sequence[Value], times: Sequence[Value],
          shared: Frame | None = None) -> list[Block]:
    """Points (logged order) as blocks of at most ``BLOCK_POINTS``: (min step, max step, n, steps,
    values, times) each; ``shared``: ``frame(steps, times)`` when another metric already made it."""
    v_all, width = pack_values(values), 8 * BLOCK_POINTS
    return [(lo, hi, n, s, v_all[at * width:(at + 1) * width], t)
            for at, (lo, hi, n, s, t) in enumerate(shared if shared is not None else frame(steps, times))]


def _array(code: str, blob: bytes) -> array:  # type: ignore[type-arg]
    a = array(code)
    a.frombytes(blob)
    if _SWAP:
        a.byteswap()
    return a


def _bytes(a: array) -> bytes:  # type: ignore[type-arg]
    if _SWAP:
        a.byteswap()
    return a.tobytes()
