"""Logged metric points in the store: written by the fold as packed blocks, read back as points.

Every reader of logged points goes through here (or ``hunchlab.readsql``, with the same
codec, ``hunchlab.packed``): a history, a step range, a count, the last value, a span.
A range read opens only the blocks whose step range overlaps it, then cuts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

from sqlalchemy import Connection, func, select

from hunchlab import packed
from hunchlab.store import schema
from hunchlab.store.rows import insert_rows

B = schema.metric_blocks.c
COLUMNS = ["run_id", "key", "seq", "min_step", "max_step", "n", "steps", "vals", "times"]


def append(conn: Connection, run_id: str, key: str, steps: Sequence[int], values: Sequence[packed.Value],
           times: Sequence[packed.Value], shared: packed.Frame | None = None) -> None:
    """Add a fold's new points of one metric, in the order logged, as blocks of up to
    ``BLOCK_POINTS``; a last block shorter than ``MERGE_BELOW`` takes them first (a run folded
    every few seconds adds a few points each time), so no block but the last is shorter than that.
    ``shared``: ``packed.frame(steps, times)``, made once for the metrics logged on the same lines."""
    last = conn.execute(select(B.seq, B.n, B.steps, B.vals, B.times).where(B.run_id == run_id, B.key == key)
                        .order_by(B.seq.desc()).limit(1)).first()
    seq = 0
    if last is not None:
        seq = last.seq + 1
        if last.n < packed.MERGE_BELOW:  # NULL round-trips exactly; a NaN stays NaN (nan_is_null off)
            seq, shared = last.seq, None
            steps = packed.unpack_steps(last.steps) + list(steps)
            values = packed.unpack_values(last.vals, False) + list(values)
            times = packed.unpack_values(last.times, False) + list(times)
    rows = [(run_id, key, seq + i, *block) for i, block in enumerate(packed.split(steps, values, times, shared))]
    insert_rows(conn, schema.metric_blocks, COLUMNS, rows, replace=True)


def _nan_is_null(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def read(conn: Connection, run_id: str, key: str, lo: int | None = None, hi: int | None = None, *,
         times: bool = True) -> packed.Points:
    """One metric's points in step order, ``lo <= step <= hi`` where given."""
    where = [B.run_id == run_id, B.key == key]
    if lo is not None:
        where.append(B.max_step >= lo)
    if hi is not None:
        where.append(B.min_step <= hi)
    rows = conn.execute(select(B.steps, B.vals, B.times).where(*where).order_by(B.seq))
    return packed.points(((r[0], r[1], r[2]) for r in rows), _nan_is_null(conn), lo, hi, times=times)


def tail(conn: Connection, run_id: str, key: str, count: int) -> tuple[bytes, bytes]:
    """The last ``count`` points of a metric in the order logged, as packed steps and values
    (little-endian int64 and float64, ``packed.NULL`` for none): its blocks read from the last."""
    blocks: list[tuple[bytes, bytes]] = []
    found = 0
    result = conn.execute(select(B.n, B.steps, B.vals).where(B.run_id == run_id, B.key == key)
                          .order_by(B.seq.desc()))
    try:
        for n, s, v in result:
            if found >= count:
                break
            blocks.append((s, v))
            found += n
    finally:
        result.close()
    skip = 8 * max(0, found - count)
    return (b"".join(s for s, _ in reversed(blocks))[skip:], b"".join(v for _, v in reversed(blocks))[skip:])


def histories(conn: Connection, run_ids: Sequence[str], keys: Sequence[str] | None = None
              ) -> Iterable[tuple[str, str, packed.Points]]:
    """``(run_id, key, points)`` of every metric (or those in ``keys``) of the runs, by run and key."""
    nan_is_null = _nan_is_null(conn)
    for i in range(0, len(run_ids), 500):
        where = [B.run_id.in_(run_ids[i:i + 500])]
        if keys is not None:
            where.append(B.key.in_(keys))
        rows = conn.execute(select(B.run_id, B.key, B.steps, B.vals, B.times).where(*where)
                            .order_by(B.run_id, B.key, B.seq))
        for (run_id, key), blocks in groupby(rows, key=lambda r: (r[0], r[1])):
            yield run_id, key, packed.points(((r[2], r[3], r[4]) for r in blocks), nan_is_null)


def count(conn: Connection, run_id: str, key: str, lo: int, hi: int, cap: int) -> int:
    """Points in ``[lo, hi]``, counted up to ``cap``: whole blocks by their count, the (at most
    two) blocks the range cuts by their steps."""
    total = 0
    for lo_s, hi_s, n, blob in conn.execute(select(B.min_step, B.max_step, B.n, B.steps).where(
            B.run_id == run_id, B.key == key, B.max_step >= lo, B.min_step <= hi)):
        total += n if lo <= lo_s and hi_s <= hi else sum(lo <= s <= hi for s in packed.unpack_steps(blob))
        if total >= cap:
            return cap
    return total


def span(conn: Connection, run_id: str, key: str) -> tuple[int | None, int | None]:
    """The first and last step a metric was logged at (None, None when it never was)."""
    row = conn.execute(select(func.min(B.min_step), func.max(B.max_step)).where(B.run_id == run_id,
                                                                                 B.key == key)).one()
    return row[0], row[1]


def last_value(conn: Connection, run_id: str, key: str) -> tuple[int, packed.Value] | None:
    """The step and value at the metric's highest step (the one logged last of equal steps)."""
    top = select(func.max(B.max_step)).where(B.run_id == run_id, B.key == key).scalar_subquery()
    rows = conn.execute(select(B.steps, B.vals).where(B.run_id == run_id, B.key == key, B.max_step == top)
                        .order_by(B.seq))
    return packed.last_point(((r[0], r[1]) for r in rows), _nan_is_null(conn))


def keys(conn: Connection, run_ids: Sequence[str]) -> set[str]:
    """The metrics the runs logged."""
    return set(conn.execute(select(B.key).where(B.run_id.in_(run_ids)).distinct()).scalars())
