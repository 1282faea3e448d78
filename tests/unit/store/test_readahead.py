"""A reader's fold that decodes ahead in a forked process stores exactly what a fold without it stores."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select

from hunchlab.run_start import create_run
from hunchlab.store import fold, open_store, readahead, schema


def _events() -> list[dict]:
    """Every kind of chunk the read-ahead meets: plain log lines, and the ones it leaves to the fold."""
    out: list[dict] = []
    for step in range(1500):  # plain log lines of the same metrics: decoded ahead
        out.append({"t": "log", "step": step, "time": 1000.0 + step, "m": {"loss": 1 / (step + 1), "acc": step * 1e-3}})
    for step in range(1500, 1600):  # a null value, then lines without a time: left to the fold
        out.append({"t": "log", "step": step, "time": 2000.0, "m": {"loss": None if step % 7 == 0 else 0.5}})
    for step in range(1600, 1700):
        out.append({"t": "log", "step": step, "m": {"loss": 0.25, "acc": 0.5}})
    for i in range(200):  # examples and a summary among the lines
        out.append({"t": "example", "d": {"id": str(i), "output": "x" * (i % 50), "correct": i % 3 == 0}})
    out.append({"t": "summary", "d": {"acc": 0.9}})
    for step in range(1700, 2300):  # lines logging different metrics in one chunk
        out.append({"t": "log", "step": step, "time": 3000.0 + step, "m": {"loss": 0.1} if step % 2 else {"lr": 1e-3}})
    for step in range(2300, 5000):  # the steps going backwards and repeating: as logged
        out.append({"t": "log", "step": 9000 - step if step % 5 == 0 else step, "time": 4000.0 + step,
                    "m": {"loss": step * 1e-4, "acc": -step * 1e-4}})
    return out


def _killed_run(project, events: list[dict], bad_at: int | None = None) -> str:
    run = create_run(project, {"params": {}, "spec": {"entry": "x"}})
    for i, event in enumerate(events):
        if i == bad_at:
            os.write(run._writer.fd, b"{not json at all\n")
        run._write(event)
    return run.id  # left as a killed run leaves it: no end line


def _stored(project, run_id: str) -> dict:
    with open_store(project) as store, store.read() as conn:
        b, e, r = schema.metric_blocks.c, schema.examples.c, schema.runs.c
        blocks = conn.execute(select(b.key, b.seq, b.min_step, b.max_step, b.n, b.steps, b.vals, b.times)
                              .where(b.run_id == run_id).order_by(b.key, b.seq)).all()
        examples = conn.execute(select(e.example_id, e.output, e.correct).where(e.run_id == run_id)
                                .order_by(e.example_id)).all()
        row = conn.execute(select(r.summary, r.metric_stats, r.last_event_at, r.status).where(r.id == run_id)).one()
    quarantined = (project.run_dir(run_id) / "events.quarantined")
    return {"blocks": [tuple(x) for x in blocks], "examples": [tuple(x) for x in examples], "run": tuple(row),
            "quarantined": quarantined.read_bytes() if quarantined.exists() else None}


def _fold(project, run_id: str, monkeypatch, *, ahead: bool) -> tuple[dict, int]:
    """What the store holds after a reader's fold of the run, and how many chunks this process decoded."""
    decoded = []
    read = readahead.read_events

    def counted(*a, **k):
        decoded.append(a[1])
        return read(*a, **k)

    monkeypatch.setattr(readahead, "read_events", counted)
    monkeypatch.setattr(readahead, "_can_fork", lambda: ahead)  # the test process runs a heartbeat thread
    with open_store(project) as store:
        store.sync_run(run_id, pyramid=False)
    monkeypatch.setattr(readahead, "read_events", read)
    return _stored(project, run_id), len(decoded)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(fold, "CHUNK_BYTES", 16 << 10)  # a reader's chunk: 4 KiB, ~50 of them
    monkeypatch.setattr(readahead, "AHEAD_MIN_BYTES", 0)


@pytest.mark.usefixtures("no_folder", "small_chunks")
def test_a_fold_decoded_ahead_stores_every_point_example_and_bad_line_as_a_fold_without_it(project, monkeypatch):
    events = _events()
    alone, ahead = _killed_run(project, events, bad_at=3000), _killed_run(project, events, bad_at=3000)
    want, chunks = _fold(project, alone, monkeypatch, ahead=False)
    got, decoded_here = _fold(project, ahead, monkeypatch, ahead=True)
    assert got == want
    assert sum(block[4] for block in want["blocks"] if block[0] == "loss") == 4700  # all lines but lr's 300
    assert len(want["examples"]) == 200 and want["quarantined"] is not None
    assert chunks > 40 and decoded_here < chunks / 2  # most chunks came decoded from the process ahead


@pytest.mark.usefixtures("no_folder", "small_chunks")
def test_a_process_ahead_that_dies_mid_way_leaves_the_fold_to_read_on_by_itself(project, monkeypatch):
    events = [e for e in _events() if e["t"] == "log" and "time" in e and None not in e["m"].values()]
    alone, ahead = _killed_run(project, events), _killed_run(project, events)
    want, _ = _fold(project, alone, monkeypatch, ahead=False)
    columns, sent = readahead._columns, []

    def dies_after_three(chunk):  # runs in the forked process only
        sent.append(1)
        if len(sent) > 3:
            os._exit(1)
        return columns(chunk)

    monkeypatch.setattr(readahead, "_columns", dies_after_three)
    got, decoded_here = _fold(project, ahead, monkeypatch, ahead=True)
    assert got == want and not sent  # nothing of the process ahead ran here
    assert decoded_here > 10


def test_no_process_is_forked_while_another_thread_runs():
    assert readahead._can_fork() is (threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert readahead._can_fork() is False
        assert readahead.ChunkReader(ahead=True)._may_fork is False
    finally:
        stop.set()
        other.join()


@pytest.mark.usefixtures("no_folder", "small_chunks")
def test_chunks_another_fold_took_meanwhile_are_not_taken_again_from_the_process_ahead(project, monkeypatch):
    """A background folder may fold the run between two of this fold's transactions: the chunk the
    process ahead has ready is then not the one asked for, and the fold reads on by itself."""
    import hunchlab.store as store_module

    events = [e for e in _events() if e["t"] == "log" and "time" in e and None not in e["m"].values()]
    alone, ahead = _killed_run(project, events), _killed_run(project, events)
    want, _ = _fold(project, alone, monkeypatch, ahead=False)
    one_step, calls = store_module.sync_run, []

    def another_fold_first(conn, project, run_id, **kw):
        calls.append(1)
        if len(calls) == 5:  # as if another process folded the next chunk just before this transaction
            one_step(conn, project, run_id, pyramid=False)
        return one_step(conn, project, run_id, **kw)

    monkeypatch.setattr(store_module, "sync_run", another_fold_first)
    got, _ = _fold(project, ahead, monkeypatch, ahead=True)
    assert got == want and len(calls) > 5
