"""Logged points kept as packed blocks read back exactly as a row per point did: block boundaries,
steps that go backwards or repeat, tiny fold chunks, NaN/inf/null, and a row-per-point store upgraded."""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import create_engine, insert, select

import hunchlab
from hunchlab import packed, readsql
from hunchlab.store import fold, open_store, points, predictions, schema, sweeps, web
from hunchlab.store.migration_tables import BOOKKEEPING
from hunchlab.store.migrations import MIGRATIONS, migrate

INF = float("inf")


def test_values_round_trip_with_null_nan_and_inf_as_each_database_read_them_before():
    values = [1.5, None, math.nan, INF, -INF, 3, -0.0]
    blob = packed.pack_values(values)
    sqlite = packed.unpack_values(blob, nan_is_null=True)
    postgres = packed.unpack_values(blob, nan_is_null=False)
    assert sqlite == [1.5, None, None, INF, -INF, 3.0, -0.0]  # SQLite stored a NaN as NULL
    assert postgres[:2] == [1.5, None] and math.isnan(postgres[2]) and postgres[3:] == [INF, -INF, 3.0, -0.0]
    steps = [-(1 << 63), 0, (1 << 63) - 1]
    assert packed.unpack_steps(packed.pack_steps(steps)) == steps
    assert packed.pack_steps([1]) == b"\x01" + b"\x00" * 7  # little-endian whatever the machine


def _log(project, steps, chunk_bytes, monkeypatch, value=lambda i, s: s * 0.5 + i * 1e-6):
    monkeypatch.setattr(fold, "CHUNK_BYTES", chunk_bytes)
    with hunchlab.start(config={"chunk": chunk_bytes}, project=project.root) as run:
        for i, step in enumerate(steps):
            v = value(i, step)
            if v is None:  # run.log refuses None; an event file from elsewhere may hold a null
                run._write({"t": "log", "step": step, "time": 1.0, "m": {"v": None}})
            else:
                run.log({"v": v}, step=step)
    hunchlab.get_run(run.id, project=project)  # the read folds it, in chunks of ``chunk_bytes``
    return run.id


def _expected(steps, value=lambda i, s: s * 0.5 + i * 1e-6):
    """What a row per point gave: by step, of equal steps the one logged first first."""
    return sorted(((s, value(i, s)) for i, s in enumerate(steps)), key=lambda p: p[0])


BACKWARDS = [*range(0, 6000), *range(5000, 3000, -1), *range(6000, 9000), 4096, 4096, 8999]


@pytest.mark.usefixtures("no_folder")
def test_a_metric_whose_steps_go_backwards_folded_in_tiny_chunks_reads_back_in_step_order(project, monkeypatch):
    tiny = _log(project, BACKWARDS, 2048, monkeypatch)  # ~20 lines a chunk: the last block refilled each time
    whole = _log(project, BACKWARDS, 64 << 20, monkeypatch)
    want = _expected(BACKWARDS)
    for run_id in (tiny, whole):
        got = hunchlab.get_run(run_id, project=project)["metrics"]["v"]
        assert [(p["step"], p["value"]) for p in got] == want
    with open_store(project) as store, store.read() as conn:
        b = schema.metric_blocks.c
        sizes = [n for (n,) in conn.execute(select(b.n).where(b.run_id == tiny).order_by(b.seq))]
        assert all(packed.MERGE_BELOW <= n <= packed.BLOCK_POINTS for n in sizes[:-1]), sizes
        assert sum(sizes) == len(BACKWARDS) and len(sizes) < len(BACKWARDS) / 300  # not a block a chunk
        # the highest step, 8999, was logged twice: the later value is the last value
        assert predictions.metric_value(conn, tiny, "v") == 8999 * 0.5 + (len(BACKWARDS) - 1) * 1e-6
        assert readsql.last_values(conn, [tiny]) == {tiny: {"v": 8999 * 0.5 + (len(BACKWARDS) - 1) * 1e-6}}


@pytest.mark.usefixtures("no_folder")
def test_range_reads_that_start_and_end_inside_blocks_match_a_filter_of_every_point(project, monkeypatch):
    run_id = _log(project, BACKWARDS, 1 << 14, monkeypatch)
    every = _expected(BACKWARDS)
    rng = random.Random(5)
    edges = [0, 4095, 4096, 4097, 8191, 8192, 8999, 9000, -5]
    ranges = [(lo, hi) for lo in edges for hi in edges if lo <= hi]
    ranges += [tuple(sorted((rng.randrange(-10, 9100), rng.randrange(-10, 9100)))) for _ in range(40)]
    with open_store(project) as store, store.read() as conn:
        for lo, hi in ranges:
            want = [p for p in every if lo <= p[0] <= hi]
            steps, values = web.metric_range(conn, run_id, "v", lo, hi)
            assert list(zip(steps, values)) == want, (lo, hi)
            for cap in (1, 100, 10**6):
                assert web.count_points(conn, run_id, "v", lo, hi, cap) == min(len(want), cap), (lo, hi, cap)
        assert points.span(conn, run_id, "v") == (0, 8999)
        assert sweeps.metric_histories(conn, [run_id, "none"], "v") == {run_id: every, "none": []}


@pytest.mark.usefixtures("no_folder")
def test_null_nan_and_inf_values_read_back_as_the_row_per_point_store_gave_them(project, monkeypatch):
    odd = {3: math.nan, 4: INF, 5: -INF, 6: None}
    run_id = _log(project, range(10), 1 << 20, monkeypatch, value=lambda i, s: odd.get(s, float(s)))
    got = hunchlab.get_run(run_id, project=project)["metrics"]["v"]
    assert [p["value"] for p in got] == [0.0, 1.0, 2.0, None, INF, -INF, None, 7.0, 8.0, 9.0]
    assert all(isinstance(p["time"], float) for p in got)


def _old_store_with_rows():
    """An in-memory store as hunchlab 0010 left it: a row per point, equal steps, NaN stored as NULL."""
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        BOOKKEEPING.create(conn)
        for name, fn in MIGRATIONS[:10]:
            fn(conn)
            conn.execute(insert(BOOKKEEPING).values(name=name, applied_at=0.0))
        rows = [("r1", "loss", s, 1.0 / (s + 1), 100.0 + s) for s in range(5000)]
        rows += [("r1", "loss", 4000, -1.0, None), ("r1", "acc", 7, None, 5.0), ("r1", "acc", 2, INF, 6.0),
                 ("r2", "loss", 3, 0.25, 7.0)]
        rng = random.Random(1)
        rng.shuffle(rows)  # rowid order is the order logged; equal steps keep theirs
        conn.exec_driver_sql("INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)", rows)
        before = {rid: {k: [(s, t, v) for r, k2, s, v, t in conn.exec_driver_sql(
            "SELECT run_id, key, step, value, time FROM metrics ORDER BY run_id, key, step, rowid") if (r, k2) == (rid, k)]
            for k in ("loss", "acc")} for rid in ("r1", "r2")}
    return engine, before


def test_a_row_per_point_store_upgrades_to_blocks_and_reads_back_the_same():
    engine, before = _old_store_with_rows()
    with engine.begin() as conn:
        assert migrate(conn, "test") == ["0011_metric_blocks", "0012_metric_blocks_rowid"]
        got = readsql.histories(conn, ["r1", "r2"], ["loss", "acc"])
        assert got == {"r1": before["r1"], "r2": {"loss": before["r2"]["loss"]}}
        assert readsql.last_values(conn, ["r1", "r2"]) == {"r1": {"loss": 1 / 5000, "acc": None}, "r2": {"loss": 0.25}}
        assert web.metric_range(conn, "r1", "loss", 3999, 4001) == ([3999, 4000, 4000, 4001],
                                                                      [1 / 4000, 1 / 4001, -1.0, 1 / 4002])
        assert points.keys(conn, ["r1"]) == {"loss", "acc"}
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'metrics'").scalar() == 0


@pytest.mark.usefixtures("no_folder")
def test_metrics_logged_on_the_same_lines_share_packed_steps_and_times_yet_one_merging_a_short_block_reads_back(
        project, monkeypatch):
    """``a`` has a short last block when ``b`` starts: ``a``'s new points merge into it (steps of its
    own), ``b``'s blocks take the steps and times packed once for both (``packed.frame``)."""
    monkeypatch.setattr(fold, "CHUNK_BYTES", fold.READER_CHUNK_SHARE << 20)  # get_run folds the file in one chunk
    with hunchlab.start(config={}, project=project.root) as run:
        for step in range(100):
            run.log({"a": step * 0.5}, step=step)
        hunchlab.get_run(run.id, project=project)
        for step in range(100, 9_000):
            run.log({"a": step * 0.5, "b": -step * 0.25}, step=step)
    got = hunchlab.get_run(run.id, project=project)["metrics"]
    assert [(p["step"], p["value"]) for p in got["a"]] == [(s, s * 0.5) for s in range(9_000)]
    assert [(p["step"], p["value"]) for p in got["b"]] == [(s, -s * 0.25) for s in range(100, 9_000)]
    assert [p["time"] for p in got["b"]] == [p["time"] for p in got["a"][100:]]
    assert len({p["time"] for p in got["b"]}) > 1
    with open_store(project) as store, store.read() as conn:
        b = schema.metric_blocks.c
        blocks = conn.execute(select(b.key, b.n, b.min_step, b.max_step).where(b.run_id == run.id)
                              .order_by(b.key, b.seq)).all()
    assert [tuple(r) for r in blocks] == [("a", 4096, 0, 4095), ("a", 4096, 4096, 8191), ("a", 808, 8192, 8999),
                                         ("b", 4096, 100, 4195), ("b", 4096, 4196, 8291), ("b", 708, 8292, 8999)]
    shared = packed.frame(list(range(5000)), [float(i) for i in range(5000)])
    assert packed.split(range(5000), [1.0] * 5000, [float(i) for i in range(5000)], shared) == \
        packed.split(range(5000), [1.0] * 5000, [float(i) for i in range(5000)])


@pytest.mark.parametrize(("chunk", "sizes"), [
    (100, [600, 600, 600, 600, 600, 600, 400]),  # merged into the last block while it is short
    (1000, [1000, 1000, 1000, 1000]),  # each fold's points are a block of their own
    (10_000, [4096, 4096, 1808]),  # cut at BLOCK_POINTS; the short last block takes the next fold's
])
def test_a_fold_adds_to_a_short_last_block_and_cuts_at_block_points(chunk, sizes):
    assert packed.MERGE_BELOW == 512 and packed.BLOCK_POINTS == 4096  # the sizes above follow from these
    engine, _ = _old_store_with_rows()
    n = sum(sizes)
    with engine.begin() as conn:
        migrate(conn, "test")
        for start in range(0, n, chunk):
            part = list(range(start, min(n, start + chunk)))
            points.append(conn, "r3", "x", part, [float(s) for s in part], [None] * len(part))
        b = schema.metric_blocks.c
        assert [n for (n,) in conn.execute(select(b.n).where(b.run_id == "r3").order_by(b.seq))] == sizes
        steps, values, times = points.read(conn, "r3", "x")
        assert steps == list(range(n)) and values == [float(s) for s in range(n)] and times == [None] * n
