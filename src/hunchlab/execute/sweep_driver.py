"""Driving a sweep's trials: up to ``executor.slots`` at once, watched from the main thread.

Each trial runs in a thread that blocks on its executor (a local child process, or a Ray
task) and only reports back through a queue; counting, the pruning rule, progress, the
driver's lease and Ctrl-C all happen in the main thread, so none of them needs a lock. A
failed trial never stops the sweep. Kept apart from recording (``sweep_record.py``) and
the entry points (``sweep.py``): the same driver runs a new sweep, an ablation and a resume.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hunchlab.errors import HunchError, MachineError, StoreError, WrongState
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.execute.jobs import Executor, Job
from hunchlab.execute.local import Control, RunOutcome
from hunchlab.execute.prune import MedianPruner
from hunchlab.execute.sweep_record import driver_identity
from hunchlab.project import Project
from hunchlab.store.faults import retrying

POLL_SECONDS = 0.25
# Ended states of a trial that `resume` leaves alone; any other (failed, crashed,
# interrupted, or no run at all) is run again.
DONE = ("finished", "pruned")


@dataclass
class Progress:
    """What the driver reports after every change, for a progress bar."""

    total: int
    counts: dict[str, int]  # finished / failed / crashed / pruned / interrupted / error
    running: int
    elapsed: float
    eta: float | None
    last: str | None = None  # one line about the trial that just ended
    last_status: str | None = None  # and its status

    @property
    def done(self) -> int:
        return sum(self.counts.values())


@dataclass
class Result:
    """How a drive went, as plain data."""

    sweeps: list[str]
    total: int
    counts: dict[str, int]
    duration: float
    interrupted: bool
    problems: list[str]  # one line per trial that failed, crashed or could not start
    notes: list[str] = field(default_factory=list)  # what planning decided (a subsampled grid, unequal budgets)
    unrecorded: list[str] = field(default_factory=list)  # trials that ran but the store could not take (yet)

    def fault(self) -> HunchError | None:
        """Why the sweep is not complete in the store, when trials could not start or not be recorded."""
        errors = self.counts.get("error", 0)
        if not (errors or self.unrecorded):
            return None
        parts = [f"{errors} trial(s) could not run"] if errors else []
        parts += [f"{len(self.unrecorded)} ran but could not be recorded"] if self.unrecorded else []
        return WrongState(f"{' and '.join(parts)} (listed above)", where=" + ".join(self.sweeps),
                          fix=f"once the store answers: hunch sweep resume {self.sweeps[0]} records what ran "
                              "and runs what did not")


def drive(project: Project, sweeps: list[dict[str, Any]], jobs: list[Job], executor: Executor,
          progress: Callable[[Progress], None] | None = None) -> Result:
    """Run ``jobs`` on ``executor`` until all have ended or Ctrl-C; marks the sweeps ended."""
    return _Driver(project, sweeps, jobs, executor, progress).run()


class _Driver:
    """Keeps ``executor.slots`` trials running, one thread each, and watches them from the main thread.

    Trial threads only report back through a queue; counting, pruning, progress and
    Ctrl-C all happen in the main thread, so none of them needs a lock.
    """

    def __init__(self, project: Project, sweeps: list[dict[str, Any]], jobs: list[Job], executor: Executor,
                 progress: Callable[[Progress], None] | None) -> None:
        self.project, self.sweeps, self.jobs, self.executor, self.progress = project, sweeps, jobs, executor, progress
        self.pruners = {s["id"]: _pruner(project, s) for s in sweeps if s.get("prune")}
        self.pending = deque(jobs)
        self.running: dict[tuple[str, int], tuple[Job, Control]] = {}
        self.updates: queue.Queue[tuple[tuple[str, int], RunOutcome | BaseException]] = queue.Queue()
        self.stop = threading.Event()  # set by Ctrl-C or SIGTERM; the loop acts on it between two steps
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []
        self.unrecorded: list[str] = []
        self.durations: list[float] = []
        self.started = time.time()
        self.identity = driver_identity()
        self.renewed = time.monotonic()

    def run(self) -> Result:
        completed = False
        with _stop_on_signals(self.stop):
            try:
                self.executor.open(self.sweeps)
                self._loop()
                completed = not self.stop.is_set()
            finally:
                self.executor.close()
                self._record_end("finished" if completed else "interrupted")
        return Result([s["id"] for s in self.sweeps], len(self.jobs), self.counts, time.time() - self.started,
                      self.stop.is_set(), self.problems, unrecorded=self.unrecorded)

    def _record_end(self, status: str) -> None:
        """Mark the sweeps ended; a store still out of reach leaves them to be marked by the next reader."""
        from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
        from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

        def mark() -> None:
            with open_store(self.project, wait=True) as store, store.write() as conn:
                for s in self.sweeps:
                    q.set_driver(conn, s["id"], status=status, driver=self.identity)

        try:  # its store waits to connect; a server that drops the write itself is waited for once more
            retrying(mark, float(self.project.setting("store_retry_seconds")))
        except (MachineError, StoreError) as e:
            self.problems.append(f"the sweep's end could not be recorded: {e.what}")

    def _loop(self) -> None:
        while self.pending or self.running:
            if self.stop.is_set():
                self._stop_all()
            if self.pending and len(self.running) < self.executor.slots:
                while self.pending and len(self.running) < self.executor.slots:
                    self._launch(self.pending.popleft())
                self._report()
            try:
                self._ended(*self.updates.get(timeout=POLL_SECONDS))
            except queue.Empty:
                pass
            _prune(self.project, self.pruners, list(self.running.values()))
            self._renew_lease()

    def _renew_lease(self) -> None:
        """Tell every project folder on the store this driver is alive (``store/sweeps.py``); a sweep
        another driver took over (this one was stalled past its lease) starts nothing more here."""
        from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
        from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

        if time.monotonic() - self.renewed < q.LEASE_RENEW_SECONDS:
            return
        self.renewed = time.monotonic()
        try:
            with open_store(self.project) as store, store.write() as conn:
                lost = q.renew_lease(conn, [s["id"] for s in self.sweeps], self.identity)
        except HunchError:  # the store is out of reach: the next renewal tries again
            return
        if lost and any(j.sweep["id"] in lost for j in self.pending):
            self.pending = deque(j for j in self.pending if j.sweep["id"] not in lost)
            self.problems.append(f"{', '.join(lost)}: another driver took it over (this one missed its lease), "
                                 "so this one started no more of its trials")

    def _stop_all(self) -> None:
        """Ctrl-C: start nothing more, stop what runs (recorded as interrupted), keep what finished.

        Called again on every pass once stopping (a trial told to stop before its process started
        stops when it does); the loop collects the stopped trials' ends like any other."""
        self.pending.clear()
        for _, control in self.running.values():
            control.stop("interrupted", "the sweep was stopped (Ctrl-C)")

    def _launch(self, job: Job) -> None:
        control = Control()
        self.running[job.key] = (job, control)

        def work() -> None:
            try:
                self.updates.put((job.key, self.executor.run(job, control)))
            except BaseException as e:  # noqa: BLE001 - any failure ends this trial, never the sweep
                self.updates.put((job.key, e))

        threading.Thread(target=work, daemon=True, name=f"hunch-trial-{job.trial['trial']}").start()

    def _ended(self, key: tuple[str, int], result: RunOutcome | BaseException) -> None:
        job, control = self.running.pop(key)
        if isinstance(result, BaseException):
            status, line = "error", f"trial {job.trial['trial']} ({job.trial['label']}) could not run: {result}"
        else:
            status = result.status
            self.durations.append(result.duration)
            line = f"{job.trial['label']} seed {job.trial['seed']}: {status} ({result.run_id})"
            if control.reason:
                line = f"{line}: {control.reason}"
            if result.unrecorded:
                self.unrecorded.append(f"trial {job.trial['trial']} {line}, not recorded yet: {result.unrecorded}")
            pruner = self.pruners.get(job.sweep["id"])
            if pruner is not None:
                pruner.ended(result.run_id, status)
        self.counts[status] = self.counts.get(status, 0) + 1
        if status not in DONE:
            self.problems.append(line)
        elif not isinstance(result, BaseException) and result.unrecorded:
            self.problems.append(self.unrecorded[-1])
        self._report(line, status)

    def _report(self, last: str | None = None, status: str | None = None) -> None:
        if self.progress is None:
            return
        eta = None
        if self.durations:
            per_trial = sum(self.durations) / len(self.durations) / max(1, min(self.executor.slots, len(self.jobs)))
            eta = per_trial * (len(self.pending) + len(self.running) / 2)
        self.progress(Progress(len(self.jobs), dict(self.counts), len(self.running), time.time() - self.started,
                               eta, last, status))


def _prune(project: Project, pruners: dict[str, MedianPruner], running: list[tuple[Job, Control]]) -> None:
    for job, control in list(running):
        pruner = pruners.get(job.sweep["id"])
        run_id = control.run_id
        if pruner is None or run_id is None or control.status:
            continue
        pruner.observe(run_id, project.run_dir(run_id) / EVENTS_FILE)
        reason = pruner.verdict(run_id)
        if reason:
            control.stop("pruned", reason)


def _pruner(project: Project, sweep: dict[str, Any]) -> MedianPruner:
    """A pruner that already knows the sweep's finished trials (from before a resume)."""
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    pruner = MedianPruner(sweep["prune"])
    with open_store(project) as store, store.read() as conn:
        finished = [r["id"] for t in q.trials(conn, sweep["id"]) for r in t["runs"] if r["status"] == "finished"]
        for curve in q.metric_histories(conn, finished, pruner.metric).values():
            pruner.add_finished(curve)
    return pruner


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C, or ``kill PID``, stops a sweep cleanly: nothing more starts, running trials are
    recorded as interrupted, finished ones stay. A second Ctrl-C raises KeyboardInterrupt at once.

    The handler only sets ``stop``, which the loop reads between two steps. It used to raise
    KeyboardInterrupt wherever the main thread was: between taking a trial's end off the queue and
    counting it, or between listing a trial as running and starting its thread, that lost the
    trial, and the sweep then waited for it forever (seen in 1 of ~10 Ctrl-Cs sent as a trial ended).
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: the person wants out now
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
