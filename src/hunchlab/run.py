"""The Run handle: what an experiment talks to while it runs.

A run is a folder (``.hunch/runs/<id>/``) with ``run.json`` (what was run: config,
seed, code state, environment) and ``events.jsonl`` (what happened, appended with
one ``write()`` per call; see ``hunchlab.events``). The store learns of the run
through a marker in ``.hunch/pending/`` and folds the events in when the run ends or
when any reader finds them unfolded. The handle writes events (metrics, summary,
predictions, examples, artifacts) and ends the run; making one is ``run_start.py``'s job,
its params are ``run_config.py``'s, and its other files ``run_files.py``'s.

Everything here is on the hot path and stays light: no SQLAlchemy, no pydantic, no
numpy, and the standard modules only a rare call needs (hashlib, shutil: part of the
~15 ms that they and socket took together on the loaded bench machine, paid by every
entry's process) are imported by that call.
"""

from __future__ import annotations

import operator
import os
import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.background import fold_soon
from hunchlab.current import drop_process_store, process_store
from hunchlab.errors import BadInput, HunchWarning, MachineError, NoSpace, NotFound, StoreError, WrongState
from hunchlab.eventcheck import INT64_MAX, INT64_MIN, MAX_ID_CHARS, MAX_KEYS, MAX_LINE_BYTES, MAX_NAME_CHARS, problem
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.events import EventWriter, decode, encode
from hunchlab.lifecycle import finish_at_exit, forget, heartbeats
from hunchlab.project import Project
from hunchlab.run_config import Config
from hunchlab.run_files import sha256_of, store_file
from hunchlab.rundir import HEARTBEAT_FILE, HEARTBEAT_SECONDS, RESERVE_FILE

if TYPE_CHECKING:
    from hunchlab.claims import Claim

# A log line this long may hold a metric name over MAX_NAME_CHARS (the shortest such line is
# ~300 bytes); shorter lines cannot break a cap, so the common call skips the name check.
LONG_LOG_LINE = MAX_NAME_CHARS + 40
_FLOAT = {float}  # issuperset(map(...)) builds no set: 0.27 against 0.35 us for 10 metrics


class Summary(dict):  # type: ignore[type-arg]
    """Summary metrics; every assignment is written to the event file at once."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self._run = run

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, other: Any = (), **kw: Any) -> None:  # type: ignore[override]
        values = {**dict(other), **kw}
        self._run._has_results = True
        self._run._write({"t": "summary", "d": values}, "this summary", check=True)
        super().update(values)


class Run:
    """One execution of a resolved spec. Log with ``log``, ``summary``, ``example``, ``artifact``."""

    def __init__(self, project: Project, run_id: str, meta: dict[str, Any], *, owner: bool,
                 fold_in_background: bool = False) -> None:
        self.project = project
        self.id = run_id
        self.dir = project.run_dir(run_id)
        self.meta = meta
        self.config = Config(meta.get("params", {}))
        self.seed: int = meta.get("seed", 0)
        self.name: str | None = meta.get("name")
        self.summary = Summary(self)
        self._owner = owner
        self._step = 0
        self._lock = threading.Lock()
        self._finished = False
        self._has_results = False
        self.unrecorded: str | None = None
        fsync = project.setting("durability") == "machine"
        self._writer = EventWriter(self.dir / EVENTS_FILE, fsync=fsync)
        self._fold_in_background = fold_in_background
        if owner:
            heartbeats.add(self.dir / HEARTBEAT_FILE, HEARTBEAT_SECONDS)

    # -- logging -----------------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Record metrics at ``step`` (default: one past the last step); durable on return."""
        try:  # a dict of floats is written as it is: checking is cheaper than converting (0.3 vs 0.8 us)
            values = metrics if type(metrics) is dict and _FLOAT.issuperset(map(type, metrics.values())) else \
                {k: float(v) for k, v in metrics.items()}
        except (TypeError, ValueError):
            bad = next(k for k, v in metrics.items() if not _is_number(v))
            raise BadInput(
                f"metric '{bad}' must be a number, got {type(metrics[bad]).__name__}: {metrics[bad]!r:.60}",
                where=f"run {self.id}",
                fix="log numbers with run.log; put text in run.example(...) or run.summary",
            ) from None
        with self._lock:
            if step is None:
                step = self._step
            if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
                step = self._checked_step(step)
            data = encode({"t": "log", "step": step, "time": time.time(), "m": values})
            if len(data) > LONG_LOG_LINE:
                self._check_names(values, data)
            self._has_results = True
            self._step = step + 1
            self._writer.write_line(data)

    def _checked_step(self, step: Any) -> int:
        """A step that is not a plain int: an integer type (numpy's) is taken, anything else refused."""
        try:
            step = operator.index(step)
        except TypeError:
            pass
        if type(step) is not int or not INT64_MIN <= step <= INT64_MAX:
            raise BadInput(f"step must be an integer between -2**63 and 2**63 - 1, got {step!r:.60}",
                           where=f"run {self.id}", fix="pass step=<int>, or leave it out to count calls")
        return step

    def _check_names(self, values: dict[str, float], data: bytes) -> None:
        if len(values) > MAX_KEYS or max(len(str(k)) for k in values) > MAX_NAME_CHARS:
            raise BadInput(f"a log call takes at most {MAX_KEYS:,} metrics named with up to {MAX_NAME_CHARS} "
                           "characters", where=f"run {self.id}",
                           fix="shorten the names; per-example values belong in run.example(...)")
        self._check_size(data, "this log call")

    def _check_size(self, data: bytes, what: str) -> None:
        if len(data) > MAX_LINE_BYTES:
            raise BadInput(f"{what} is {len(data):,} bytes as an event line, over the {MAX_LINE_BYTES >> 20} MiB cap",
                           where=f"run {self.id}", fix="save large content with run.artifact(path)")

    def predict(self, claim: str | Claim, *, group_size: int | None = None) -> None:
        """State what you expect before any result exists: ``run.predict("acc > 0.8 @ 70%")``.

        The claim is locked (timestamped) now and resolved when the run ends; see
        ``hunchlab.claims`` for the grammar.
        """
        from hunchlab.claims import Claim, parse_claim  # the claim grammar: only a run that predicts loads it

        if self._has_results:
            raise WrongState("predict before the results: this run has already logged results",
                             where=f"run {self.id}", fix="call run.predict(...) before the first run.log/summary/example")
        parsed = claim if isinstance(claim, Claim) else parse_claim(claim, source=f"run {self.id} prediction")
        self._write({"t": "prediction", "d": {"text": parsed.render(), "claim": parsed.to_dict(),
                                              "created_at": time.time(), "group_size": group_size}}, "this prediction")

    def example(
        self,
        id: str | int,
        input: Any = None,
        output: Any = None,
        target: Any = None,
        correct: bool | None = None,
        score: float | None = None,
        **fields: Any,
    ) -> None:
        """Record one evaluated example; logging the same id again replaces it."""
        record: dict[str, Any] = {"id": str(id)}
        if len(record["id"]) > MAX_ID_CHARS:
            raise BadInput(f"example id of {len(record['id'])} characters (at most {MAX_ID_CHARS})",
                           where=f"run {self.id}", fix="use a short id (a number, a hash); the text goes in input")
        # Fields left out are null to every reader; leaving them out keeps lines short and off the slow encoder.
        for key, value in (("input", input), ("output", output), ("target", target)):
            if value is not None:
                record[key] = value
        if correct is not None:
            record["correct"] = bool(correct)
        if score is not None:
            record["score"] = float(score)
        if fields:
            record["fields"] = fields
        self._has_results = True
        self._write({"t": "example", "d": record}, f"example {record['id'][:40]}")

    def artifact(self, path: str | os.PathLike[str], name: str | None = None) -> Path:
        """Copy a file (or a folder's files) into the run folder, recorded with its sha256.

        A file already inside the run folder (a checkpoint saved to ``run.dir``) is linked,
        not copied, so it is stored once; rewriting it in place later changes the artifact
        too, and its recorded sha256 then tells.
        """
        src = Path(path)
        if not src.exists():
            raise NotFound(f"artifact {src} does not exist", where=f"run {self.id}", fix="pass the path of a file you wrote")
        name = name or src.name
        dest = self.dir / "artifacts" / name
        files = [(src, dest)] if src.is_file() else [
            (f, dest / f.relative_to(src)) for f in sorted(src.rglob("*")) if f.is_file()
        ]
        for s, d in files:
            d.parent.mkdir(parents=True, exist_ok=True)
            if s.resolve() != d.resolve():
                store_file(s, d, inside=self.dir)
            self._write({"t": "artifact", "name": str(d.relative_to(self.dir / "artifacts")),
                         "sha256": sha256_of(d), "size": d.stat().st_size}, f"artifact {name}", check=True)
        return dest

    def _write(self, event: dict[str, Any], what: str = "this event", *, check: bool = False) -> None:
        """Encode and append one event; ``check`` runs the fold's own checks first (rare calls only)."""
        data = encode(event)
        self._check_size(data, what)
        if check:
            why = problem(decode(data))
            if why:
                raise BadInput(f"{what} was not written: {why}", where=f"run {self.id}",
                               fix="see the caps in docs/runs.md")
        with self._lock:
            self._writer.write_line(data)

    # -- lifecycle ---------------------------------------------------------------
    def finish(self, status: str = "finished", exit_code: int | None = 0, error: str | None = None, *,
               ended_at: float | None = None) -> str | None:
        """Mark the run ended (owner only; ``ended_at`` for a run imported from elsewhere) and have it folded.

        A run started from Python returns as soon as its end line is written: the fold
        happens in a background folder (``hunchlab.background``) or, whichever comes
        first, in the next command that reads the project. ``hunch run`` and sweeps
        fold at once, since they report the run's results next: for them it returns
        None once the store holds the run's end, or why it could not take it yet (the
        disk is full, the team store is down) — the end is safe in the event file, and
        the next command that can write the store folds it in.
        """
        if self._finished:
            return self.unrecorded
        self._finished = True
        forget(id(self))
        if self._owner:
            heartbeats.remove(self.dir / HEARTBEAT_FILE)
            end = {"t": "end", "status": status, "exit_code": exit_code, "time": ended_at or time.time()}
            if error is not None:
                end["error"] = error
            self._write_end(end)
        self._writer.close()
        if not self._owner:
            return None
        if self._fold_in_background:
            fold_soon(self.project.hunch_dir)
            return None
        self.unrecorded = self._record()
        return self.unrecorded

    def discard(self) -> None:
        """Remove a run whose entry never started (recording it failed half-way): it did not happen."""
        self._finished = True
        forget(id(self))
        heartbeats.remove(self.dir / HEARTBEAT_FILE)
        self._writer.close()
        (self.project.pending_dir / self.id).unlink(missing_ok=True)
        import shutil  # only a discarded run needs it

        shutil.rmtree(self.dir, ignore_errors=True)

    def _write_end(self, event: dict[str, Any]) -> None:
        """The end line, on a line of its own even after a torn one, and written even on a full
        disk: the run's reserved room is given up for it."""
        try:
            with self._lock:
                self._writer.write_after_torn(event)
        except NoSpace:
            (self.dir / RESERVE_FILE).unlink(missing_ok=True)
            with self._lock:
                self._writer.write_after_torn(event)
        (self.dir / RESERVE_FILE).unlink(missing_ok=True)

    def _record(self) -> str | None:
        """Fold the ended run now, through this process's store; why not, if the store cannot take it."""
        try:
            store = process_store(self.project)
            store.retrying(lambda: store.sync_run(self.id))
        except (MachineError, StoreError) as e:
            drop_process_store(self.project)
            return e.what
        return None

    def _end(self, status: str = "finished", exit_code: int | None = 0, error: str | None = None) -> None:
        """``finish`` for a run of ``hunchlab.start()``: a store that cannot take the end yet is a warning."""
        why = self.finish(status, exit_code, error)
        if why:
            warnings.warn(HunchWarning(f"run {self.id} ended but is not in the store yet ({why}); the next hunch "
                                       "command that can write the store folds it in"), stacklevel=3)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self._end()
        elif isinstance(exc, KeyboardInterrupt):
            self._end("interrupted", 130, "KeyboardInterrupt")
        else:
            self._end("failed", 1, f"{type(exc).__name__}: {exc}")
        global _current
        if _current is self:  # the with block of the current run has ended: current_run() no longer returns it
            _current = None

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name or ''}>"


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


# The process's current run (what ``current_run()`` returns): the last ``start()``, or the handle
# attached for ``hunch run``'s entry. It is kept beside the handle because leaving a run's ``with``
# block clears it (``Run.__exit__``).
_current: Run | None = None


def active_run() -> Run | None:
    """The process's current run, if one was made current and its ``with`` block has not ended."""
    return _current


def make_current(run: Run, *, end_at_exit: bool = False) -> Run:
    """Make ``run`` the process's current run; with ``end_at_exit`` the interpreter's exit ends it
    (as finished) and an uncaught exception too (as failed): ``start()``'s runs, which no runner ends."""
    global _current
    _current = run
    if end_at_exit:
        finish_at_exit(id(run), run._end)
    return run

