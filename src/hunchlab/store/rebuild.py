"""Checking a store against what is on disk, and building a new one from it.

The run folders (``run.json`` + ``events.jsonl``) and the ledger (everything people
typed, ``store/ledger.py``) hold all a store holds, so a store can always be made
again. ``hunch store check`` compares the store with them without changing anything:
SQLite's full ``integrity_check``, run folders the store lacks, runs whose folder is
gone, runs with lines nobody will fold (past the stored offset, no pending marker),
and ledger rows missing from the store or the other way round. ``hunch store rebuild``
builds a new store in ``store.db.rebuild`` (the ledger replayed, then every run
folded from its first byte), then moves the old file aside as
``store.db.old-<time>`` (its ``-wal`` with it) and the new one into place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hunchlab.errors import HunchError, StoreError
from hunchlab.ids import sequence_of
from hunchlab.project import Project
from hunchlab.run import META_FILE
from hunchlab.store import Store, ledger, schema
from hunchlab.store.engine import sqlite_path
from hunchlab.store.fold import ENDED
from hunchlab.store.health import quick_check
from hunchlab.store.journal import reindex

REBUILD_SUFFIX = ".rebuild"


@dataclass
class CheckReport:
    """What ``hunch store check`` found; ``ok`` when nothing."""

    store: str
    integrity: list[str] = field(default_factory=list)  # SQLite's integrity_check problems (or why it cannot open)
    runs_on_disk: int = 0
    runs_in_store: int = 0
    missing: list[str] = field(default_factory=list)  # run folders the store does not have
    gone: list[str] = field(default_factory=list)  # runs in the store whose folder is gone
    unfolded: list[str] = field(default_factory=list)  # lines past the stored offset that no reader will fold
    incomplete: list[str] = field(default_factory=list)  # run folders without run.json (creation cut short)
    ledger_missing: dict[str, int] = field(default_factory=dict)  # per table: ledger rows the store lacks
    ledger_extra: dict[str, int] = field(default_factory=dict)  # per table: store rows the ledger lacks

    @property
    def ok(self) -> bool:
        return not (self.integrity or self.missing or self.gone or self.unfolded or self.ledger_missing
                    or self.ledger_extra)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def check(project: Project) -> CheckReport:
    """Compare the store with the run folders and the ledger; changes nothing."""
    report = CheckReport(store=str(sqlite_path(project) or project.setting("store")))
    folders = _run_folders(project)
    report.runs_on_disk = len(folders)
    report.incomplete = sorted(p.name for p in project.runs_dir.iterdir() if p.is_dir() and p.name not in folders) \
        if project.runs_dir.is_dir() else []
    try:
        with Store(project) as store:
            if store.path is not None:
                report.integrity = quick_check(store, None)
            if not report.integrity:
                _check_runs(project, store, folders, report)
                _check_ledger(store, report)
    except HunchError as e:  # a store too damaged to open or to read
        report.integrity.append(e.what)
    return report


def _run_folders(project: Project) -> dict[str, Path]:
    if not project.runs_dir.is_dir():
        return {}
    return {p.name: p for p in project.runs_dir.iterdir() if (p / META_FILE).is_file()}


def _check_runs(project: Project, store: Store, folders: dict[str, Path], report: CheckReport) -> None:
    c = schema.runs.c
    with store.read() as conn:
        stored = {run_id: offset for run_id, offset in conn.execute(select(c.id, c.folded_bytes))}
    report.runs_in_store = len(stored)
    report.missing = sorted(set(folders) - set(stored))
    report.gone = sorted(set(stored) - set(folders))
    pending = {p.name for p in project.pending_dir.iterdir()} if project.pending_dir.is_dir() else set()
    for run_id, offset in sorted(stored.items()):
        if run_id in folders and run_id not in pending and _lines_after(folders[run_id] / "events.jsonl", offset):
            report.unfolded.append(run_id)


def _lines_after(path: Path, offset: int) -> bool:
    """Whether the event file has a whole line past ``offset`` (a torn last line does not count)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            while chunk := f.read(1 << 20):
                if b"\n" in chunk:
                    return True
    except FileNotFoundError:
        pass
    return False


def _check_ledger(store: Store, report: CheckReport) -> None:
    expected = ledger.rows(ledger.read(store.ledger_path))
    with store.read() as conn:
        for name, table in ledger.TABLES.items():
            have = ledger.keys_in_store(conn, table)
            want = set(expected[name])
            if want - have:
                report.ledger_missing[name] = len(want - have)
            if have - want:
                report.ledger_extra[name] = len(have - want)


# -- rebuild -----------------------------------------------------------------------------------------
@dataclass
class RebuildReport:
    store: str
    old: str | None  # where the old store file was moved (SQLite), or None
    runs: int
    ledger_ops: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rebuild(project: Project, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
    """A new store from the ledger and the run folders; the old file is kept beside it (see module docstring)."""
    started = time.time()
    path = sqlite_path(project)
    if path is not None:
        target = path.with_name(path.name + REBUILD_SUFFIX)
        for leftover in _with_wal(target):
            leftover.unlink(missing_ok=True)
    ops = ledger.read(project.hunch_dir / ledger.FILENAME)
    folders = _run_folders(project)
    with (Store(project, path=target) if path is not None else _empty_server_store(project)) as store:
        with store.write() as conn:
            ledger.replay(conn, ops)
            reindex(conn)
        _fold_all(project, store, folders, progress)
    old = _swap(path, target) if path is not None else None
    return RebuildReport(str(path or project.setting("store")), old, len(folders), len(ops), time.time() - started)


def _fold_all(project: Project, store: Store, folders: dict[str, Path],
              progress: Callable[[int, int], None] | None) -> None:
    """Fold every run from its first byte, oldest first; a run that has not ended stays pending."""
    order = sorted(folders, key=lambda run_id: (sequence_of(run_id), run_id))
    for done, run_id in enumerate(order, 1):
        status = store.sync_run(run_id)
        if status is not None and status not in ENDED:
            (project.pending_dir / run_id).touch()
        if progress is not None:
            progress(done, len(order))


def _empty_server_store(project: Project) -> Store:
    """A team store is rebuilt only into an empty database: nothing there is overwritten."""
    store = Store(project)
    with store.read() as conn:
        rows = sum(conn.execute(select(func.count()).select_from(t)).scalar_one()
                   for t in (schema.runs, *ledger.TABLES.values()))
    if rows:
        store.close()
        raise StoreError(f"the team store {store.url} is not empty ({rows} rows): a rebuild would mix old and new",
                         fix="create an empty database, point `store:` in .hunch/settings.yaml at it, and rebuild "
                             "into that one (the old database stays as it is)")
    return store


def _with_wal(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _swap(path: Path, new: Path) -> str | None:
    """Move the old store (with its WAL, which may hold its latest commits) aside, the new one in."""
    old = path.with_name(f"{path.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    moved = None
    for src, dest in zip(_with_wal(path), _with_wal(old), strict=True):
        if src.exists():
            os.replace(src, dest)
            moved = moved or str(old)
    for src, dest in zip(_with_wal(new), _with_wal(path), strict=True):
        if src.exists():
            os.replace(src, dest)
    return moved
