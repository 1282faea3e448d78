"""The metric pyramid: for long metrics, the M4 points of fixed-width step buckets at several widths.

A chart of a 10-million-point metric must not read 10 million rows. Level ``L`` cuts
the step axis into buckets of ``WIDTHS[L] = 32 * 8**L`` steps and keeps, for each
bucket that holds points, how many it holds and the four points M4 keeps
(``downsample.segment_m4``): the first, the last, the smallest and the largest. A
chart of steps ``[lo, hi]`` at ``B`` pixels (``pieces``) reads the coarsest level with
at least ``B`` buckets across the range (fewer than ``8 B`` rows) and, for the part
buckets at the two ends, finer levels down to single points, so every point in the
range is stood for exactly once and each bucket's extremes survive at every zoom.

It is kept (``update``) for metrics with more than ``MIN_POINTS`` points (a shorter
one is read whole, at most that many rows), and a level is built once the metric
spans its width. At base width 32 the pyramid holds ~3.6% as many rows as the
points (1/32 + 1/256 + ...), built from arrays of the new points. The background
folder and a run's own end extend it as they fold; a fold done for a reader
(``hunch show``) leaves it behind, and the first chart of the metric, or the next
fold that keeps it, catches it up (``catch_up``) from the points it lacks: it was
0.59 s of CPU of the 2.3 s first read of a killed 2M-point run (bench/README.md (n)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, func, select, union_all

from hunchlab.downsample import segment_m4
from hunchlab.store import points, schema
from hunchlab.store.rows import insert_rows

if TYPE_CHECKING:
    import numpy as np

BASE, FACTOR = 32, 8
WIDTHS = [BASE * FACTOR**level for level in range(20)]  # the last is past 2**63: enough for any int64 step
MIN_POINTS = 4096
COLUMNS = ["run_id", "key", "level", "bucket", "n", "first_step", "first_value", "last_step", "last_value",
           "min_step", "min_value", "max_step", "max_value"]
Point = tuple[int, "float | None"]
Row = tuple[Any, ...]  # (bucket, n, first_step, first_value, last_step, last_value, min_step, ..., max_value)

L = schema.metric_lod.c


def update(conn: Connection, run_id: str, key: str, steps: Sequence[int] | np.ndarray,
           values: Sequence[float | None] | np.ndarray, n_before: int) -> None:
    """Add a chunk's new points of one metric (already in its blocks) to its pyramid."""
    import numpy as np

    if n_before + len(steps) <= MIN_POINTS:
        return
    if n_before and n_before <= MIN_POINTS:  # the metric has just grown long: build from all its points
        build(conn, run_id, key)
        return
    s, v = np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=float)  # None becomes NaN
    if n_before == 0:  # long in its first chunk: these are all its points
        _levels(conn, run_id, key, s, v, None, (int(s.min()), int(s.max())))
        return
    built, first, last = conn.execute(_TOP, {"rid": run_id, "key": key}).one()
    if built is None:
        build(conn, run_id, key)
    else:  # the span of the stored points (every level covers them all) and the new ones
        _levels(conn, run_id, key, s, v, built, (min(first, int(s.min())), max(last, int(s.max()))))


def catch_up(conn: Connection, run_id: str, key: str, covered: int, total: int, steps: Sequence[int],
             values: Sequence[float | None]) -> None:
    """Extend a pyramid that stands for the metric's first ``covered`` points (in the order logged)
    to all ``total``; ``steps`` and ``values`` are the newest points, read from the blocks instead
    when they are not all the pyramid lacks (as arrays straight from the blocks' bytes: 200,000
    points through Python lists cost ~40 ms of the ~80 ms a first chart's catch-up took)."""
    import numpy as np

    if total <= MIN_POINTS:
        return
    if total - covered == len(steps):
        update(conn, run_id, key, steps, values, covered)
        return
    step_bytes, value_bytes = points.tail(conn, run_id, key, total - covered)
    update(conn, run_id, key, np.frombuffer(step_bytes, dtype="<i8"), np.frombuffer(value_bytes, dtype="<f8"),
           covered)


# The highest level and, from its few rows, the first and last step the pyramid covers: one
# query where the span from the blocks was a second one over all of them (0.17 s of a 2M-point fold).
_TOP = select(func.max(L.level), func.min(L.first_step), func.max(L.last_step)).where(
    L.run_id == bindparam("rid"), L.key == bindparam("key"),
    L.level == select(func.max(L.level)).where(L.run_id == bindparam("rid"), L.key == bindparam("key"))
    .scalar_subquery())


def build(conn: Connection, run_id: str, key: str) -> None:
    """The pyramid of one metric from all its points (it has none yet)."""
    import numpy as np

    steps, values, _ = points.read(conn, run_id, key, times=False)
    if steps:
        _levels(conn, run_id, key, np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=float), None,
                (steps[0], steps[-1]))


def _levels(conn: Connection, run_id: str, key: str, s: np.ndarray, v: np.ndarray, built: int | None,
            span: tuple[int, int]) -> None:
    """Write every level the metric's span (its first and last step) calls for: new points (steps
    ``s``, values ``v``, NaN for none) merged into the levels that exist (``built`` is the highest;
    None: none exist), levels new to it from the one below."""
    import numpy as np

    first, last = span
    if s.size > 1 and not (s[1:] >= s[:-1]).all():
        order = np.argsort(s, kind="stable")  # equal steps keep the order they were logged in
        s, v = s[order], v[order]
    levels = [level for level, width in enumerate(WIDTHS) if not level or width <= last - first + 1]
    fresh = {level: _aggregate(s, v, WIDTHS[level]) for level in levels if built is None or level <= built}
    if built is not None:
        fresh = _merge(conn, run_id, key, fresh)
    for level in levels:  # a level new to the metric is built from the complete level below, written first
        _write(conn, run_id, key, level, fresh[level] if level in fresh else _coarsen(conn, run_id, key, level))


def _aggregate(s: np.ndarray, v: np.ndarray, width: int) -> list[Row]:
    """One level's rows for points sorted by step."""
    import numpy as np

    bucket = np.floor_divide(s, width)
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    first, last, low, high = segment_m4(v, starts)
    counts = np.diff(np.append(starts, s.size))
    columns = [bucket[starts], counts, s[first], v[first], s[last], v[last], s[low], v[low], s[high], v[high]]
    rows = zip(*(c.tolist() for c in columns), strict=True)
    if not np.isnan(v).any():  # the common metric: no bucket has a missing value or extreme
        return list(rows)
    return [(b, n, fs, _value(fv), ls, _value(lv), *_extreme(mins, minv), *_extreme(maxs, maxv))
            for b, n, fs, fv, ls, lv, mins, minv, maxs, maxv in rows]


def _value(value: float) -> float | None:
    return None if value != value else value  # NaN is stored as NULL


def _extreme(step: int, value: float) -> tuple[int | None, float | None]:
    """A bucket's min or max point; none when the bucket holds only NaN."""
    return (None, None) if value != value else (step, value)


def _merge(conn: Connection, run_id: str, key: str, new: dict[int, list[Row]]) -> dict[int, list[Row]]:
    """Each level's new rows combined with the stored rows of the same buckets (usually only the
    last one a level), all levels read in one query (a query a level cost 0.2 s of a 2M-point fold)."""
    parts = [select(L.level, *[L[c] for c in COLUMNS[3:]]).where(
        L.run_id == run_id, L.key == key, L.level == level, L.bucket.between(rows[0][0], rows[-1][0]))
        for level, rows in new.items() if rows]
    if not parts:
        return new
    stored = {(r[0], r[1]): tuple(r[1:]) for r in conn.execute(union_all(*parts))}
    return {level: [combine(stored[level, r[0]], r) if (level, r[0]) in stored else r for r in rows]
            for level, rows in new.items()}


def combine(a: Row, b: Row) -> Row:
    """Two summaries of one bucket as one; ``a`` holds the points logged earlier (it wins ties
    for first, smallest and largest; ``b`` for last)."""
    first = a[2:4] if a[2] <= b[2] else b[2:4]
    last = b[4:6] if b[4] >= a[4] else a[4:6]
    low = a[6:8] if b[7] is None or (a[7] is not None and (a[7], a[6]) <= (b[7], b[6])) else b[6:8]
    high = a[8:10] if b[9] is None or (a[9] is not None and (-a[9], a[8]) <= (-b[9], b[8])) else b[8:10]
    return (a[0], a[1] + b[1], *first, *last, *low, *high)


def _coarsen(conn: Connection, run_id: str, key: str, level: int) -> list[Row]:
    """A level built from the complete level below: each of its buckets holds eight of those."""
    rows: dict[int, Row] = {}
    finer = conn.execute(select(*[L[c] for c in COLUMNS[3:]]).where(L.run_id == run_id, L.key == key,
                                                                   L.level == level - 1).order_by(L.bucket))
    for r in finer:
        b = r[0] // FACTOR
        row = (b, *r[1:])
        rows[b] = combine(rows[b], row) if b in rows else row
    return list(rows.values())


def _write(conn: Connection, run_id: str, key: str, level: int, rows: list[Row]) -> None:

    insert_rows(conn, schema.metric_lod, COLUMNS, [(run_id, key, level, *r) for r in rows], replace=True)


step_span = points.span


def pieces(conn: Connection, run_id: str, key: str, lo: int, hi: int, buckets: int) -> list[list[Point]]:
    """Everything in steps ``[lo, hi]`` of a long metric as pieces, each a pyramid bucket's
    M4 points (or one raw point), ordered by step and covering each point exactly once.

    Fewer than ``8 * buckets`` rows at the chosen level (the coarsest with at least one
    bucket per pixel, or the finest when even that has fewer: then a pixel shares a
    bucket), plus at most 7 rows a level at each end, plus 31 raw points at each end.
    """
    span = hi - lo + 1  # the coarsest level with a bucket per pixel; a range too short even for that
    top = max((i for i, w in enumerate(WIDTHS) if w * buckets <= span), default=0 if span > 8 * buckets else -1)
    out: list[list[Point]] = []
    spans = [(lo, hi)]
    for level in range(top, -1, -1):
        width, rest = WIDTHS[level], []
        for a, b in spans:
            first, last = -(-a // width), (b + 1) // width - 1  # the buckets wholly inside [a, b]
            if first > last:
                rest.append((a, b))
                continue
            out += [_piece(r) for r in conn.execute(select(*[L[c] for c in COLUMNS[3:]]).where(
                L.run_id == run_id, L.key == key, L.level == level, L.bucket.between(first, last)))]
            rest += [(x, y) for x, y in ((a, first * width - 1), ((last + 1) * width, b)) if x <= y]
        spans = rest
    for a, b in spans:
        steps, values, _ = points.read(conn, run_id, key, a, b, times=False)
        out += [[(step, value)] for step, value in zip(steps, values, strict=True)]
    return sorted(out)


def _piece(r: Iterable[Any]) -> list[Point]:
    _, _, fs, fv, ls, lv, mins, minv, maxs, maxv = r
    points = {(fs, fv), (ls, lv)} | {(s, v) for s, v in ((mins, minv), (maxs, maxv)) if s is not None}
    return sorted(points, key=lambda p: p[0])


def backfill(conn: Connection, metrics: Table) -> int:
    """Build the pyramid of every long metric in a store that kept a row per point, in ``metrics``
    (the migration that adds the pyramid, 0007, came before the blocks)."""
    m = metrics.c
    long = conn.execute(select(m.run_id, m.key).group_by(m.run_id, m.key).having(func.count() > MIN_POINTS)).all()
    for run_id, key in long:
        rows = conn.execute(select(m.step, m.value).where(m.run_id == run_id, m.key == key)).all()
        update(conn, run_id, key, [r[0] for r in rows], [r[1] for r in rows], 0)
    return len(long)
