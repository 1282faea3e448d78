"""The Ray executor: each trial a Ray task, on as many machines as the cluster has.

A worker on another machine cannot write the driver's store, so a trial's record
travels like this:

1. At submission the driver takes the run's id (``ids.new_run_id``: the project's
   sequence, or the store's when several folders share it) and sends the task the
   run's resolved spec and meta, and a reference to the code: the tree captured when
   the sweep was submitted, packed once per sweep (``codepack``, the same bytes for the
   same tree) into Ray's object store. The worker unpacks it (once per machine and code
   state) and runs that, never what happens to be on its disk.
2. The task (``ray_worker.trial_task``) runs the trial exactly as ``hunch run`` does in
   a scratch project on the worker and streams back what is new in the run folder
   every ``STREAM_SECONDS``, then its end.
3. The driver, in the thread that owns the trial, records the run in its own project
   when the task's first message arrives (``create_run`` with that id; the worker's
   host, pid and environment in its meta), appends each chunk to the run's folder as
   it comes, and ends the run itself (``Run.finish``: the end event, then the fold
   into the store), exactly like a local run.

Durability: a log call that returned on a worker is on the driver's disk within
``STREAM_SECONDS``. If the entry's process dies, the worker still ships everything it
wrote. If the worker process or its machine dies, Ray fails the task, and the driver
records the run as crashed with everything received so far (at most the last
``STREAM_SECONDS`` of events are lost); ``hunch sweep resume`` runs it again. If the
driver dies, its tasks die with it (Ray ends the tasks of a driver that is gone): each
run keeps what had reached the driver's disk, which is also up to ``STREAM_SECONDS``
behind what the worker had confirmed; readers mark those runs crashed (the same pid
check as for a local run), and ``resume`` runs them again.

Stopping a trial (pruned, Ctrl-C) cancels its task gently: the worker stops the entry
as a local sweep does and removes its scratch folder; a task still there
``FORCE_AFTER_SECONDS`` later is killed (its entry's supervisor then removes it).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hunchlab.errors import HunchError, MissingPackage
from hunchlab.execute.codepack import digest_of, pack_tree
from hunchlab.execute.jobs import Job
from hunchlab.execute.local import INTERRUPT_GRACE_SECONDS, Control, RunOutcome, link_files
from hunchlab.execute.ray_connect import connect, first_line
from hunchlab.execute.ray_worker import LOG_FILES, trial_task
from hunchlab.execute.sweep_code import data_paths, local_repo, restore_snapshot, sweep_dir
from hunchlab.ids import new_run_id
from hunchlab.project import Project
from hunchlab.run_start import create_run

# A cancelled task gets the entry's SIGINT grace, then its supervisor's kill (a few seconds), before
# the driver kills the worker outright.
FORCE_AFTER_SECONDS = INTERRUPT_GRACE_SECONDS + 20.0
MAX_IGNORED = 2000  # ignored paths sent with a sweep's code, to explain a trial's missing data file


class TrialNotStarted(HunchError):
    """A trial whose Ray task ended before it began running (cancelled or failed to start)."""


@dataclass
class _Code:
    """A sweep's packed code in Ray's object store, and what a worker needs to run it."""

    ref: Any
    digest: str
    relcwd: str
    ignored: list[str]


class RayExecutor:
    """Runs trials as Ray tasks, ``slots`` at a time (default: the cluster's CPUs)."""

    name = "ray"

    def __init__(self, project: Project, *, jobs: int | None, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise MissingPackage("the Ray executor needs Ray, which is not installed",
                                 fix="pip install 'hunchlab[ray]' (or run without --executor ray)") from None
        self.project = project
        self._ray = ray
        self._owns = not ray.is_initialized()
        self.address = connect(ray, address, jobs) if self._owns else None  # what a resume joins again
        self.slots = jobs or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(num_cpus=1, max_retries=0)(trial_task)
        self._code: dict[str, _Code] = {}

    def open(self, sweeps: list[dict[str, Any]]) -> None:
        """Pack each sweep's submitted code once and put it in Ray's object store for every task."""
        for sweep in sweeps:
            with tempfile.TemporaryDirectory(prefix="hunch-ray-pack-") as tmp:
                cwd = restore_snapshot(self.project, sweep, Path(tmp) / "tree", link_ignored=False)
                data = pack_tree(Path(tmp) / "tree")
                relcwd = os.path.relpath(cwd, Path(tmp) / "tree")
            ignored = data_paths(local_repo(self.project, sweep))[:MAX_IGNORED]
            self._code[sweep["id"]] = _Code(self._ray.put(data), digest_of(data), relcwd, ignored)

    def run(self, job: Job, control: Control) -> RunOutcome:
        spec = job.spec()
        run_id = new_run_id(self.project)
        code = self._code[job.sweep["id"]]
        meta = {"name": spec.name, "params": spec.params, "seed": spec.seed, "spec": spec.to_meta(),
                "argv": ["hunch", *sys.argv[1:]], **job.meta()}
        payload = {"run_id": run_id, "meta": meta, "spec": asdict(spec), "relcwd": code.relcwd,
                   "ignored": code.ignored, "durability": self.project.setting("durability")}
        started = time.time()
        stream = self._task.remote(code.ref, code.digest, payload)
        force = threading.Timer(FORCE_AFTER_SECONDS, lambda: self._ray.cancel(stream, force=True))
        force.daemon = True

        def stop() -> None:
            self._ray.cancel(stream, force=False)
            force.start()

        control.attach(run_id, stop)
        try:
            return self._follow(job, control, stream, run_id, meta, started)
        finally:
            force.cancel()

    def _follow(self, job: Job, control: Control, stream: Any, run_id: str, meta: dict[str, Any],
                started: float) -> RunOutcome:
        """Record the run as its task's messages arrive; end it as the task ended (or as it was stopped)."""
        run = None
        end: tuple[str, int | None, str | None] | None = None
        try:
            for ref in stream:
                kind, *body = self._ray.get(ref)
                if kind == "start":
                    run = self._record_start(job, run_id, {**meta, **body[0]})
                elif kind == "append" and run is not None:
                    _append(run.dir / body[0], body[1])
                elif kind == "file" and run is not None:
                    _write_at(run.dir / body[0], body[1], body[2])
                elif kind == "done":
                    end = (body[0], body[1], body[2])
        except Exception as e:  # noqa: BLE001 - a task that failed in any way ends as one crashed trial
            if control.status is None:
                end = ("crashed", None, f"the Ray task failed: {type(e).__name__}: {first_line(e)}")
        if control.status is not None:
            end = (control.status, end[1] if end else None, control.reason)
        if run is None:
            why = end[2] if end else "no reason given"
            raise TrialNotStarted(f"the Ray task ended before the trial started ({why})")
        status, code, error = end or ("crashed", None, "the Ray task ended without a result")
        run.finish(status, code, error)
        exit_code = 1 if code is None else (code if code >= 0 else 128 - code)
        return RunOutcome(run_id, status, exit_code, time.time() - started, error)

    def _record_start(self, job: Job, run_id: str, meta: dict[str, Any]) -> Any:
        run = create_run(self.project, meta, run_id=run_id)
        for name in LOG_FILES:  # as a local run has them, even if the entry prints nothing
            (run.dir / name).touch()
        code_dir = sweep_dir(self.project, job.sweep["id"]) / "code"
        if code_dir.is_dir():
            link_files(code_dir, run.dir / "code")
        return run

    def close(self) -> None:
        self._code.clear()
        if self._owns:
            self._ray.shutdown()


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _write_at(path: Path, offset: int, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if offset else "wb") as f:
        f.seek(offset)
        f.write(data)
