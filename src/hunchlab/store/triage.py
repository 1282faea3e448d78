"""Queries for failure triage: example filters, sampling, tags, samples.

Sampling touches only the covering index on (run_id, correct, example_id, score,
fields) (``schema.examples_failures_sqlite``), so drawing 100 failures out of a million
records reads ids, never the records' input/output/target text; the one full record
read is the example on screen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    and_,
    cast,
    delete,
    false,
    func,
    select,
    true,
    type_coerce,
    update,
)

from hunchlab.run_records import Filter
from hunchlab.store import ledger, schema

ex = schema.examples.c
tg = schema.tags.c
it = schema.triage_items.c
BUILTIN_KEYS = ("id", "correct", "score", "input", "output", "target")
TEXT_KEYS = {"input": ex.input, "output": ex.output, "target": ex.target}
OPS = {"=": "__eq__", "!=": "__ne__", ">": "__gt__", ">=": "__ge__", "<": "__lt__", "<=": "__le__"}
CHUNK = 500  # ids per IN (...) list: well under SQLite's 999-parameter floor


# -- filters ----------------------------------------------------------------------------
def json_field(conn: Connection, key: str) -> Any:
    """``fields[key]`` as a JSON element: SQLite reads the TEXT as JSON as is, PostgreSQL needs a cast."""
    if conn.dialect.name == "sqlite":
        return type_coerce(ex.fields, JSON)[key]
    from sqlalchemy.dialects.postgresql import JSONB  # 75 ms of imports (asyncpg, asyncio) SQLite never needs

    return cast(ex.fields, JSONB)[key]


def condition(conn: Connection, run_id: str, filters: Sequence[Filter], *, failures: bool = False) -> ColumnElement[bool]:
    """The WHERE clause for a run's examples matching every filter (and failing, if asked)."""
    parts: list[ColumnElement[bool]] = [ex.run_id == run_id]
    if failures:
        parts.append(ex.correct == false())
    parts.extend(_filter(conn, f) for f in filters)
    return and_(*parts)


def _filter(conn: Connection, f: Filter) -> ColumnElement[bool]:
    value = f.value
    if f.key == "id":
        column: Any = ex.example_id
        value = str(value)
    elif f.key == "correct":
        column = ex.correct
        if value is None or isinstance(value, bool):
            return column.is_(None) if value is None else _compare(column, f.op, true() if value else false())
    elif f.key == "score":
        column = ex.score
    elif f.key in TEXT_KEYS:  # stored as JSON text: match the text, or the JSON of the value
        column = TEXT_KEYS[f.key]
        value = value if f.op == "~" else json.dumps(value)
    else:
        element = json_field(conn, f.key)
        if value is None:
            text = element.as_string()
            missing: ColumnElement[bool] = text.is_(None) if f.op == "=" else text.is_not(None)
            return missing
        if isinstance(value, bool):
            column = element.as_boolean()
        elif isinstance(value, (int, float)) and f.op != "~":
            column = element.as_float()
        else:
            column, value = element.as_string(), str(value)
    return _compare(column, f.op, value)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = (column.icontains(str(value), autoescape=True) if op == "~"
                                   else getattr(column, OPS[op])(value))
    return clause


def has_field(conn: Connection, run_id: str, key: str) -> bool:
    """Whether any example of the run has the free field ``key``."""
    element = json_field(conn, key).as_string()
    return conn.execute(select(ex.example_id).where(ex.run_id == run_id, element.is_not(None)).limit(1)).first() is not None


def field_names(conn: Connection, where: ColumnElement[bool]) -> list[str]:
    """Every free field of the matching examples, in first-seen order (distinct ``fields`` texts only)."""
    names: dict[str, None] = {}
    for (fields,) in conn.execute(select(ex.fields).where(where).distinct()):
        names.update(dict.fromkeys(json.loads(fields or "{}")))
    return list(names)


def count(conn: Connection, where: ColumnElement[bool]) -> int:
    return conn.execute(select(func.count()).select_from(schema.examples).where(where)).scalar_one()


def correctness_counts(conn: Connection, run_id: str) -> dict[bool | None, int]:
    """How many of the run's examples are right, wrong, and not graded."""
    rows = conn.execute(select(ex.correct, func.count()).where(ex.run_id == run_id).group_by(ex.correct))
    return {None if c is None else bool(c): n for c, n in rows}


# -- sampling ---------------------------------------------------------------------------
def ids_at(conn: Connection, where: ColumnElement[bool], positions: Iterable[int]) -> list[str]:
    """The ids at the given positions (0-based, in example_id order) among rows matching ``where``.

    One walk through the index: each query seeks past the previous hit and lets the
    database skip ``gap`` rows itself (OFFSET), so Python never sees the rows in between.
    """
    out: list[str] = []
    last: str | None = None
    previous = -1
    for position in sorted(positions):
        stmt = select(ex.example_id).where(where).order_by(ex.example_id).offset(position - previous - 1).limit(1)
        if last is not None:
            stmt = stmt.where(ex.example_id > last)
        last = conn.execute(stmt).scalar_one()
        out.append(last)
        previous = position
    return out


def ids_and_strata(conn: Connection, where: ColumnElement[bool], by: str) -> list[tuple[str, str | None]]:
    """Every matching id with its ``by`` field as text, in id order (index only, no record text)."""
    stratum = json_field(conn, by).as_string()
    return [(i, s) for i, s in conn.execute(select(ex.example_id, stratum).where(where).order_by(ex.example_id))]


def save_sample(conn: Connection, run_id: str, meta: dict[str, Any], items: Sequence[tuple[str, str | None]],
                seen: Collection[str] = ()) -> None:
    """Replace the run's sample by a new one (``items`` in walking order); tags are kept, and ids in ``seen`` stay read."""
    conn.execute(delete(schema.triage_items).where(it.run_id == run_id))
    conn.execute(delete(schema.triage_samples).where(schema.triage_samples.c.run_id == run_id))
    conn.execute(schema.triage_samples.insert().values(
        run_id=run_id, size=meta["asked"], seed=meta["seed"], by_field=meta["by"], filters=json.dumps(meta["where"]),
        population=json.dumps(meta["population"]), created_at=time.time()))
    if items:
        conn.execute(schema.triage_items.insert(), [
            {"run_id": run_id, "position": i, "example_id": eid, "stratum": stratum, "seen": eid in seen}
            for i, (eid, stratum) in enumerate(items)])


def load_sample(conn: Connection, run_id: str) -> dict[str, Any] | None:
    """The run's sample with its items (and each item's tag), or None when none was drawn."""
    s = schema.triage_samples.c
    row = conn.execute(select(schema.triage_samples).where(s.run_id == run_id)).first()
    if row is None:
        return None
    items = conn.execute(
        select(it.position, it.example_id, it.stratum, it.seen, tg.category, tg.note)
        .select_from(schema.triage_items.outerjoin(schema.tags, (tg.run_id == it.run_id) & (tg.example_id == it.example_id)))
        .where(it.run_id == run_id).order_by(it.position))
    return {"run_id": run_id, "asked": row.size, "seed": row.seed, "by": row.by_field, "where": json.loads(row.filters),
            "population": [tuple(p) for p in json.loads(row.population)], "created_at": row.created_at,
            "items": [dict(r._mapping) for r in items]}


def mark_seen(conn: Connection, run_id: str, position: int) -> None:
    conn.execute(update(schema.triage_items).where(it.run_id == run_id, it.position == position).values(seen=True))


# -- records ----------------------------------------------------------------------------
def get_example(conn: Connection, run_id: str, example_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(schema.examples).where(ex.run_id == run_id, ex.example_id == example_id)).first()
    return None if row is None else decode(row)


def iter_examples(conn: Connection, where: ColumnElement[bool], limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Matching records in id order, decoded, fetched in batches (an export of a million streams)."""
    stmt = select(schema.examples).where(where).order_by(ex.example_id).limit(limit).execution_options(yield_per=2000)
    for row in conn.execute(stmt):
        yield decode(row)


def decode(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    out = {"id": d["example_id"], "correct": None if d["correct"] is None else bool(d["correct"]), "score": d["score"]}
    for key in ("input", "output", "target"):
        out[key] = None if d[key] is None else json.loads(d[key])
    out["fields"] = json.loads(d["fields"]) if d["fields"] else {}
    return out


def existing_ids(conn: Connection, run_id: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), CHUNK):
        found.update(conn.execute(select(ex.example_id).where(ex.run_id == run_id, ex.example_id.in_(ids[i:i + CHUNK])))
                     .scalars())
    return found


def ids_like(conn: Connection, run_id: str, prefix: str, limit: int = 2000) -> list[str]:
    """Ids of the run starting like ``prefix``: the candidates for a "did you mean"."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(conn.execute(select(ex.example_id).where(ex.run_id == run_id, ex.example_id.like(f"{escaped}%", escape="\\"))
                             .limit(limit)).scalars())


def correct_of(conn: Connection, run_id: str, ids: Sequence[str]) -> dict[str, bool | None]:
    """``correct`` of each id present in the run (from the index, no record text)."""
    out: dict[str, bool | None] = {}
    for i in range(0, len(ids), CHUNK):
        for eid, correct in conn.execute(select(ex.example_id, ex.correct)
                                         .where(ex.run_id == run_id, ex.example_id.in_(ids[i:i + CHUNK]))):
            out[eid] = None if correct is None else bool(correct)
    return out


# -- tags -------------------------------------------------------------------------------
def set_tag(conn: Connection, run_id: str, example_id: str, *, category: str | None, note: str | None,
            agent: str | None = None) -> None:
    """Set an example's tag and note in this run (``agent``: who tagged it); a row with neither is removed."""
    ledger.delete(conn, schema.tags, {"run_id": run_id, "example_id": example_id})
    if category is not None or note is not None:
        ledger.insert(conn, schema.tags, {"run_id": run_id, "example_id": example_id, "category": category,
                                          "note": note, "tagged_at": time.time(),
                                          **({"agent": agent} if agent else {})})


def get_tag(conn: Connection, run_id: str, example_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(tg.category, tg.note, tg.agent)
                       .where(tg.run_id == run_id, tg.example_id == example_id)).first()
    return None if row is None else dict(row._mapping)


def run_tags(conn: Connection, run_id: str) -> list[dict[str, Any]]:
    """The run's tags, oldest first (so categories keep the order they were made in)."""
    rows = conn.execute(select(tg.example_id, tg.category, tg.note, tg.tagged_at).where(tg.run_id == run_id)
                        .order_by(tg.tagged_at, tg.example_id))
    return [dict(r._mapping) for r in rows]


def earlier_tags(conn: Connection, run_id: str, example_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Tags the same examples got in other runs, newest first: what carries across runs."""
    out: list[dict[str, Any]] = []
    for i in range(0, len(example_ids), CHUNK):
        rows = conn.execute(select(tg.run_id, tg.example_id, tg.category, tg.note, tg.tagged_at)
                            .where(tg.example_id.in_(example_ids[i:i + CHUNK]), tg.run_id != run_id,
                                   tg.category.is_not(None)))
        out.extend(dict(r._mapping) for r in rows)
    return sorted(out, key=lambda r: -r["tagged_at"])
