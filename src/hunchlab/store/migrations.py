"""Named migrations, each applied with its record in one transaction.

After sqlite-utils' ``Migrations``: the store records the names it has applied.
A name this code does not know means the store was written by a newer hunchlab, so
we stop rather than guess. Add a migration by appending a function to ``MIGRATIONS``;
never edit or reorder one that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, select

from hunchlab.errors import StoreError
from hunchlab.store import schema


def _initial(conn: Connection) -> None:
    for table in (schema.runs, schema.metrics, schema.examples, schema.artifacts):
        table.create(conn, checkfirst=True)


def _predictions_and_journal(conn: Connection) -> None:
    for table in (schema.predictions, schema.readings, schema.nodes, schema.journal):
        table.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        # Full-text search over the journal; kept in step by store/journal.py.
        conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS journal_fts USING fts5(title, body)")


def _sweeps(conn: Connection) -> None:
    for table in (schema.sweeps, schema.sweep_trials, schema.sweep_runs):
        table.create(conn, checkfirst=True)


def _triage(conn: Connection) -> None:
    for table in (schema.tags, schema.triage_samples, schema.triage_items):
        table.create(conn, checkfirst=True)
    # The sampling index on examples (one of the two, by dialect: see schema.py). A store
    # created before this migration gets it here; a fresh one already has it from 0001.
    for index in (schema.examples_failures_sqlite, schema.examples_failures_postgresql):
        index.create(conn, checkfirst=True)


def _metric_stats(conn: Connection) -> None:
    """Per-run metric counts and last values, so `show` and the dashboard need not scan every point."""
    import json

    from sqlalchemy import func, inspect, update

    if "metric_stats" not in {c["name"] for c in inspect(conn).get_columns("runs")}:
        conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN metric_stats TEXT")
    m = schema.metrics.c
    stats: dict[str, dict[str, dict[str, float]]] = {}
    last = (select(m.run_id, m.key, func.max(m.step).label("step"), func.count().label("n"))
            .group_by(m.run_id, m.key).subquery())
    rows = conn.execute(select(last.c.run_id, last.c.key, last.c.step, last.c.n, m.value).join(
        schema.metrics, (m.run_id == last.c.run_id) & (m.key == last.c.key) & (m.step == last.c.step)))
    for run_id, key, step, n, value in rows:
        stats.setdefault(run_id, {})[key] = {"n": n, "step": step, "value": value}
    for run_id, per_key in stats.items():
        conn.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(metric_stats=json.dumps(per_key)))


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> None:
    from sqlalchemy import inspect

    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


def _quarantine(conn: Connection) -> None:
    """Where a run's unreadable event lines went (a store created before this lacks the column)."""
    _add_column(conn, "runs", "quarantine", "TEXT")


def _metric_lod(conn: Connection) -> None:
    """The metric pyramid, built for every long metric already folded (store/lod.py)."""
    from hunchlab.store.lod import backfill

    schema.metric_lod.create(conn, checkfirst=True)
    backfill(conn)


def _agents(conn: Connection) -> None:
    """Who did it: an ``agent`` column (an MCP client's name; NULL for the person) on everything an
    agent can make through ``hunch mcp``: runs, predictions, tags, journal entries, tree nodes, sweeps.

    Self-contained (its own DDL, no reference to other migrations' work), so it can be ordered
    anywhere after 0005 (written as 0006, shipped as 0008). A store created after this code already
    has the columns from schema.py.
    """
    from sqlalchemy import inspect

    inspector = inspect(conn)
    for table in ("runs", "predictions", "tags", "journal", "nodes", "sweeps"):
        if "agent" not in {c["name"] for c in inspector.get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN agent VARCHAR")
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_runs_agent ON runs (agent)")


def _shared_store(conn: Connection) -> None:
    """What several project folders on one store share: a sweep's lease and Ray address, its code files
    in the store, and (PostgreSQL) one sequence every clone takes its run numbers from."""
    from sqlalchemy import text

    _add_column(conn, "sweeps", "lease_until", "FLOAT")
    _add_column(conn, "sweeps", "address", "VARCHAR")
    schema.code_files.create(conn, checkfirst=True)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {schema.RUN_SEQUENCE}")
        last = conn.execute(text("SELECT COALESCE(max(seq), 0) FROM runs")).scalar_one()
        conn.execute(text(f"SELECT setval('{schema.RUN_SEQUENCE}', :n, :called)"),
                     {"n": max(int(last), 1), "called": int(last) > 0})


def _group_by_value(conn: Connection) -> None:
    """Seed-group keys computed by value (``hunchlab.identity``): runs whose params differed only in
    how a number was written (2 and 2.0) join one group, as new runs do."""
    import json

    from sqlalchemy import update

    from hunchlab.store.fold import group_key

    c = schema.runs.c
    for run_id, params, meta, old in conn.execute(select(c.id, c.params, c.meta, c.group_key)).all():
        key = group_key({**json.loads(meta or "{}"), "params": json.loads(params or "{}")})
        if key != old:
            conn.execute(update(schema.runs).where(c.id == run_id).values(group_key=key))


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", _initial),
    ("0002_predictions_journal", _predictions_and_journal),
    ("0003_sweeps", _sweeps),
    ("0004_triage", _triage),
    ("0005_metric_stats", _metric_stats),
    ("0006_quarantine", _quarantine),
    ("0007_metric_lod", _metric_lod),
    ("0008_agents", _agents),
    ("0009_shared_store", _shared_store),
    ("0010_group_by_value", _group_by_value),
]


def migrate(conn: Connection, where: str) -> list[str]:
    """Apply what is missing (inside the caller's transaction); returns the names applied."""
    schema.migrations.create(conn, checkfirst=True)
    missing = pending_migrations(conn, where, table_exists=True)
    done = []
    for name, fn in MIGRATIONS:
        if name in missing:
            fn(conn)
            conn.execute(schema.migrations.insert().values(name=name, applied_at=time.time()))
            done.append(name)
    return done


def pending_migrations(conn: Connection, where: str, *, table_exists: bool = False) -> list[str]:
    """The migrations this store lacks; raises StoreError for a store written by a newer hunchlab."""
    from sqlalchemy import inspect

    exists = table_exists or inspect(conn).has_table(schema.migrations.name)
    applied = set(conn.execute(select(schema.migrations.c.name)).scalars()) if exists else set()
    known = [name for name, _ in MIGRATIONS]
    newer = applied - set(known)
    if newer:
        raise StoreError(
            f"the store was written by a newer hunchlab (it has migration {sorted(newer)[-1]}, "
            f"this hunchlab knows up to {known[-1]})",
            where=where,
            fix="upgrade: pip install -U hunchlab",
        )
    return [name for name in known if name not in applied]


def schema_version() -> str:
    return MIGRATIONS[-1][0]
