"""Run numbers on a store that several project folders share.

A run's id ends in its number (``bright-otter-7``), and people type the number
(``hunch show 7``). A project folder on SQLite counts in ``.hunch/seq`` (``ids.py``);
clones sharing one PostgreSQL store each counted for themselves, so two of them handed
out the same numbers and ``hunch show 1`` picked one of the two. On PostgreSQL every
folder takes its numbers from one sequence in the store (``nextval`` never gives a
number twice, holds no lock past the call, and a rolled-back transaction does not
return its number: a gap, never a repeat).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, text

from hunchlab.errors import NotFound
from hunchlab.store import schema


def next_run_number(conn: Connection) -> int:
    """The next run number of a PostgreSQL store (created by migration 0009_shared_store)."""
    return int(conn.execute(text(f"SELECT nextval('{schema.RUN_SEQUENCE}')")).scalar_one())


def run_numbered(conn: Connection, number: int) -> str | None:
    """The run with this number, None if there is none; raises when several share it.

    Several can only come from before the store handed out numbers (each clone counted
    for itself): naming one of them silently would show the wrong run.
    """
    c = schema.runs.c
    hits = conn.execute(select(c.id, c.host).where(c.seq == number).order_by(c.created_at).limit(6)).all()
    if len(hits) > 1:
        which = ", ".join(f"{run_id} (on {host})" for run_id, host in hits[:5])
        raise NotFound(f"run number {number} belongs to {len(hits)} runs: {which}; they were numbered by project "
                       "folders that each counted for themselves", fix="name the run by its id")
    return str(hits[0][0]) if hits else None
