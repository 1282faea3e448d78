"""Queries behind ``hunch compare``, ``hunch plot`` and ``hunch report``.

Each function takes a Connection and a set of run ids and answers with one query per
table, never one per run: a comparison of two 5-seed groups with 10,000 examples a
run reads 100,000 example rows, and a query per run would spend its time in round
trips instead. Ids go in chunks of ``IN_CHUNK`` to stay under SQLite's limit on
bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Column, ColumnElement, Connection, Integer, and_, cast, func, select

from hunchlab.store import schema

IN_CHUNK = 500
RUN_COLUMNS = ("id", "seq", "name", "status", "spec_name", "question", "group_key", "seed", "params", "summary",
               "created_at", "ended_at")


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    ids = list(dict.fromkeys(ids))
    for i in range(0, len(ids), IN_CHUNK):
        yield ids[i:i + IN_CHUNK]


def _json_path(conn: Connection, column: Column[Any], *path: str) -> ColumnElement[Any]:
    """A value inside a JSON text column, read by the database so the whole document is never parsed here."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return cast(column, JSONB)[list(path)].astext
    return func.json_extract(column, "$." + ".".join(path))


def _run_query(conn: Connection, *, code: bool) -> Any:
    c = schema.runs.c
    smoke = _json_path(conn, c.meta, "spec", "smoke").label("smoke")
    cols = [*(c[name] for name in RUN_COLUMNS), smoke]
    if code:
        cols.append(_json_path(conn, c.meta, "code").label("code"))
        cols.append(_json_path(conn, c.meta, "spec", "metrics").label("metric_specs"))
    return select(*cols)


def _run_row(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["params"] = json.loads(d["params"])
    d["summary"] = json.loads(d["summary"])
    d["smoke"] = d["smoke"] in (1, True, "true")
    for key in ("code", "metric_specs"):
        if key in d:
            d[key] = json.loads(d[key]) if d[key] else {}
    return d


def all_runs(conn: Connection) -> list[dict[str, Any]]:
    """Every run, newest first, with what selectors filter on (params, summary, status, smoke)."""
    rows = conn.execute(_run_query(conn, code=False).order_by(schema.runs.c.seq.desc()))
    return [_run_row(r) for r in rows]


def runs_by_id(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The selected runs with their code state (commit, dirty, diff size), by id."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(run_ids):
        for row in conn.execute(_run_query(conn, code=True).where(schema.runs.c.id.in_(chunk))):
            out[row.id] = _run_row(row)
    return out


def group_keys_like(conn: Connection, prefix: str) -> list[str]:
    """Group keys starting with ``prefix`` (a group id may be shortened, like a commit)."""
    c = schema.runs.c
    return list(conn.execute(select(c.group_key).where(c.group_key.like(f"{prefix}%")).distinct()
                             .order_by(c.group_key).limit(6)).scalars())


def last_values(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per run, per logged metric, the value at its last step: what a run without a summary has so far."""
    m = schema.metrics.c
    out: dict[str, dict[str, float]] = {}
    for chunk in _chunks(run_ids):
        last = (select(m.run_id, m.key, func.max(m.step).label("step"))
                .where(m.run_id.in_(chunk)).group_by(m.run_id, m.key).subquery())
        rows = conn.execute(select(m.run_id, m.key, m.value).join(
            last, and_(m.run_id == last.c.run_id, m.key == last.c.key, m.step == last.c.step)))
        for run_id, key, value in rows:
            out.setdefault(run_id, {})[key] = value
    return out


Point = tuple[int, float, float]  # (step, time, value)


def histories(conn: Connection, run_ids: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, list[Point]]]:
    """Per run, per metric in ``keys``: ``(step, time, value)`` in step order."""
    m = schema.metrics.c
    out: dict[str, dict[str, list[Point]]] = {}
    for chunk in _chunks(run_ids):
        rows = conn.execute(select(m.run_id, m.key, m.step, m.time, m.value)
                            .where(m.run_id.in_(chunk), m.key.in_(list(keys))).order_by(m.run_id, m.key, m.step))
        for run_id, key, step, t, value in rows:
            out.setdefault(run_id, {}).setdefault(key, []).append((step, t, value))
    return out


@dataclass(frozen=True)
class Tallies:
    """Per example id (sorted) over a side's runs: sums and counts of ``correct`` and of ``score``."""

    ids: np.ndarray  # (E,) str, sorted
    correct_sum: np.ndarray  # (E,) float
    correct_n: np.ndarray  # (E,) int: records with a correct value
    score_sum: np.ndarray  # (E,) float
    score_n: np.ndarray  # (E,) int


def example_tallies(conn: Connection, run_ids: Sequence[str]) -> Tallies:
    """Per example id over the runs: the sums and counts of ``correct`` and ``score``, as arrays.

    One grouped query per side (per ``IN_CHUNK`` runs), summed by the database, so a
    5-seed side with 10,000 examples a run returns 10,000 rows instead of 50,000, and
    the rows go straight into numpy columns. Inputs and outputs are left out: only the
    few flips shown need them (``example_details``).
    """
    e = schema.examples.c
    right = cast(e.correct, Integer)
    sums = (func.sum(right), func.count(right), func.sum(e.score), func.count(e.score))
    parts = [conn.execute(select(e.example_id, *sums).where(e.run_id.in_(chunk)).group_by(e.example_id)).all()
             for chunk in _chunks(run_ids)]
    rows = parts[0] if len(parts) == 1 else _merge(parts)
    if not rows:
        empty = np.zeros(0)
        return Tallies(np.array([], dtype=str), empty, empty.astype(int), empty, empty.astype(int))
    ids, c_sum, c_n, s_sum, s_n = zip(*rows, strict=True)
    order = np.argsort(np.array(ids))  # the database's collation may not be Python's
    def column(values: Any, kind: Any) -> np.ndarray:
        return np.array([0 if v is None else v for v in values], dtype=kind)[order]

    return Tallies(np.array(ids)[order], column(c_sum, float), column(c_n, int), column(s_sum, float),
                   column(s_n, int))


def _merge(parts: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of several run chunks, summed per example (only for sides of more than IN_CHUNK runs)."""
    acc: dict[str, list[float]] = {}
    for rows in parts:
        for example_id, *values in rows:
            slot = acc.setdefault(example_id, [0.0, 0, 0.0, 0])
            for i, v in enumerate(values):
                slot[i] += v or 0
    return [(k, *v) for k, v in acc.items()]


def example_details(conn: Connection, run_ids: Sequence[str],
                    example_ids: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Input, output and target of a few examples, by ``(run_id, example_id)``."""
    e = schema.examples.c
    out: dict[tuple[str, str], dict[str, Any]] = {}
    if not example_ids:
        return out
    for chunk in _chunks(run_ids):
        for row in conn.execute(select(e.run_id, e.example_id, e.input, e.output, e.target)
                                .where(e.run_id.in_(chunk), e.example_id.in_(list(example_ids)))):
            out[(row.run_id, row.example_id)] = {k: None if getattr(row, k) is None else json.loads(getattr(row, k))
                                                 for k in ("input", "output", "target")}
    return out
