"""A store made before a migration is brought forward when opened, keeping what it holds; the shipped
migrations never change, and together they build exactly schema.py."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert
from sqlalchemy.exc import IntegrityError

from hunchlab.run_records import init_project
from hunchlab.store import open_store, schema
from hunchlab.store.journal import insert_entry, list_entries
from hunchlab.store.migration_tables import BOOKKEEPING
from hunchlab.store.migrations import MIGRATIONS, migrate
from hunchlab.store.shape import table_shapes

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


# -- frozen migrations: what each does never changes, and all of them build schema.py -----------
# What each shipped migration does to an empty SQLite store's tables (the tables it creates or changes,
# as shape.table_shapes reads them back), hashed by ``_step_hash``. A different hash means a shipped
# migration changed: the stores it built earlier would differ from the ones it builds now.
SHIPPED = {
    "0001_initial": "62cee43ef8aea334",
    "0002_predictions_journal": "73a5d5250902cd1c",
    "0003_sweeps": "59388dfa55080578",
    "0004_triage": "6bd89c4298b9f53e",
    "0005_metric_stats": "991759cc55745f89",
    "0006_quarantine": "9eeb2292abc3f69b",
    "0007_metric_lod": "dc13deb59dba457d",
    "0008_agents": "327c6d05cdabc8f3",
    "0009_shared_store": "54367128515c18fb",
    "0010_group_by_value": "44136fa355b3678a",
    "0011_metric_blocks": "10a92affe75f445b",  # creates metric_blocks (dropping metrics is not in the hash)
    "0012_metric_blocks_rowid": "4d342469dd2db2e8",
}


def _empty() -> Engine:
    return create_engine("sqlite://")


def _migrated_up_to(engine: Engine, last: str) -> None:
    """A store as a hunchlab whose last migration was ``last`` left it (every migration before it run)."""
    names = [name for name, _ in MIGRATIONS]
    with engine.begin() as conn:
        BOOKKEEPING.create(conn)
        for name, fn in MIGRATIONS[: names.index(last) + 1]:
            fn(conn)
            conn.execute(insert(BOOKKEEPING).values(name=name, applied_at=0.0))


def _schema_py_shapes() -> dict[str, Any]:
    with _empty().begin() as conn:
        schema.metadata.create_all(conn)
        return table_shapes(conn)


def _step(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {table: shape for table, shape in after.items() if before.get(table) != shape}


def _step_hash(step: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(step, sort_keys=True).encode()).hexdigest()[:16]


def test_no_shipped_migration_changes_what_it_does():
    engine = _empty()
    with engine.begin() as conn:
        BOOKKEEPING.create(conn)
        before = table_shapes(conn)
        for name, fn in MIGRATIONS:
            fn(conn)
            after = table_shapes(conn)
            step = _step(before, after)
            assert name in SHIPPED, f"new migration {name}: pin what it does in SHIPPED as {_step_hash(step)!r}"
            assert _step_hash(step) == SHIPPED[name], (
                f"migration {name} no longer does what it shipped doing (now it leaves {step}): a shipped "
                "migration is never edited — undo the edit and add a migration instead")
            before = after


def test_running_every_migration_from_empty_builds_exactly_schema_py():
    engine = _empty()
    with engine.begin() as conn:
        assert migrate(conn, "test") == [name for name, _ in MIGRATIONS]
        built = table_shapes(conn)
    expected = _schema_py_shapes()
    differ = sorted(t for t in built.keys() | expected.keys() if built.get(t) != expected.get(t))
    assert built == expected, (f"the migrations and schema.py disagree on {differ}: a change to schema.py "
                               "needs a migration appended to MIGRATIONS that makes it")


def test_0001_creates_the_first_release_tables_without_the_columns_later_migrations_add():
    engine = _empty()
    _migrated_up_to(engine, "0001_initial")
    with engine.begin() as conn:
        shapes = table_shapes(conn)
    assert set(shapes) == {"hunch_migrations", "runs", "metrics", "examples", "artifacts"}
    assert not {"metric_stats", "quarantine", "agent"} & set(shapes["runs"]["columns"])


@pytest.mark.parametrize("last", [name for name, _ in MIGRATIONS[:-1]])
def test_a_store_left_at_an_older_migration_upgrades_to_schema_py(last):
    engine = _empty()
    _migrated_up_to(engine, last)
    names = [name for name, _ in MIGRATIONS]
    with engine.begin() as conn:
        assert migrate(conn, "test") == names[names.index(last) + 1:]
        assert table_shapes(conn) == _schema_py_shapes()


def test_a_store_from_0004_gets_its_metric_stats_and_value_keyed_groups_filled_in():
    engine = _empty()
    _migrated_up_to(engine, "0004_triage")
    meta = json.dumps({"spec": {"entry": "train:main"}})
    with engine.begin() as conn:
        for run_id, seq, lr in (("r1", 1, "2"), ("r2", 2, "2.0")):  # one config, numbers written two ways
            conn.exec_driver_sql(
                "INSERT INTO runs (id, seq, status, group_key, params, summary, meta, created_at, folded_bytes) "
                f"VALUES ('{run_id}', {seq}, 'finished', 'old-{run_id}', '{{\"lr\": {lr}}}', '{{}}', ?, 0, 0)", (meta,))
        conn.exec_driver_sql("INSERT INTO metrics (run_id, key, step, value) VALUES ('r1', 'loss', 0, 2.0), "
                             "('r1', 'loss', 1, 1.5), ('r1', 'acc', 3, 0.9)")
        migrate(conn, "test")
        rows = dict(conn.exec_driver_sql("SELECT id, metric_stats FROM runs").all())
        keys = {k for (k,) in conn.exec_driver_sql("SELECT group_key FROM runs")}
    assert json.loads(rows["r1"]) == {"loss": {"n": 2, "step": 1, "value": 1.5}, "acc": {"n": 1, "step": 3, "value": 0.9}}
    assert rows["r2"] is None
    assert len(keys) == 1 and not next(iter(keys)).startswith("old-")


def test_a_store_made_by_the_old_0001_from_schema_py_opens_and_writes(tmp_path):
    """Before the migrations were frozen, 0001 built today's schema.py and later ones skipped what existed:
    such a store has every migration recorded and every table already at schema.py."""
    project, _ = init_project(tmp_path)
    path = project.hunch_dir / "store.db"
    path.unlink()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        schema.metadata.create_all(conn)
        conn.exec_driver_sql("CREATE VIRTUAL TABLE journal_fts USING fts5(title, body)")
        for name, _ in MIGRATIONS:
            conn.execute(insert(BOOKKEEPING).values(name=name, applied_at=0.0))
    engine.dispose()
    with open_store(project) as store, store.write() as conn:
        insert_entry(conn, kind="note", title="after", body="opened by the frozen migrations", agent="bot")
        assert [e["agent"] for e in list_entries(conn)] == ["bot"]
        assert table_shapes(conn) == _schema_py_shapes()


def test_0012_keeps_every_block_in_a_rowid_table():
    engine = _empty()
    _migrated_up_to(engine, "0011_metric_blocks")
    blocks = [("r1", k, seq, seq * 10, seq * 10 + 9, 10, bytes([seq]) * 80, b"v" * 80, b"t" * 80)
              for k in ("a", "b") for seq in range(3)]
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO metric_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", blocks)
        assert table_shapes(conn)["metric_blocks"]["without_rowid"]
        assert migrate(conn, "test") == ["0012_metric_blocks_rowid"]
        assert not table_shapes(conn)["metric_blocks"]["without_rowid"]
        assert [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM metric_blocks ORDER BY key, seq")] == blocks
        with pytest.raises(IntegrityError, match="UNIQUE"):  # the primary key still holds
            conn.exec_driver_sql("INSERT INTO metric_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", blocks[0])
