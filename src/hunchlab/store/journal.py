"""Queries for journal entries (with full-text search) and the question tree."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, select, update

from hunchlab.store import schema

J = schema.journal.c


def insert_entry(conn: Connection, *, kind: str, title: str, body: str, run_id: str | None = None,
                 question_id: str | None = None, prediction_id: int | None = None,
                 written_up: bool = True) -> int:
    now = time.time()
    entry_id = int(conn.execute(schema.journal.insert().values(
        kind=kind, title=title, body=body, run_id=run_id, question_id=question_id, prediction_id=prediction_id,
        written_up=written_up, created_at=now, updated_at=now)).inserted_primary_key[0])
    _index(conn, entry_id, title, body)
    return entry_id


def update_entry(conn: Connection, entry_id: int, **values: Any) -> None:
    conn.execute(update(schema.journal).where(J.id == entry_id).values(**values, updated_at=time.time()))
    row = conn.execute(select(J.title, J.body).where(J.id == entry_id)).one()
    _index(conn, entry_id, row.title, row.body)


def _index(conn: Connection, entry_id: int, title: str, body: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DELETE FROM journal_fts WHERE rowid = ?", (entry_id,))
        conn.exec_driver_sql("INSERT INTO journal_fts (rowid, title, body) VALUES (?, ?, ?)", (entry_id, title, body))
