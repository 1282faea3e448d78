"""Connecting to the store so that many writers never see "database is locked".

SQLite runs in WAL mode (readers never block the writer), with a long busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: a deferred
transaction that later tries to write can fail at once with SQLITE_BUSY (the busy
handler is not consulted when a read lock must be upgraded), which is the classic
source of "database is locked" under parallel sweep workers.

A store on a read-only folder (a read-only mount, or a project owned by someone
else) is opened read-only, so every command that only reads keeps working: with
``mode=ro`` when SQLite can use the WAL's shared-memory file, else ``immutable=1``
(a read-only folder where that file cannot be created).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from hunchlab.errors import StoreError
from hunchlab.project import Project

BUSY_TIMEOUT_MS = 120_000
IMMEDIATE = "hunch_immediate"


STORE_FILE = "store.db"


def sqlite_path(project: Project) -> Path | None:
    """The store's file, or None for a store on a server."""
    return project.hunch_dir / STORE_FILE if project.setting("store") in (None, "sqlite") else None


def store_url(project: Project) -> str:
    path = sqlite_path(project)
    return f"sqlite:///{path}" if path is not None else str(project.setting("store"))


def is_read_only(path: Path) -> bool:
    """Whether SQLite cannot write ``path``: the file or its folder is not writable (``access`` also
    answers no for root on a read-only mount)."""
    return (path.exists() and not os.access(path, os.W_OK)) or not os.access(path.parent, os.W_OK)


def _read_only_url(path: Path) -> str:
    """``mode=ro`` reads the WAL too; it needs the ``-shm`` file to exist or be creatable, else ``immutable``."""
    try:
        probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
            return f"sqlite:///file:{path}?mode=ro&uri=true"
        finally:
            probe.close()
    except sqlite3.Error:  # a damaged file fails here too; the real open then says so
        return f"sqlite:///file:{path}?immutable=1&uri=true"


def make_engine(project: Project, path: Path | None = None, *, read_only: bool = False) -> Engine:
    """An engine for the project's store (or the SQLite file ``path``, for a rebuild)."""
    path = path or sqlite_path(project)
    url = store_url(project) if path is None else (_read_only_url(path) if read_only else f"sqlite:///{path}")
    if path is None:
        try:
            return create_engine(url, pool_pre_ping=True)
        except Exception as e:  # noqa: BLE001 - any driver/URL problem becomes one clear message
            raise StoreError(f"cannot use store URL {url!r}: {e}", where=str(project.hunch_dir / "settings.yaml"),
                             fix="check the `store:` setting and that its driver is installed") from None
    # The default pool keeps the connection between transactions: closing SQLite's last connection
    # checkpoints the WAL (with an fsync), and a fold commits once per chunk and per run. With a
    # connection per transaction, folding 300 small runs took 16.7 s (604 closes); kept, see bench/.
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    synchronous = "FULL" if project.setting("durability") == "machine" else "NORMAL"

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
