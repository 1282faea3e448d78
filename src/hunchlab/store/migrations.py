"""Named migrations, each applied with its record in one transaction.

After sqlite-utils' ``Migrations``: the store records the names it has applied.
A name this code does not know means the store was written by a newer hunchlab, so
we stop rather than guess.

Each migration carries its own DDL: the tables it creates are frozen in
``migration_tables.py``, the columns it adds are spelled out here, and none builds
from ``schema.py``, so a store built by running them all from empty today is the store
an earlier hunchlab built and then upgraded. (0007 and 0010 fill rows with today's
code, ``lod.backfill`` and ``fold.group_key``, so that old rows match new ones; such a
step may touch only columns the migrations before it made.) That is why a later migration adds its column
without asking whether it exists: nothing before it made one. To change the schema, edit
``schema.py`` and append a migration with its own DDL that makes the same change; never
edit or reorder one that has shipped (tests/unit/store/test_migrations.py pins what each does,
and that running them all builds exactly ``schema.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import groupby, islice

from sqlalchemy import Connection, column, literal_column, select, table

from hunchlab import packed
from hunchlab.errors import StoreError
from hunchlab.store import migration_tables as frozen
from hunchlab.store.fold import group_key
from hunchlab.store.lod import backfill
from hunchlab.store.rows import insert_rows


def _initial(conn: Connection) -> None:
    frozen.INITIAL.create_all(conn, checkfirst=False)


def _predictions_and_journal(conn: Connection) -> None:
    frozen.PREDICTIONS_JOURNAL.create_all(conn, checkfirst=False)
    if conn.dialect.name == "sqlite":
        # Full-text search over the journal; kept in step by store/journal.py.
        conn.exec_driver_sql("CREATE VIRTUAL TABLE journal_fts USING fts5(title, body)")


def _sweeps(conn: Connection) -> None:
    frozen.SWEEPS.create_all(conn, checkfirst=False)


def _triage(conn: Connection) -> None:
    frozen.TRIAGE.create_all(conn, checkfirst=False)
    if index := frozen.TRIAGE_INDEX.get(conn.dialect.name):  # the sampling index on examples
        conn.exec_driver_sql(index)


def _metric_stats(conn: Connection) -> None:
    """Per-run metric counts and last values, so `show` and the dashboard need not scan every point."""
    import json

    from sqlalchemy import func, update

    conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN metric_stats TEXT")
    metrics = frozen.INITIAL.tables["metrics"]
    m = metrics.c
    stats: dict[str, dict[str, dict[str, float]]] = {}
    last = (select(m.run_id, m.key, func.max(m.step).label("step"), func.count().label("n"))
            .group_by(m.run_id, m.key).subquery())
    rows = conn.execute(select(last.c.run_id, last.c.key, last.c.step, last.c.n, m.value).join(
        metrics, (m.run_id == last.c.run_id) & (m.key == last.c.key) & (m.step == last.c.step)))
    for run_id, key, step, n, value in rows:
        stats.setdefault(run_id, {})[key] = {"n": n, "step": step, "value": value}
    runs = table("runs", column("id"), column("metric_stats"))
    for run_id, per_key in stats.items():
        conn.execute(update(runs).where(runs.c.id == run_id).values(metric_stats=json.dumps(per_key)))


def _quarantine(conn: Connection) -> None:
    """Where a run's unreadable event lines went."""
    conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN quarantine TEXT")


def _metric_lod(conn: Connection) -> None:
    """The metric pyramid, built for every long metric already folded (store/lod.py)."""
    frozen.METRIC_LOD.create_all(conn, checkfirst=False)
    backfill(conn, frozen.INITIAL.tables["metrics"])


def _agents(conn: Connection) -> None:
    """Who did it: an ``agent`` column (an MCP client's name; NULL for the person) on everything an
    agent can make through ``hunch mcp``: runs, predictions, tags, journal entries, tree nodes, sweeps.

    Self-contained (its own DDL, no reference to other migrations' work), so it can be ordered
    anywhere after 0005 (written as 0006, shipped as 0008).
    """
    for name in ("runs", "predictions", "tags", "journal", "nodes", "sweeps"):
        conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN agent VARCHAR")
    conn.exec_driver_sql("CREATE INDEX ix_runs_agent ON runs (agent)")


def _shared_store(conn: Connection) -> None:
    """What several project folders on one store share: a sweep's lease and Ray address, its code files
    in the store, and (PostgreSQL) one sequence every clone takes its run numbers from."""
    from sqlalchemy import text

    conn.exec_driver_sql("ALTER TABLE sweeps ADD COLUMN lease_until FLOAT")
    conn.exec_driver_sql("ALTER TABLE sweeps ADD COLUMN address VARCHAR")
    frozen.SHARED_STORE.create_all(conn, checkfirst=False)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE SEQUENCE hunch_run_seq")  # schema.RUN_SEQUENCE
        last = conn.execute(text("SELECT COALESCE(max(seq), 0) FROM runs")).scalar_one()
        conn.execute(text("SELECT setval('hunch_run_seq', :n, :called)"),
                     {"n": max(int(last), 1), "called": int(last) > 0})


def _group_by_value(conn: Connection) -> None:
    """Seed-group keys computed by value (``hunchlab.identity``): runs whose params differed only in
    how a number was written (2 and 2.0) join one group, as new runs do (so this one step computes
    with today's ``group_key``, as the fold does)."""
    import json

    from sqlalchemy import update


    runs = table("runs", column("id"), column("params"), column("meta"), column("group_key"))
    c = runs.c
    for run_id, params, meta, old in conn.execute(select(c.id, c.params, c.meta, c.group_key)).all():
        key = group_key({**json.loads(meta or "{}"), "params": json.loads(params or "{}")})
        if key != old:
            conn.execute(update(runs).where(c.id == run_id).values(group_key=key))


def _metric_blocks(conn: Connection) -> None:
    """Logged points as packed blocks (``hunchlab.packed``) in place of a row per point: folding
    2M points spent 3.8 s of CPU on the rows' inserts, 0.24 s as blocks. Each metric's points are
    read in step order (equal steps in the order written: SQLite's rowid), streamed (a server-side
    cursor on PostgreSQL) and cut into full blocks, so memory holds one block whatever the store;
    the rows' table goes. The pyramid (0007) is built from the same points and stays as it is."""
    frozen.METRIC_BLOCKS.create_all(conn, checkfirst=False)
    m = frozen.INITIAL.tables["metrics"].c
    order = [m.run_id, m.key, m.step, *([literal_column("rowid")] if conn.dialect.name == "sqlite" else [])]
    blocks = frozen.METRIC_BLOCKS.tables["metric_blocks"]
    columns = [c.name for c in blocks.columns]
    rows = conn.execute(select(m.run_id, m.key, m.step, m.value, m.time).order_by(*order)
                        .execution_options(yield_per=packed.BLOCK_POINTS))
    for (run_id, key), points in groupby(rows, key=lambda r: (r[0], r[1])):
        seq = 0
        while block := list(islice(points, packed.BLOCK_POINTS)):
            columns_of = list(zip(*block, strict=True))  # run_id, key, steps, values, times
            split = packed.split(columns_of[2], columns_of[3], columns_of[4])
            insert_rows(conn, blocks, columns, [(run_id, key, seq, *split[0])])
            seq += 1
    conn.exec_driver_sql("DROP INDEX ix_metrics_run_key_step")
    conn.exec_driver_sql("DROP TABLE metrics")


def _metric_blocks_rowid(conn: Connection) -> None:
    """On SQLite, the blocks as a rowid table, its primary key an index beside the rows: in the
    WITHOUT ROWID table of 0011 each ~96 KiB block is a cell of the key's b-tree, and every seek
    (each insert, each read of a metric's last block) compared whole rows read back from their
    overflow pages: 500 blocks (2M points of 10 metrics, 10 folds) cost 0.22 s of CPU and 87,699
    page reads, as a rowid table 0.13 s and 14,361 (the first read of a killed 2M-point run:
    ~0.13 s less, bench/README.md (n)). PostgreSQL keeps rows apart from their index already."""
    if conn.dialect.name != "sqlite":
        return
    frozen.METRIC_BLOCKS_ROWID.create_all(conn, checkfirst=False)
    columns = ", ".join(f'"{c.name}"' for c in frozen.METRIC_BLOCKS_ROWID.tables["metric_blocks_rowid"].columns)
    conn.exec_driver_sql(f"INSERT INTO metric_blocks_rowid ({columns}) SELECT {columns} FROM metric_blocks")
    conn.exec_driver_sql("DROP TABLE metric_blocks")
    conn.exec_driver_sql("ALTER TABLE metric_blocks_rowid RENAME TO metric_blocks")


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
    ("0011_metric_blocks", _metric_blocks),
    ("0012_metric_blocks_rowid", _metric_blocks_rowid),
]


def migrate(conn: Connection, where: str) -> list[str]:
    """Apply what is missing (inside the caller's transaction); returns the names applied."""
    frozen.BOOKKEEPING.create(conn, checkfirst=True)
    missing = pending_migrations(conn, where, table_exists=True)
    done = []
    for name, fn in MIGRATIONS:
        if name in missing:
            fn(conn)
            conn.execute(frozen.BOOKKEEPING.insert().values(name=name, applied_at=time.time()))
            done.append(name)
    return done


def pending_migrations(conn: Connection, where: str, *, table_exists: bool = False) -> list[str]:
    """The migrations this store lacks; raises StoreError for a store written by a newer hunchlab."""
    from sqlalchemy import inspect

    exists = table_exists or inspect(conn).has_table(frozen.BOOKKEEPING.name)
    applied = set(conn.execute(select(frozen.BOOKKEEPING.c.name)).scalars()) if exists else set()
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
