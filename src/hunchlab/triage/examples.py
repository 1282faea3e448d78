"""A run's example records: find the run, check it logged some, filter them, list or export them.

The library behind ``hunch examples``, and the ground every other triage step stands on: sampling,
tagging and counting all start by opening the run, refusing one without example records (with how
to log them), and parsing ``--where`` against the fields its examples actually have, so a typo in
a field name is caught with a suggestion instead of matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hunchlab.current import current_store
from hunchlab.errors import NotFound, WrongState, did_you_mean
from hunchlab.run_records import parse_where

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hunchlab.project import Project
    from hunchlab.run_records import Filter
    from hunchlab.store import Store

HOW_TO_LOG = ("log one record per evaluated example: run.example(id=..., input=..., output=..., target=..., "
              "correct=...) (see docs/triage.md)")


def open_run(ref: str, project: Project | None) -> tuple[Store, str]:
    """The open store and the run ``ref`` names; the store is closed again if the run is not found."""
    store = current_store(project)
    try:
        return store, store.resolve_run(ref)
    except BaseException:
        store.close()
        raise


def where_filters(conn: Connection, run_id: str, where: Sequence[str]) -> list[Filter]:
    """Parsed ``--where`` filters, refusing a key no example of the run has (and listing the fields)."""
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    filters = [parse_where(w) for w in where]
    for f in filters:
        if f.key not in q.BUILTIN_KEYS and not q.has_field(conn, run_id, f.key):
            names = [*q.BUILTIN_KEYS, *q.field_names(conn, q.condition(conn, run_id, []))]
            raise NotFound(f"--where '{f.text}': no example of run {run_id} has a field '{f.key}'"
                           f"{did_you_mean(f.key, names)}", fix=f"fields: {', '.join(names)}")
    return filters


def require_examples(conn: Connection, run_id: str) -> dict[bool | None, int]:
    """The run's examples counted by correctness (True, False, None), refusing a run that logged none."""
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    counts = q.correctness_counts(conn, run_id)
    if not counts:
        raise WrongState(f"run {run_id} has no example records", fix=HOW_TO_LOG)
    return counts


def list_examples(ref: str, where: Sequence[str] = (), *, limit: int | None = 50,
                  project: Project | None = None) -> dict[str, Any]:
    """A run's example records matching ``where`` (``["correct=false", "topic=algebra"]``), in id order.

    Returns ``{"run_id", "total", "fields", "examples"}``: ``total`` counts every match,
    ``examples`` holds the first ``limit`` (all for None), ``fields`` their free fields.
    """
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    store, run_id = open_run(ref, project)
    with store, store.read() as conn:
        require_examples(conn, run_id)
        where_clause = q.condition(conn, run_id, where_filters(conn, run_id, where))
        rows = list(q.iter_examples(conn, where_clause, limit))
        total = q.count(conn, where_clause) if limit is not None and len(rows) == limit else len(rows)
    names = list(dict.fromkeys(k for r in rows for k in r["fields"]))
    return {"run_id": run_id, "total": total, "fields": names, "examples": rows}


def export_examples(ref: str, where: Sequence[str] = (), *,
                    project: Project | None = None) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Every matching record, streamed (a million do not sit in memory), and the field names first.

    The names come first so a CSV can have one column per field from its header on.
    """
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    store, run_id = open_run(ref, project)
    try:
        with store.read() as conn:
            require_examples(conn, run_id)
            filters = where_filters(conn, run_id, where)
            names = q.field_names(conn, q.condition(conn, run_id, filters))
    except BaseException:
        store.close()
        raise

    def rows() -> Iterator[dict[str, Any]]:
        with store, store.read() as conn:
            yield from q.iter_examples(conn, q.condition(conn, run_id, filters))

    return names, rows()
