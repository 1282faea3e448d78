"""The background folder: a run started from Python is folded with no reader, as it goes and after
it ends, by one folder per project that leaves when there is nothing left to fold."""

from __future__ import annotations

import fcntl
import os
import time

import hunchlab
from hunchlab import background
from hunchlab.store import open_store, schema


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _folded_bytes(project, run_id):
    with open_store(project) as store, store.read() as conn:  # read only: no fold of its own
        row = conn.execute(schema.runs.select().where(schema.runs.c.id == run_id)).first()
    return 0 if row is None else row.folded_bytes


def _folder_running(project) -> bool:
    fd = os.open(project.hunch_dir / background.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_finished_run_is_folded_without_any_reader_and_the_folder_then_leaves(project):
    with hunchlab.start(config={"x": 1}, project=project.root) as run:
        for step in range(2000):
            run.log({"loss": 1 / (step + 1)}, step=step)
        run.summary["acc"] = 0.5
    marker = project.pending_dir / run.id
    _wait(lambda: not marker.exists())
    assert _folded_bytes(project, run.id) == (run.dir / "events.jsonl").stat().st_size
    assert not (project.hunch_dir / background.LOG_FILE).exists()
    _wait(lambda: not _folder_running(project), timeout=background.LINGER_SECONDS + 30)


def test_a_live_run_is_folded_as_it_goes(project):
    run = hunchlab.start(config={"x": 2}, project=project.root)
    try:
        for step in range(40_000):  # ~1.2 MiB of events: past the folder's 1 MiB for a live run
            run.log({"a": step, "b": -step}, step=step)
        assert _folder_running(project)
        _wait(lambda: _folded_bytes(project, run.id) > 1 << 20)
    finally:
        run.finish()
