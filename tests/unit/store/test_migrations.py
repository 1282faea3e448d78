"""A store made before a migration is brought forward when opened, keeping what it holds."""

from __future__ import annotations

import sqlite3

from hunchlab.records import init_project
from hunchlab.store import open_store
from hunchlab.store.journal import insert_entry, list_entries

AGENT_TABLES = ("runs", "predictions", "tags", "journal", "nodes", "sweeps")


def test_a_store_from_before_agents_gets_the_agent_columns_and_keeps_its_rows(tmp_path):
    project, _ = init_project(tmp_path)
    with open_store(project) as store, store.write() as conn:
        insert_entry(conn, kind="note", title="old", body="written before agents")
    with sqlite3.connect(project.hunch_dir / "store.db") as db:  # as a 0005 store was: no agent columns
        db.execute("DROP INDEX ix_runs_agent")
        for table in AGENT_TABLES:
            db.execute(f"ALTER TABLE {table} DROP COLUMN agent")
        db.execute("DELETE FROM hunch_migrations WHERE name = '0008_agents'")
    with open_store(project) as store, store.write() as conn:
        insert_entry(conn, kind="note", title="new", body="by an agent", agent="bot")
        entries = {e["title"]: e["agent"] for e in list_entries(conn)}
    assert entries == {"old": None, "new": "bot"}
    with sqlite3.connect(project.hunch_dir / "store.db") as db:
        for table in AGENT_TABLES:
            assert "agent" in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}, table
        assert db.execute("SELECT name FROM hunch_migrations WHERE name = '0008_agents'").fetchone()
