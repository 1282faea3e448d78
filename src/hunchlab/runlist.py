"""The run listing's fast path: ``hunch runs`` on a SQLite store without importing SQLAlchemy.

Importing SQLAlchemy costs ~0.15-0.2 s, most of what ``hunch runs`` took at 10,000 runs
(0.42 s), against a target of 0.2 s. When the store is the project's SQLite file at
the schema this code knows and no run is waiting to be folded, the newest page and
the count are two queries of the standard library's ``sqlite3`` through the runs'
``seq`` index. Otherwise (PostgreSQL, a run to fold, a store to migrate, any error)
it answers None and the caller takes the ordinary path through ``hunchlab.store``,
which is the only other place that writes SQL; ``tests/unit/test_runlist.py`` holds
the two to the same answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import TYPE_CHECKING, cast

from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.project import Project

if TYPE_CHECKING:
    from hunchlab.shapes import RunRow

SCHEMA = "0012_metric_blocks_rowid"  # the last migration this reader knows the runs table of (a test pins it)
COLUMNS = ("id", "seq", "name", "status", "spec_name", "question", "group_key", "seed", "params", "summary",
           "created_at", "ended_at", "exit_code", "agent")
ENDED = ("finished", "failed", "interrupted", "crashed", "pruned")


def connect_current(project: Project) -> sqlite3.Connection | None:
    """The project's SQLite store through the standard library, when reading it needs nothing else.

    None (take the store path) for a PostgreSQL store, a store at another schema (to
    migrate, or newer than this code), a run with lines still to fold, or any error.
    Shared by this listing and compare's reads (``hunchlab.readsql``).
    """
    if project.setting("store") not in (None, "sqlite"):
        return None
    path = project.hunch_dir / "store.db"
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, timeout=10)
    except sqlite3.Error:
        return None
    try:
        if _current(conn, project):
            return conn
    except sqlite3.Error:
        pass
    conn.close()
    return None


def runs_page(project: Project, limit: int | None) -> tuple[list[RunRow], int] | None:
    """The newest ``limit`` runs and how many there are, or None when the full path must answer."""
    conn = connect_current(project)
    if conn is None:
        return None
    try:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY seq DESC LIMIT ?",
                            (-1 if limit is None else limit,)).fetchall()
        total = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    out: list[RunRow] = []
    for row in rows:
        d = dict(zip(COLUMNS, row, strict=True))
        d["params"], d["summary"] = json.loads(d["params"]), json.loads(d["summary"])
        out.append(cast("RunRow", d))  # COLUMNS are RunRow's keys (tests/unit/test_shapes.py)
    return out, total


def _current(conn: sqlite3.Connection, project: Project) -> bool:
    """Whether the store is at this reader's schema and holds every pending run fully folded."""
    applied = {r[0] for r in conn.execute("SELECT name FROM hunch_migrations")}
    # every migration up to this reader's, not only the last: they are numbered 0001, 0002, ...
    # and a store whose record lacks one (say, a rekeying to run again) needs the full open
    if max(applied, default="") != SCHEMA or len(applied) != int(SCHEMA[:4]):
        return False
    try:
        pending = os.listdir(project.pending_dir)
    except FileNotFoundError:
        return True
    for i in range(0, len(pending), 500):
        ids = pending[i:i + 500]
        marks = ", ".join("?" * len(ids))
        known = dict((r[0], r[1:]) for r in conn.execute(
            f"SELECT id, status, folded_bytes FROM runs WHERE id IN ({marks})", ids))
        for run_id in ids:
            status, folded = known.get(run_id, ("running", 0))
            if status not in ENDED or _size(project, run_id) > folded:
                return False  # a live run may have died, or lines wait: the fold decides
    return True


def _size(project: Project, run_id: str) -> int:
    try:
        return os.stat(project.run_dir(run_id) / EVENTS_FILE).st_size
    except FileNotFoundError:
        return 0
