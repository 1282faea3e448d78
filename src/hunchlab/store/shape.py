"""What a store's tables look like, read back from the database itself.

The migrations build the store step by step and ``schema.py`` says what it should be; this is
what lets a test say the two agree, on SQLite and on PostgreSQL alike: every table with its
columns (type as the dialect spells it, nullability, default), primary key, unique constraints
and indexes, in an order-free form (a column added by ``ALTER TABLE`` lands last, one made with
its table lands in place; the store never reads columns by position). Tables of SQLite's
full-text index (``journal_fts*``, made by 0002 and kept by store/journal.py) are not in
``schema.py`` and are left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect

FTS_PREFIX = "journal_fts"


def table_shapes(conn: Connection) -> dict[str, dict[str, Any]]:
    """{table: {columns, primary_key, unique, indexes, without_rowid}} for every table but the full-text ones."""
    inspector = inspect(conn)
    shapes: dict[str, dict[str, Any]] = {}
    for name in inspector.get_table_names():
        if name.startswith(FTS_PREFIX):
            continue
        shapes[name] = {
            "columns": {c["name"]: (c["type"].compile(conn.dialect), c["nullable"], c.get("default"))
                        for c in inspector.get_columns(name)},
            "primary_key": sorted(inspector.get_pk_constraint(name)["constrained_columns"]),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(name)),
            "without_rowid": _without_rowid(conn, name),
        }
    return shapes


def _without_rowid(conn: Connection, name: str) -> bool:
    if conn.dialect.name != "sqlite":
        return False
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).scalar()
    return "WITHOUT ROWID" in str(sql).upper()
