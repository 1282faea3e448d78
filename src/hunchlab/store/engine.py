"""Connecting to the store so that many writers never see "database is locked".

SQLite runs in WAL mode (readers never block the writer), with a long busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE``: a deferred
transaction that later tries to write can fail at once with SQLITE_BUSY (the busy
handler is not consulted when a read lock must be upgraded), which is the classic
source of "database is locked" under parallel sweep workers.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event

from hunchlab.errors import StoreError
from hunchlab.project import Project

BUSY_TIMEOUT_MS = 120_000
IMMEDIATE = "hunch_immediate"


def store_url(project: Project) -> str:
    setting = project.setting("store")
    if setting in (None, "sqlite"):
        return f"sqlite:///{project.hunch_dir / 'store.db'}"
    return str(setting)


def make_engine(project: Project) -> Engine:
    url = store_url(project)
    if not url.startswith("sqlite"):
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
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
