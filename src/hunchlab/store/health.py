"""Whether a run can be recorded, checked before its entry starts: nothing runs that cannot be recorded.

A run's entry may take hours; finding out at its end that the store is damaged, from
a newer hunchlab, read-only or out of reach, or that the disk is full, would leave a
run that ran and was never recorded. So ``hunch run`` and every sweep trial first
check the run folders (writable, with room) and the store (opens, current version,
takes a write, passes SQLite's ``quick_check``).

``quick_check`` reads every page: on the bench machine 0.31 s of CPU for a 187 MB store
(2M metric points, 200k examples), 0.7 s wall under load. A run start should not pay
that for a large store, so the check is interrupted after ``QUICK_CHECK_SECONDS``
(0.2 s: whole stores up to ~100 MB; of a larger one the pages it reached, always the
header and the schema); ``hunch store check`` runs the full ``integrity_check``. It
runs once per process, so a sweep of a thousand trials pays it once.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, false, update

from hunchlab.errors import NoSpace, StoreDamaged, machine_error
from hunchlab.project import Project
from hunchlab.store import Store, open_store, schema
from hunchlab.store.faults import REBUILD_FIX

# Room a run needs before its entry starts: its folder (run.json with the environment: 20–40 KiB
# measured; the code state's diff and untracked files, capped at 20 MiB by capture.py but usually
# a few KiB), its end line, and the fold of its first points. 1 MiB is ~25x the usual need.
MIN_FREE_BYTES = 1 << 20
QUICK_CHECK_SECONDS = 0.2
_checked: set[str] = set()  # stores quick-checked by this process


def check_recordable(project: Project) -> None:
    """Raise the error that would keep a run from being recorded (folders, disk space, store), or return."""
    for folder in (project.runs_dir, project.pending_dir):
        _check_folder(folder)
    with open_store(project, wait=True) as store:
        store.retrying(lambda: _check_write(store))
        if store.path is not None and str(store.path) not in _checked:
            problems = quick_check(store, QUICK_CHECK_SECONDS)
            if problems:
                raise StoreDamaged(f"the store is damaged: {problems[0]}", where=str(store.path), fix=REBUILD_FIX)
            _checked.add(str(store.path))


def _check_folder(folder: Path) -> None:
    probe = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
        stat = os.statvfs(folder)
    except OSError as e:
        fault = machine_error(e, "checking that the run can be recorded", str(folder))
        if fault is None:
            raise
        raise fault from None
    free = stat.f_bavail * stat.f_frsize
    if free < MIN_FREE_BYTES:
        raise NoSpace(f"no space left on device: {free // 1024} KiB free on the disk holding the runs, and a run "
                      f"needs {MIN_FREE_BYTES >> 20} MiB to be recorded", where=str(folder),
                      fix="free some space on that disk (`df -h` shows it), then run again")


def _check_write(store: Store) -> None:
    """A write transaction that changes nothing: the store takes writes (a server may refuse them)."""
    with store.write() as conn:
        conn.execute(update(schema.migrations).where(false()).values(applied_at=0.0))


def quick_check(store: Store, seconds: float | None) -> list[str]:
    """SQLite's ``quick_check`` (``integrity_check`` when ``seconds`` is None): the problems, [] when ok.

    With ``seconds``, a check still running then is interrupted and counts as passed
    for what it read (see the module docstring).
    """
    pragma = "quick_check(20)" if seconds is not None else "integrity_check(20)"
    with store.read() as conn:
        raw = _sqlite(conn)
        if seconds is not None:  # checked by SQLite itself between steps: see _stop_after
            raw.set_progress_handler(_stop_after(time.monotonic() + seconds), 10_000)
        try:
            rows = [r[0] for r in raw.execute(f"PRAGMA {pragma}").fetchall()]
        except sqlite3.DatabaseError as e:
            return [] if "interrupted" in str(e) else [str(e)]
        finally:
            raw.set_progress_handler(None, 0)
    if rows == ["ok"]:
        return []
    return [line for r in rows for line in r.splitlines() if line.strip() and not line.startswith("***")]


def _stop_after(deadline: float) -> Callable[[], int]:
    """A progress handler that interrupts the statement once ``deadline`` has passed.

    The deadline used to be a timer thread calling ``interrupt()``: a timer already firing when
    the check ended could interrupt whatever statement the pooled connection ran next, for
    this thread or another (the likely cause of a sweep trial that "could not run" in one CI
    run, under load). A progress handler runs inside the statement it stops, and is removed
    with it.
    """
    return lambda: int(time.monotonic() > deadline)


def _sqlite(conn: Connection) -> sqlite3.Connection:
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw
