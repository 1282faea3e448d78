"""Queries behind ``hunch ui`` that the other modules do not have: ranges of one metric,
pages of example records, and which runs have journal entries.

They read only what a page shows: a chart of a million-point metric reads the metric
pyramid (``store.lod``), and a page of examples needs 50 rows, not the run's 100,000.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, or_, select

from hunchlab.store import example_record, points, schema

if TYPE_CHECKING:
    from hunchlab.shapes import ExampleRecord


def metric_range(conn: Connection, run_id: str, key: str, lo: int, hi: int) -> tuple[list[int], list[float | None]]:
    """Steps and values of one metric of one run with ``lo <= step <= hi``, in step order."""
    steps, values, _ = points.read(conn, run_id, key, lo, hi, times=False)
    return steps, values


def count_points(conn: Connection, run_id: str, key: str, lo: int, hi: int, cap: int) -> int:
    """Points of a metric in ``[lo, hi]``, counted up to ``cap`` only (a million need not be counted
    to know they are too many to send)."""
    return points.count(conn, run_id, key, lo, hi, cap)


def runs_fingerprint(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever any run is added, folds new events, ends or is marked crashed: a key
    for caching the run listing (one pass over the runs table, no JSON parsed)."""
    c = schema.runs.c
    return tuple(conn.execute(select(func.count(), func.max(c.seq), func.sum(c.folded_bytes),
                                     func.sum(c.ended_at), func.sum(func.length(c.status)))).one())


def runs_with_entries(conn: Connection) -> set[str]:
    """Ids of runs that some journal entry is about."""
    j = schema.journal.c
    return set(conn.execute(select(j.run_id).where(j.run_id.is_not(None)).distinct()).scalars())


def example_page(conn: Connection, run_id: str, *, correct: bool | None = None, search: str | None = None,
                 offset: int = 0, limit: int = 50) -> tuple[int, list[ExampleRecord]]:
    """One page of a run's example records (by id) and how many match in all.

    ``search`` matches inside the input, output, target or free fields (their JSON text),
    case-insensitively, so "algebra" finds a topic field and "Traceback" an output.
    """
    e = schema.examples.c
    where = [e.run_id == run_id]
    if correct is not None:
        where.append(e.correct.is_(correct))
    if search:
        like = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(*(func.lower(col).like(like, escape="\\") for col in (e.example_id, e.input, e.output,
                                                                              e.target, e.fields))))
    total = conn.execute(select(func.count()).select_from(schema.examples).where(*where)).scalar_one()
    rows = conn.execute(select(schema.examples).where(*where).order_by(e.example_id).offset(offset).limit(limit))
    return total, [example_record(r) for r in rows]


def example_counts(conn: Connection, run_id: str) -> dict[str, int]:
    """How many examples a run has, and how many are marked right and wrong."""
    e = schema.examples.c
    rows = conn.execute(select(e.correct, func.count()).where(e.run_id == run_id).group_by(e.correct)).all()
    counts = {"total": 0, "right": 0, "wrong": 0}
    for correct, n in rows:
        counts["total"] += n
        if correct is not None:
            counts["right" if correct else "wrong"] += n
    return counts
