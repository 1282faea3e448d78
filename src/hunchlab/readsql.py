"""The read queries behind ``hunch compare``, ``hunch plot`` and ``hunch report``, in plain SQL.

Each function answers with one query per table for a whole set of runs, never one per
run: a comparison of two 5-seed groups with 10,000 examples a run reads 100,000
example rows, summed per example by the database (one grouped query a side). Ids go in
chunks of ``IN_CHUNK`` to stay under SQLite's limit on bound parameters.

They run on a ``Reader``: a SQLAlchemy connection from the store (SQLite or
PostgreSQL), or a bare ``sqlite3`` connection from ``connect_current`` (``hunchlab.runlist``). The second is
the fast path of a fresh ``hunch compare``: importing SQLAlchemy and building its
statements cost ~0.25 s of CPU on the reference machine, more than half of the
command's cold start, to run five SELECTs. It is taken only when the store is the
project's SQLite file at the schema this code knows (``SCHEMA``, pinned by a test to the
last migration) and no run waits to be folded; otherwise the store path answers, with
the same queries. That is why this SQL lives outside ``hunchlab.store``: importing any
module of that package imports SQLAlchemy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np

from hunchlab import packed
from hunchlab.runlist import SCHEMA, connect_current

__all__ = ["IN_CHUNK", "SCHEMA", "Reader", "Tallies", "connect_current", "reader"]

IN_CHUNK = 500
RUN_COLUMNS = ("id", "seq", "name", "status", "spec_name", "question", "group_key", "seed", "params", "summary",
               "created_at", "ended_at")


class Reader:
    """Plain SQL on a SQLAlchemy connection (any dialect) or a bare sqlite3 connection."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.raw = isinstance(conn, sqlite3.Connection)
        self.postgres = not self.raw and conn.dialect.name == "postgresql"
        self.mark = "?" if self.raw or conn.dialect.paramstyle == "qmark" else "%s"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.raw:
            return self.conn.execute(sql, tuple(params)).fetchall()  # type: ignore[no-any-return]
        return [tuple(r) for r in self.conn.exec_driver_sql(sql, tuple(params)).fetchall()]

    def marks(self, n: int) -> str:
        return ", ".join([self.mark] * n)

    def json(self, column: str, *path: str) -> str:
        """A value inside a JSON text column, read by the database so the whole document is never parsed here."""
        if self.postgres:
            return f"({column}::jsonb #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"


def reader(conn: Any) -> Reader:
    return conn if isinstance(conn, Reader) else Reader(conn)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    ids = list(dict.fromkeys(ids))
    for i in range(0, len(ids), IN_CHUNK):
        yield ids[i:i + IN_CHUNK]


def _runs(r: Reader, where: str = "", params: Sequence[Any] = (), *, code: bool) -> list[dict[str, Any]]:
    extra = [r.json("meta", "spec", "smoke")]
    if code:
        extra += [r.json("meta", "code"), r.json("meta", "spec", "metrics")]
    names = [*RUN_COLUMNS, "smoke", *(["code", "metric_specs"] if code else [])]
    rows = r.rows(f"SELECT {', '.join(RUN_COLUMNS)}, {', '.join(extra)} FROM runs {where}", params)
    out = []
    for row in rows:
        d = dict(zip(names, row, strict=True))
        d["params"], d["summary"] = json.loads(d["params"]), json.loads(d["summary"])
        d["smoke"] = d["smoke"] in (1, True, "true")
        for key in ("code", "metric_specs"):
            if key in d:
                d[key] = json.loads(d[key]) if d[key] else {}
        out.append(d)
    return out


def all_runs(conn: Any) -> list[dict[str, Any]]:
    """Every run, newest first, with what selectors filter on (params, summary, status, smoke)."""
    return _runs(reader(conn), "ORDER BY seq DESC", code=False)


def runs_by_id(conn: Any, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The selected runs with their code state (commit, dirty, diff size) and metric declarations, by id."""
    r = reader(conn)
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(run_ids):
        for run in _runs(r, f"WHERE id IN ({r.marks(len(chunk))})", chunk, code=True):
            out[run["id"]] = run
    return out


def group_keys_like(conn: Any, prefix: str) -> list[str]:
    """Group keys starting with ``prefix`` (a group id may be shortened, like a commit)."""
    r = reader(conn)
    return [k for (k,) in r.rows(f"SELECT DISTINCT group_key FROM runs WHERE group_key LIKE {r.mark} "
                                 "ORDER BY group_key LIMIT 6", [f"{prefix}%"])]


def last_values(conn: Any, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per run, per logged metric, the value at its last step: what a run without a summary has so far."""
    r = reader(conn)
    out: dict[str, dict[str, float]] = {}
    for chunk in _chunks(run_ids):  # the blocks that hold a metric's highest step (usually its last one)
        sql = (f"SELECT b.run_id, b.key, b.steps, b.vals FROM metric_blocks b JOIN (SELECT run_id, key, "
               f"max(max_step) AS top FROM metric_blocks WHERE run_id IN ({r.marks(len(chunk))}) "
               "GROUP BY run_id, key) last ON b.run_id = last.run_id AND b.key = last.key AND b.max_step = last.top "
               "ORDER BY b.run_id, b.key, b.seq")
        for (run_id, key), blocks in groupby(r.rows(sql, chunk), key=itemgetter(0, 1)):
            point = packed.last_point(((s, v) for _, _, s, v in blocks), not r.postgres)
            if point is not None:
                out.setdefault(run_id, {})[key] = point[1]  # type: ignore[assignment]  # NaN: None, as before
    return out


Point = tuple[int, float, float]  # (step, time, value)


def histories(conn: Any, run_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, list[Point]]]:
    """Per run, per metric in ``keys``: ``(step, time, value)`` in step order."""
    r = reader(conn)
    out: dict[str, dict[str, list[Point]]] = {}
    if not keys:
        return out
    for chunk in _chunks(run_ids):
        sql = (f"SELECT run_id, key, steps, vals, times FROM metric_blocks WHERE run_id IN ({r.marks(len(chunk))}) "
               f"AND key IN ({r.marks(len(keys))}) ORDER BY run_id, key, seq")
        for (run_id, key), blocks in groupby(r.rows(sql, [*chunk, *keys]), key=itemgetter(0, 1)):
            steps, values, times = packed.points((row[2:] for row in blocks), not r.postgres)
            out.setdefault(run_id, {})[key] = list(zip(steps, times, values, strict=True))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class Tallies:
    """Per example id (sorted) over a side's runs: sums and counts of ``correct`` and of ``score``."""

    ids: np.ndarray  # (E,) str, sorted
    correct_sum: np.ndarray  # (E,) float
    correct_n: np.ndarray  # (E,) int: records with a correct value
    score_sum: np.ndarray  # (E,) float
    score_n: np.ndarray  # (E,) int


def example_tallies(conn: Any, run_ids: Sequence[str]) -> Tallies:
    """Per example id over the runs: the sums and counts of ``correct`` and ``score``, as arrays.

    One grouped query per side (per ``IN_CHUNK`` runs), summed by the database, so a
    5-seed side with 10,000 examples a run returns 10,000 rows instead of 50,000, and
    the rows go straight into numpy columns. Inputs and outputs are left out: only the
    few flips shown need them (``example_details``).
    """
    r = reader(conn)
    parts = [r.rows("SELECT example_id, sum(CAST(correct AS INTEGER)), count(correct), sum(score), count(score) "
                    f"FROM examples WHERE run_id IN ({r.marks(len(chunk))}) GROUP BY example_id", chunk)
             for chunk in _chunks(run_ids)]
    rows = parts[0] if len(parts) == 1 else _merge(parts)
    if not rows:
        empty = np.zeros(0)
        return Tallies(np.array([], dtype=str), empty, empty.astype(int), empty, empty.astype(int))
    ids, c_sum, c_n, s_sum, s_n = zip(*rows, strict=True)
    order = np.argsort(np.array(ids))  # the database's collation may not be Python's

    def column(values: Sequence[Any], kind: type) -> np.ndarray:
        return np.array([0 if v is None else v for v in values], dtype=kind)[order]

    return Tallies(np.array(ids)[order], column(c_sum, float), column(c_n, int), column(s_sum, float),
                   column(s_n, int))


def _merge(parts: list[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Rows of several run chunks, summed per example (only for sides of more than IN_CHUNK runs)."""
    acc: dict[str, list[float]] = {}
    for rows in parts:
        for example_id, *values in rows:
            slot = acc.setdefault(example_id, [0.0, 0, 0.0, 0])
            for i, v in enumerate(values):
                slot[i] += v or 0
    return [(k, *v) for k, v in acc.items()]


def example_details(conn: Any, run_ids: Sequence[str],
                    example_ids: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Input, output and target of a few examples, by ``(run_id, example_id)``."""
    r = reader(conn)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if not example_ids:
        return out
    for chunk in _chunks(run_ids):
        sql = (f"SELECT run_id, example_id, input, output, target FROM examples WHERE run_id IN "
               f"({r.marks(len(chunk))}) AND example_id IN ({r.marks(len(example_ids))})")
        for run_id, example_id, *values in r.rows(sql, [*chunk, *example_ids]):
            out[(run_id, example_id)] = {k: None if v is None else json.loads(v)
                                         for k, v in zip(("input", "output", "target"), values, strict=True)}
    return out
