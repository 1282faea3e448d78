"""Queries for journal entries (with full-text search) and the question tree."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, select

from hunchlab.store import ledger, schema

J = schema.journal.c


def insert_entry(conn: Connection, *, kind: str, title: str, body: str, run_id: str | None = None,
                 question_id: str | None = None, prediction_id: int | None = None,
                 written_up: bool = True, agent: str | None = None) -> int:
    now = time.time()
    entry_id = int(ledger.insert(conn, schema.journal, {
        "kind": kind, "title": title, "body": body, "run_id": run_id, "question_id": question_id,
        "prediction_id": prediction_id, "written_up": written_up, "created_at": now, "updated_at": now,
        **({"agent": agent} if agent else {})}))
    _index(conn, entry_id, title, body)
    return entry_id


def update_entry(conn: Connection, entry_id: int, **values: Any) -> None:
    ledger.update(conn, schema.journal, {"id": entry_id}, {**values, "updated_at": time.time()})
    row = conn.execute(select(J.title, J.body).where(J.id == entry_id)).one()
    _index(conn, entry_id, row.title, row.body)


def reindex(conn: Connection) -> None:
    """Build the full-text index again from the entries (after a rebuild replayed them)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DELETE FROM journal_fts")
        conn.exec_driver_sql("INSERT INTO journal_fts (rowid, title, body) SELECT id, title, body FROM journal")


def _index(conn: Connection, entry_id: int, title: str, body: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DELETE FROM journal_fts WHERE rowid = ?", (entry_id,))
        conn.exec_driver_sql("INSERT INTO journal_fts (rowid, title, body) VALUES (?, ?, ?)", (entry_id, title, body))


def get_entry(conn: Connection, entry_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(schema.journal).where(J.id == entry_id)).first()
    return None if row is None else dict(row._mapping)


def list_entries(conn: Connection, *, since: float | None = None, question_id: str | None = None,
                 kind: str | None = None, run_ids: list[str] | None = None,
                 written_up: bool | None = None) -> list[dict[str, Any]]:
    q = select(schema.journal).order_by(J.created_at.desc(), J.id.desc())
    if since is not None:
        q = q.where(J.created_at >= since)
    if question_id:
        q = q.where(J.question_id == question_id)
    if kind:
        q = q.where(J.kind == kind)
    if run_ids is not None:
        q = q.where(J.run_id.in_(run_ids))
    if written_up is not None:
        q = q.where(J.written_up == written_up)
    return [dict(r._mapping) for r in conn.execute(q)]


def search_entries(conn: Connection, words: str) -> list[dict[str, Any]]:
    """Full-text search (SQLite FTS5, best match first); a LIKE scan on other databases."""
    if conn.dialect.name == "sqlite":
        query = " ".join('"' + w.replace('"', '""') + '"' for w in words.split())
        ids = [r[0] for r in conn.exec_driver_sql(
            "SELECT rowid FROM journal_fts WHERE journal_fts MATCH ? ORDER BY rank", (query,))]
        rows = {r.id: dict(r._mapping) for r in conn.execute(select(schema.journal).where(J.id.in_(ids)))}
        return [rows[i] for i in ids if i in rows]
    like = f"%{words}%"
    return [dict(r._mapping) for r in conn.execute(
        select(schema.journal).where(J.title.ilike(like) | J.body.ilike(like)).order_by(J.created_at.desc()))]


# -- the question tree ---------------------------------------------------------------------------
N = schema.nodes.c


def insert_node(conn: Connection, *, kind: str, title: str, why: str | None, parent_id: str | None,
                agent: str | None = None) -> str:
    prefix = kind[0]
    taken = conn.execute(select(N.id).where(N.id.like(f"{prefix}%"))).scalars().all()
    number = 1 + max((int(i[1:]) for i in taken if i[1:].isdigit()), default=0)
    node_id = f"{prefix}{number}"
    now = time.time()
    ledger.insert(conn, schema.nodes, {"id": node_id, "kind": kind, "title": title, "why": why,
                                       "parent_id": parent_id, "status": "open", "created_at": now, "updated_at": now,
                                       **({"agent": agent} if agent else {})})
    return node_id


def get_node(conn: Connection, node_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(schema.nodes).where(N.id == node_id)).first()
    return None if row is None else dict(row._mapping)


def list_nodes(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(schema.nodes).order_by(N.created_at))]


def update_node(conn: Connection, node_id: str, **values: Any) -> None:
    ledger.update(conn, schema.nodes, {"id": node_id}, {**values, "updated_at": time.time()})
