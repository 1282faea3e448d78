"""On PostgreSQL, a store that kept a row per point upgrades to packed blocks (0011) and reads back
the same points; a NaN stays NaN there, as it did in a double precision column."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import create_engine, insert

from hunchlab import readsql
from hunchlab.store import predictions, web
from hunchlab.store.migration_tables import BOOKKEEPING
from hunchlab.store.migrations import MIGRATIONS, migrate

psycopg = pytest.importorskip("psycopg", reason="the test extras install psycopg")


def test_a_row_per_point_postgres_store_upgrades_to_blocks_and_reads_back_the_same(cluster):
    with psycopg.connect(f"postgresql://hunch@127.0.0.1:{cluster.port}/postgres", autocommit=True) as c:
        c.execute('DROP DATABASE IF EXISTS "t_blocks_upgrade"')
        c.execute('CREATE DATABASE "t_blocks_upgrade"')
    engine = create_engine(f"{cluster.url}/t_blocks_upgrade")
    rows = [("r1", "loss", s, 1.0 / (s + 1), 10.0 + s) for s in range(5000)]
    rows += [("r1", "loss", 7, float("nan"), None), ("r1", "acc", 2, None, 1.0), ("r1", "acc", 1, float("inf"), 2.0)]
    with engine.begin() as conn:
        BOOKKEEPING.create(conn)
        for name, fn in MIGRATIONS[:10]:  # as hunchlab 0010 left it
            fn(conn)
            conn.execute(insert(BOOKKEEPING).values(name=name, applied_at=0.0))
        conn.exec_driver_sql("INSERT INTO metrics (run_id, key, step, value, time) VALUES (%s, %s, %s, %s, %s)",
                             rows)
    try:
        with engine.begin() as conn:
            assert migrate(conn, "test") == ["0011_metric_blocks", "0012_metric_blocks_rowid"]
            got = readsql.histories(conn, ["r1"], ["loss", "acc"])["r1"]
            assert got["acc"] == [(1, 2.0, math.inf), (2, 1.0, None)]
            assert [p[0] for p in got["loss"]] == sorted([*range(5000), 7]) and len(got["loss"]) == 5001
            at7 = [p for p in got["loss"] if p[0] == 7]
            assert {type(p[2]) for p in at7} == {float} and sum(math.isnan(p[2]) for p in at7) == 1
            assert web.metric_range(conn, "r1", "loss", 4998, 6000) == ([4998, 4999], [1 / 4999, 1 / 5000])
            assert predictions.metric_value(conn, "r1", "loss") == 1 / 5000
            assert conn.exec_driver_sql("SELECT to_regclass('metrics')").scalar() is None
    finally:
        engine.dispose()
