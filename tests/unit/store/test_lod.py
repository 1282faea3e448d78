"""The metric pyramid: built a chunk at a time it equals one built at once, it stands for every
point of a range exactly once, and a one-step spike survives at every zoom and every level."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, select

from hunchlab import packed, run_records
from hunchlab.downsample import bucket_bounds, m4_of_pieces
from hunchlab.errors import HunchWarning
from hunchlab.metric_series import metric_series
from hunchlab.run_start import create_run
from hunchlab.store import fold, lod, open_store, schema

SPIKES = {1_234: 900.0, 17_000: -900.0, 29_999: 700.0}


@pytest.fixture
def long_run(project, monkeypatch):
    """A metric of 30,000 steps (out of order in places, one step logged twice, some NaN) folded in
    ~100 chunks, so most pyramid rows were merged with stored ones or built from the level below."""
    monkeypatch.setattr(lod, "MIN_POINTS", 500)
    monkeypatch.setattr(fold, "CHUNK_BYTES", 1 << 14)
    rng = random.Random(7)
    steps = list(range(30_000))
    for i in range(0, 30_000, 997):  # swap neighbours now and then: steps need not arrive in order
        steps[i], steps[i + 1] = steps[i + 1], steps[i]
    run = create_run(project, {"params": {}, "spec": {"entry": "test"}})
    for step in [*steps, 500]:
        value = SPIKES.get(step, rng.gauss(0, 1))
        run.log({"v": float("nan") if step % 4099 == 3 else value}, step=step)
        if step == 20_000:
            run_records.get_run(run.id, project=project)  # a reader folds a part while the run goes on
    run.finish()
    return run.id


def _rows(conn, run_id):
    t = schema.metric_lod.c
    return sorted(tuple(r) for r in conn.execute(select(schema.metric_lod).where(t.run_id == run_id)))


def _raw(conn, run_id, lo, hi):
    """Every stored point of ``v`` in ``[lo, hi]``, decoded block by block (no range read)."""
    b = schema.metric_blocks.c
    out = []
    for steps, vals in conn.execute(select(b.steps, b.vals).where(b.run_id == run_id, b.key == "v")):
        out += [(s, v) for s, v in zip(packed.unpack_steps(steps), packed.unpack_values(vals, True))
                if lo <= s <= hi]
    return out


def test_a_pyramid_folded_chunk_by_chunk_equals_one_built_from_every_point(project, long_run):
    with open_store(project) as store, store.write() as conn:
        incremental = _rows(conn, long_run)
        conn.execute(delete(schema.metric_lod).where(schema.metric_lod.c.run_id == long_run))
        lod.build(conn, long_run, "v")
        assert _rows(conn, long_run) == incremental
    levels = {r[2] for r in incremental}
    assert levels == {0, 1, 2, 3}  # widths 32, 256, 2048, 16384 over 30,000 steps
    assert sum(r[4] for r in incremental if r[2] == 0) == 30_001


def test_pieces_stand_for_every_point_in_range_exactly_once(project, long_run):
    rng = random.Random(3)
    with open_store(project) as store, store.read() as conn:
        for _ in range(60):
            lo = rng.randrange(0, 30_000)
            hi = rng.randrange(lo, 30_000)
            buckets = rng.choice([1, 7, 50, 400])
            got = [p for piece in lod.pieces(conn, long_run, "v", lo, hi, buckets) for p in piece]
            raw = _raw(conn, long_run, lo, hi)
            assert set(got) <= set(raw) and min(s for s, _ in got) == lo and max(s for s, _ in got) == hi
            finite = [v for _, v in raw if v is not None]
            assert min(v for _, v in got if v is not None) == min(finite)
            assert max(v for _, v in got if v is not None) == max(finite)


def test_a_spike_survives_at_every_zoom_and_rows_read_stay_in_proportion_to_the_pixels(project, long_run):
    with open_store(project) as store, store.read() as conn:
        for step, value in SPIKES.items():
            for half_width in (10, 100, 1_000, 5_000, 30_000):
                lo, hi = max(0, step - half_width), min(29_999, step + half_width)
                for buckets in (3, 40, 300):
                    pieces = lod.pieces(conn, long_run, "v", lo, hi, buckets)
                    assert len(pieces) <= 8 * buckets + 2 * 7 * 4 + 2 * 31
                    kept = m4_of_pieces(pieces, bucket_bounds(lo, hi, buckets))
                    assert (step, value) in kept, (step, lo, hi, buckets)
                    assert len(kept) <= 4 * buckets


def _full_build(conn, run_id):
    """The pyramid rows one build from every point gives (in place of the stored ones)."""
    conn.execute(delete(schema.metric_lod).where(schema.metric_lod.c.run_id == run_id))
    lod.build(conn, run_id, "v")
    return _rows(conn, run_id)


def test_a_readers_fold_leaves_the_pyramid_to_the_first_chart_which_builds_what_the_fold_would(project, monkeypatch):
    """`hunch show` of a killed long run folds without the pyramid (bench/README.md (n)); the first
    chart catches it up, from nothing, then from where it stood when a reader folded more."""
    monkeypatch.setattr(lod, "MIN_POINTS", 500)
    monkeypatch.setattr(fold, "CHUNK_BYTES", 1 << 14)
    rng = random.Random(5)
    run = create_run(project, {"params": {}, "spec": {"entry": "test"}})
    for part, had_rows in ((range(0, 12_000), False), (range(12_000, 30_000), True)):
        for step in part:
            run.log({"v": SPIKES.get(step, rng.gauss(0, 1))}, step=step)
        brief = run_records.get_run(run.id, metrics=False, project=project)["metrics"]["v"]
        assert set(brief) == {"n", "step", "value"} and brief["n"] == part.stop
        with open_store(project) as store, store.read() as conn:
            assert fold.pyramid_behind(conn, run.id, "v") and bool(_rows(conn, run.id)) == had_rows
        series = metric_series(run.id, "v", buckets=40, project=project)
        with open_store(project) as store, store.write() as conn:
            assert not fold.pyramid_behind(conn, run.id, "v")
            caught_up = _rows(conn, run.id)
            assert caught_up == _full_build(conn, run.id)
        monkeypatch.setattr(lod, "MIN_POINTS", 10**9)  # every point thinned in numpy, no pyramid
        every = metric_series(run.id, "v", buckets=40, project=project)
        monkeypatch.setattr(lod, "MIN_POINTS", 500)
        assert series["downsampled"] and series["in_range"] is None and every["in_range"] == part.stop
        assert (series["x"][0], series["x"][-1], min(series["y"]), max(series["y"])) == \
            (every["x"][0], every["x"][-1], min(every["y"]), max(every["y"]))
        assert all((s, v) in zip(series["x"], series["y"], strict=True) for s, v in SPIKES.items() if s in part)
    run.finish()


def test_a_chart_of_a_pyramid_left_behind_on_a_read_only_store_thins_every_point(project, monkeypatch):
    from hunchlab import store as store_module

    monkeypatch.setattr(lod, "MIN_POINTS", 500)
    run = create_run(project, {"params": {}, "spec": {"entry": "test"}})
    for step in range(6_000):
        run.log({"v": SPIKES.get(step, 1.0 / (step + 1))}, step=step)
    run_records.get_run(run.id, project=project)  # folded for a reader: no pyramid
    monkeypatch.setattr(store_module, "is_read_only", lambda path: True)
    with pytest.warns(HunchWarning, match="read-only"):  # the run, still pending, cannot be folded
        series = metric_series(run.id, "v", buckets=40, project=project)
    assert series["downsampled"] and series["in_range"] == 6_000 and len(series["x"]) <= 4 * 40
    assert (1_234, 900.0) in zip(series["x"], series["y"], strict=True) and series["x"][-1] == 5_999
    monkeypatch.undo()
    with open_store(project) as store, store.read() as conn:
        assert fold.pyramid_behind(conn, run.id, "v") and not _rows(conn, run.id)
