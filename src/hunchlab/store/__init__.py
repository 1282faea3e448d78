"""The store: one schema, one data-access layer; the rest of the code never writes SQL.

``open_store(project)`` connects (SQLite in ``.hunch/`` or a PostgreSQL URL from the
settings), migrates forward or refuses a newer store, and returns a ``Store`` whose
methods return plain dicts. Readers call ``sync()`` first, which folds any run still
marked pending (live, just ended, or crashed) so that what they show is complete.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from hunchlab.errors import HunchError, HunchWarning, MachineError, NotFound, ReadOnly, StoreDamaged, did_you_mean
from hunchlab.project import Project
from hunchlab.rundir import RESERVE_FILE
from hunchlab.store import ledger, points, schema
from hunchlab.store.engine import IMMEDIATE, is_read_only, make_engine, sqlite_path
from hunchlab.store.faults import retrying, store_fault
from hunchlab.store.fold import (
    ENDED,
    LOD,
    catch_up_pyramid,
    fold_states,
    pyramid_behind,
    sync_run,
    unfolded_bytes,
    watch_longer,
)
from hunchlab.store.migrations import migrate, pending_migrations
from hunchlab.store.numbering import next_run_number, run_numbered
from hunchlab.store.predictions import list_predictions
from hunchlab.store.readahead import ChunkReader

if TYPE_CHECKING:
    from hunchlab.shapes import ExampleRecord, MetricPoint, MetricStat, RunRecord, RunRow

__all__ = ["Store", "open_store"]

T = TypeVar("T")

LIVE_FOLD_BYTES = 1 << 20
LIVE_FOLD_SECONDS = 2.0
RUN_LIST_COLUMNS = ("id", "seq", "name", "status", "spec_name", "question", "group_key", "seed", "params",
                    "summary", "created_at", "ended_at", "exit_code", "agent")


class Store:
    """Data access for one project. Use as a context manager or call ``close()``.

    ``wait``: a writer that must not fail on a team store's restart (a run's end, a
    sweep) waits for it (``store_retry_seconds``); commands that only read fail at once.
    ``path``: a SQLite file other than the project's (``hunch store rebuild`` builds one).
    """

    def __init__(self, project: Project, *, wait: bool = False, path: Path | None = None) -> None:
        self.project = project
        self.path = path or sqlite_path(project)
        self.where = str(self.path or project.hunch_dir / "settings.yaml")
        self.read_only = self.path is not None and is_read_only(self.path)
        self.wait_seconds = float(project.setting("store_retry_seconds")) if wait else 0.0
        if path is None:
            _check_not_lost(project, self.path)
        self.engine = make_engine(project, self.path, read_only=self.read_only)
        self.url = self.engine.url.render_as_string(hide_password=True)
        self.ledger_path = project.hunch_dir / ledger.FILENAME
        self._unreadable: set[str] = set()  # runs whose events cannot be read (a newer format)
        self._folded_at: dict[str, float] = {}  # when fold_unfolded last folded a live run
        self._waiting: dict[str, int] = {}  # a live run's unfolded bytes when fold_unfolded last looked
        try:
            self.retrying(self._migrate)
        except BaseException:
            self.engine.dispose()
            raise

    def _migrate(self) -> None:
        if not self.read_only:
            with self.write() as conn:
                migrate(conn, str(self.project.hunch_dir))
                ledger.ensure(conn, self.ledger_path)
            return
        with self.read() as conn:
            missing = pending_migrations(conn, str(self.project.hunch_dir))
        if missing:
            raise ReadOnly(f"the store needs upgrading ({', '.join(missing)}) but is read-only", where=self.where,
                           fix="make .hunch/ writable once so this hunchlab can upgrade it")

    def retrying(self, fn: Callable[[], T]) -> T:
        """``fn()``, waiting out an unreachable server when the store was opened with ``wait``."""
        return retrying(fn, self.wait_seconds)

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._faults(), self._connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self.read_only:
            raise ReadOnly("the store is read-only: this command needs to write it", where=self.where,
                           fix="make .hunch/ and store.db writable for your user (or remount the disk read-write)")
        with self._faults(), self._connect().execution_options(**{IMMEDIATE: True}) as conn:
            try:
                with conn.begin():
                    yield conn
                    ledger.flush(conn, self.ledger_path, fsync=self.project.setting("durability") == "machine")
            finally:
                ledger.discard(conn)

    def _connect(self) -> Connection:
        """A connection; a store opened with ``wait`` waits for a server that is not there yet."""

        def connect() -> Connection:
            with self._faults():
                return self.engine.connect()

        return self.retrying(connect)

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """Driver errors become the messages of ``store.faults`` (damaged, full, read-only, unreachable)."""
        try:
            yield
        except (DBAPIError, UnicodeDecodeError, json.JSONDecodeError) as e:
            fault = store_fault(e, self.where, self.url)
            if fault is None:
                raise
            raise fault from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- folding ----------------------------------------------------------------------
    def sync_run(self, run_id: str, *, pyramid: bool = True) -> str | None:
        """Fold one run's new events, one chunk per transaction; drop its pending marker once it has ended.
        ``pyramid``: extend the metric pyramid too; a reader's fold leaves it to ``catch_up_pyramid``."""
        return self._fold(run_id, pyramid)[0]

    def _fold(self, run_id: str, pyramid: bool = True) -> tuple[str | None, bool]:
        """Fold what is new in one run's file: its status after, and whether any line was taken."""
        moved = False
        reader = ChunkReader(ahead=not pyramid)  # a reader's fold of a long backlog decodes ahead
        try:
            while True:
                with self.write() as conn:
                    step = sync_run(conn, self.project, run_id, pyramid=pyramid, reader=reader)
                if not step.more:
                    break
                moved = True
        finally:
            reader.close()
        if step.status in ENDED:
            (self.project.run_dir(run_id) / RESERVE_FILE).unlink(missing_ok=True)  # left by a runner that died
        if step.status in ENDED and not watch_longer(self.project.run_dir(run_id), step.status):
            (self.project.pending_dir / run_id).unlink(missing_ok=True)
        return step.status, moved

    def sync(self) -> None:
        """Fold every pending run (cheap: the pending folder holds only unfinished business), for a
        reader: the metric pyramid is left for the first chart of a metric (``catch_up_pyramid``).

        An ended run whose file has not grown costs a ``stat``, not a transaction. A run
        whose events cannot be read at all (a format newer than this hunchlab) is left
        for the commands about that run to report: one run never stops the others.
        A store that cannot be written (read-only, or the disk is full) is left as it
        is, with a warning: reading what it holds is still worth more than an error.
        """
        pending = self._pending()
        try:
            for run_id, status, unfolded in pending:
                if status in ENDED and not unfolded:
                    if not watch_longer(self.project.run_dir(run_id), status):
                        (self.project.pending_dir / run_id).unlink(missing_ok=True)
                    continue
                try:
                    self.sync_run(run_id, pyramid=False)
                except MachineError:
                    raise
                except HunchError:
                    continue
        except MachineError as e:
            warnings.warn(HunchWarning(f"{len(pending)} pending run(s) not folded into the store ({e.what}): "
                                       "what they logged lately is not shown"), stacklevel=2)

    def fold_unfolded(self) -> bool:
        """Fold the pending runs whose files hold lines not folded yet (the background folder's
        pass, ``hunchlab.background``); whether there was work (lines taken, or waiting).

        A run still going is folded once it has ``LIVE_FOLD_BYTES`` waiting or
        ``LIVE_FOLD_SECONDS`` after its last fold: each fold also extends the metric
        pyramid (a few queries a metric), which for a pass every 0.1 s cost more than
        the points themselves and left the folder behind a run logging 20,000 points/s.
        """
        moved = False
        now = time.monotonic()
        for run_id, status, unfolded in self._pending():
            if not unfolded or run_id in self._unreadable:
                continue
            if status not in ENDED and unfolded < LIVE_FOLD_BYTES and \
                    now - self._folded_at.get(run_id, 0.0) < LIVE_FOLD_SECONDS:
                moved = moved or self._waiting.get(run_id) != unfolded  # still growing: stay for it
                self._waiting[run_id] = unfolded
                continue
            self._folded_at[run_id] = now
            try:
                moved = self._fold(run_id)[1] or moved
            except HunchError:
                self._unreadable.add(run_id)
        return moved

    def _pending(self) -> list[tuple[str, str, int]]:
        """(run id, status, unfolded bytes of its file) of every run marked pending."""
        try:
            pending = sorted(p.name for p in self.project.pending_dir.iterdir())
        except FileNotFoundError:
            return []
        if not pending:
            return []
        with self.read() as conn:
            states = fold_states(conn, pending)
        out = []
        for run_id in pending:
            status, folded = states.get(run_id, ("running", 0))
            out.append((run_id, status, unfolded_bytes(self.project.run_dir(run_id), folded)))
        return out

    def refresh_run(self, run_id: str) -> None:
        """Fold what was appended to a run's file since its last fold, whatever its status: lines an
        orphaned process of a shell entry wrote after the run was marked crashed still count.
        A reader's fold: the metric pyramid is left for the first chart (``catch_up_pyramid``)."""
        with self.read() as conn:
            status, folded = fold_states(conn, [run_id]).get(run_id, ("running", 0))
        if unfolded_bytes(self.project.run_dir(run_id), folded):
            self.sync_run(run_id, pyramid=False)

    def catch_up_pyramid(self, run_id: str, key: str) -> bool:
        """Extend one metric's pyramid to all its points where a reader's fold left it behind;
        False when it is behind and the store is read-only (a chart then reads every point)."""
        with self.read() as conn:
            if not pyramid_behind(conn, run_id, key):
                return True
        if self.read_only:
            return False
        with self.write() as conn:
            catch_up_pyramid(conn, run_id, key)
        return True

    # -- runs -------------------------------------------------------------------------
    def next_run_number(self) -> int:
        """A run number from the store's sequence (PostgreSQL: shared by every folder on it)."""

        def take() -> int:
            with self.write() as conn:
                return next_run_number(conn)

        return self.retrying(take)

    def list_runs(self, limit: int | None = None) -> list[RunRow]:
        """Runs newest first (the newest ``limit`` of them), params and summary decoded."""
        cols = [schema.runs.c[name] for name in RUN_LIST_COLUMNS]
        out: list[RunRow] = []
        with self.read() as conn:  # decoded inside: stored JSON that no longer parses is a damaged store
            for row in conn.execute(select(*cols).order_by(schema.runs.c.seq.desc()).limit(limit)).all():
                d = dict(row._mapping)
                d["params"] = json.loads(d["params"])
                d["summary"] = json.loads(d["summary"])
                out.append(cast("RunRow", d))  # RUN_LIST_COLUMNS are RunRow's keys (tests/unit/test_shapes.py)
        return out

    def count_runs(self) -> int:
        with self.read() as conn:
            return conn.execute(select(func.count()).select_from(schema.runs)).scalar_one()

    def resolve_run(self, ref: str) -> str:
        """A run id from an exact id, a unique prefix (like git), or the id's number."""
        ref = ref.strip()
        c = schema.runs.c
        with self.read() as conn:
            if conn.execute(select(c.id).where(c.id == ref)).first():
                return ref
            if ref.isdigit():
                hit = run_numbered(conn, int(ref))
                if hit:
                    return hit
            escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            hits: Sequence[str] = conn.execute(select(c.id).where(c.id.like(f"{escaped}%", escape="\\"))
                                .order_by(c.seq.desc()).limit(6)).scalars().all()
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise NotFound(f"run prefix '{ref}' is ambiguous: {', '.join(hits[:5])}{' …' if len(hits) > 5 else ''}",
                               fix="type more of the id")
            recent = conn.execute(select(c.id).order_by(c.seq.desc()).limit(2000)).scalars().all()
        raise NotFound(f"no run '{ref}'{did_you_mean(ref, recent)}", fix="`hunch runs` lists the runs")

    def get_run(self, run_id: str, *, metrics: bool = True, examples: bool = True) -> RunRecord:
        """The whole record of one run as plain data."""
        c = schema.runs.c
        with self.read() as conn:
            row = conn.execute(select(schema.runs).where(c.id == run_id)).first()
            if row is None:
                raise NotFound(f"no run '{run_id}'", fix="`hunch runs` lists the runs")
            run = dict(row._mapping)
            for key in ("params", "summary", "meta", "quarantine"):
                run[key] = None if run[key] is None else json.loads(run[key])
            run.update(run.pop("meta"))
            run.pop("folded_bytes", None)
            run["artifacts"] = [dict(r._mapping) for r in conn.execute(
                select(schema.artifacts.c.name, schema.artifacts.c.sha256, schema.artifacts.c.size)
                .where(schema.artifacts.c.run_id == run_id).order_by(schema.artifacts.c.name))]
            run["metrics"] = self._metric_histories(conn, run_id) if metrics else self._last_metrics(conn, run_id)
            run["n_examples"] = conn.execute(select(func.count()).select_from(schema.examples)
                                             .where(schema.examples.c.run_id == run_id)).scalar_one()
            run["predictions"] = list_predictions(conn, run_ids=[run_id])
            if examples:
                run["examples"] = [example_record(r) for r in conn.execute(
                    select(schema.examples).where(schema.examples.c.run_id == run_id)
                    .order_by(schema.examples.c.example_id))]
        return cast("RunRecord", run)  # the row, run.json and the lists above: RunRecord (tests/unit/test_shapes.py)

    def _metric_histories(self, conn: Connection, run_id: str) -> dict[str, list[MetricPoint]]:
        return {key: [{"step": s, "value": v, "time": t} for s, v, t in zip(*pts, strict=True)]
                for _, key, pts in points.histories(conn, [run_id])}

    def _last_metrics(self, conn: Connection, run_id: str) -> dict[str, MetricStat]:
        """Per metric: the number of points and the value at the last step (kept by the fold)."""
        stats = conn.execute(select(schema.runs.c.metric_stats).where(schema.runs.c.id == run_id)).scalar()
        return {key: {k: v for k, v in st.items() if k != LOD}  # type: ignore[misc]
                for key, st in sorted(json.loads(stats or "{}").items())}


def example_record(row: Any) -> ExampleRecord:
    d = dict(row._mapping)
    d.pop("run_id")
    d["id"] = d.pop("example_id")
    for key in ("input", "output", "target", "fields"):
        d[key] = None if d[key] is None else json.loads(d[key])
    d["fields"] = d["fields"] or {}
    return cast("ExampleRecord", d)


def open_store(project: Project, *, wait: bool = False) -> Store:
    return Store(project, wait=wait)


def _check_not_lost(project: Project, path: Path | None) -> None:
    """Refuse to start an empty store in place of a lost one: the runs would silently vanish from every list."""
    if path is None or path.exists():
        return
    n = sum(1 for _ in project.runs_dir.iterdir()) if project.runs_dir.is_dir() else 0
    typed = len(ledger.read(project.hunch_dir / ledger.FILENAME))
    if n or typed:
        held = f"{n} run folder(s)" if n else f"{typed} ledger entries"
        raise StoreDamaged(f"the store is missing, though {held} are in {project.hunch_dir}", where=str(path),
                           fix="`hunch store rebuild` makes it again from the run folders and the ledger")
