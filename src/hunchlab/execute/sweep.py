"""Sweeps and ablations: expand a search space into trials, record the plan, drive the trials.

A *trial* is one run: one config at one seed. A sweep is recorded before its first trial
starts (every trial's overrides and seed, the resolved spec, the code state), so
``resume`` knows exactly what is missing, and every trial runs the code as it was when
the sweep was submitted: the captured code state is rebuilt in a scratch tree (or
shipped to Ray workers), so editing your code while a sweep runs cannot leak into it.

The driver keeps up to ``executor.slots`` trials running, each in a thread that blocks
on its executor (a local child process, or a Ray task), and watches them from the main
thread: progress, the pruning rule, Ctrl-C. A failed trial never stops the sweep.
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import HunchError
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.execute.jobs import Executor, Job
from hunchlab.execute.local import Control, RunOutcome
from hunchlab.execute.plan import Plan, parse_axes, plan_ablation, plan_sweep, plan_with_baseline
from hunchlab.execute.prune import MedianPruner
from hunchlab.execute.sweep_code import store_files, sweep_dir
from hunchlab.project import Project

POLL_SECONDS = 0.25
# Ended states of a trial that `resume` leaves alone; any other (failed, crashed,
# interrupted, or no run at all) is run again.
DONE = ("finished", "pruned")


# ----------------------------------------------------------------------------- recording


def record(project: Project, plans: list[Plan], *, executor: str, cwd: Path,
           address: str | None = None, agent: str | None = None) -> list[dict[str, Any]]:
    """Capture the code state once, then store every plan; returns the stored sweeps.

    The code state's files go into the store (for every project folder on it) and to
    ``.hunch/sweeps/<id>/code`` inside the transaction that stores the plan, so a sweep
    in the store always has its code. ``address``: the Ray cluster the sweep runs on.
    ``agent`` names the agent that started it (``hunch mcp``); its trials' runs carry the name too.
    """
    from hunchlab.capture import capture_code
    from hunchlab.store import open_store
    from hunchlab.store import sweeps as q

    staging = project.hunch_dir / "sweeps" / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    code = capture_code(cwd, staging)
    if executor == "ray" and not code.get("git"):
        shutil.rmtree(staging, ignore_errors=True)
        raise HunchError(f"{cwd} is not in a git repo, so there is no code state to ship to Ray workers",
                         fix="`git init` and commit your code (uncommitted changes are shipped too), "
                             "or use --executor local")
    staging.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    try:
        with open_store(project) as store, store.write() as conn:
            if code.get("git"):
                code = {**code, "files": store_files(conn, staging)}
            for plan in plans:
                sweep_id = q.insert_sweep(conn, {
                    "kind": plan.kind, "name": plan.spec.name, "status": "running",
                    "spec": asdict(plan.spec), "space": plan.space, "metric": plan.metric, "goal": plan.goal,
                    "seeds": plan.seeds, "budget": plan.budget, "role": plan.role, "prune": plan.prune,
                    "executor": executor, "code": code, **driver_identity(), "created_at": time.time(),
                    "lease_until": time.time() + q.LEASE_SECONDS, "address": address, "agent": agent,
                }, [asdict(t) for t in plan.trials])
                ids.append(sweep_id)
                dest = sweep_dir(project, sweep_id) / "code"
                shutil.rmtree(dest.parent, ignore_errors=True)  # left by a driver killed before its commit
                dest.parent.mkdir(parents=True)
                shutil.copytree(staging, dest, copy_function=os.link)
            if len(ids) == 2:
                q.set_pair(conn, ids[0], ids[1])
                q.set_pair(conn, ids[1], ids[0])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with open_store(project) as store, store.read() as conn:
        return [q.get_sweep(conn, i) for i in ids]


def driver_identity() -> dict[str, Any]:
    """This process as a sweep's driver: host, pid and the pid's start time (against pid reuse)."""
    from hunchlab.rundir import process_start_time

    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_start": process_start_time(os.getpid())}


# ----------------------------------------------------------------------------- driving


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
        return HunchError(f"{' and '.join(parts)} (listed above)", where=" + ".join(self.sweeps),
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
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []
        self.unrecorded: list[str] = []
        self.durations: list[float] = []
        self.started = time.time()
        self.identity = driver_identity()
        self.renewed = time.monotonic()

    def run(self) -> Result:
        completed = interrupted = False
        with _stop_on_sigterm():
            try:
                self.executor.open(self.sweeps)
                self._loop()
                completed = True
            except KeyboardInterrupt:
                interrupted = True
                self._stop_all()
            finally:
                self.executor.close()
                self._record_end("finished" if completed else "interrupted")
        return Result([s["id"] for s in self.sweeps], len(self.jobs), self.counts, time.time() - self.started,
                      interrupted, self.problems, unrecorded=self.unrecorded)

    def _record_end(self, status: str) -> None:
        """Mark the sweeps ended; a store still out of reach leaves them to be marked by the next reader."""
        from hunchlab.errors import MachineError, StoreError
        from hunchlab.store import open_store
        from hunchlab.store import sweeps as q
        from hunchlab.store.faults import retrying

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
        from hunchlab.store import open_store
        from hunchlab.store import sweeps as q

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
        """Ctrl-C: start nothing more, stop what runs (recorded as interrupted), keep what finished."""
        self.pending.clear()
        for _, control in self.running.values():
            control.stop("interrupted", "the sweep was stopped (Ctrl-C)")
        while self.running:
            self._ended(*self.updates.get())

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
    from hunchlab.store import open_store
    from hunchlab.store import sweeps as q

    pruner = MedianPruner(sweep["prune"])
    with open_store(project) as store, store.read() as conn:
        finished = [r["id"] for t in q.trials(conn, sweep["id"]) for r in t["runs"] if r["status"] == "finished"]
        for curve in q.metric_histories(conn, finished, pruner.metric).values():
            pruner.add_finished(curve)
    return pruner


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """``kill PID`` stops a sweep as cleanly as Ctrl-C: running trials are recorded as interrupted."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_executor(name: str, project: Project, *, jobs: int | None, address: str | None = None) -> Executor:
    """``local`` (worker processes on this machine) or ``ray`` (tasks on a Ray cluster)."""
    if jobs is not None and jobs < 1:
        raise HunchError(f"--jobs must be at least 1, got {jobs}", fix="e.g. --jobs 4")
    if name == "local":
        from hunchlab.execute.pool import LocalExecutor

        return LocalExecutor(project, jobs or os.cpu_count() or 1)
    if name == "ray":
        from hunchlab.execute.ray_executor import RayExecutor

        return RayExecutor(project, jobs=jobs, address=address or project.setting("ray_address"))
    raise HunchError(f"unknown executor '{name}'", fix="use --executor local or --executor ray")


# ----------------------------------------------------------------------------- entry points


def run_sweep(spec_path: str | Path, args: list[str] = (), *, seeds: int | None = None,  # type: ignore[assignment]
              budget: int | None = None, metric: str | None = None, goal: str | None = None, smoke: bool = False,
              executor: str = "local", jobs: int | None = None, address: str | None = None,
              progress: Callable[[Progress], None] | None = None, project: Project | None = None,
              cwd: Path | None = None, agent: str | None = None,
              admit: Callable[[int], None] | None = None) -> Result:
    """``hunch sweep SPEC key=v1,v2 ...``: plan (and validate) everything, connect, record, run.

    ``args`` mixes overrides (``steps=5``) and axes (``lr=1e-4,3e-4``). With ``budget``
    and a spec that names a ``baseline:``, the method and the baseline are each tuned
    over their own search space with ``budget`` trials, in one interleaved run.
    ``admit`` is told how many trials were planned before anything is recorded, and may
    refuse by raising (``hunch mcp``'s trial budget); ``agent`` names who started it.
    """
    plans = plan_sweeps(spec_path, args, seeds=seeds, budget=budget, metric=metric, goal=goal, smoke=smoke)
    if admit is not None:
        admit(sum(len(p.trials) for p in plans))
    return _run_plans(plans, executor=executor, jobs=jobs, address=address, progress=progress, project=project,
                      cwd=cwd, agent=agent)


def plan_sweeps(spec_path: str | Path, args: list[str] = (), *, seeds: int | None = None,  # type: ignore[assignment]
                budget: int | None = None, metric: str | None = None, goal: str | None = None,
                smoke: bool = False) -> list[Plan]:
    """The plans ``run_sweep`` runs: one, or a method and its baseline tuned with the same budget."""
    from hunchlab.spec import load_spec

    overrides, axes = parse_axes(list(args))
    spec = load_spec(spec_path, overrides, smoke=smoke)
    if budget is not None and spec.baseline:
        if axes:
            raise HunchError("with a baseline, each side's search space comes from its own spec's `sweep:` block",
                             fix=f"move {', '.join(axes)} into the sweep: block of {spec_path}")
        return plan_with_baseline(spec, budget=budget, seeds=seeds, metric=metric, goal=goal)
    plans = [plan_sweep(spec, axes, seeds=seeds, budget=budget, metric=metric, goal=goal)]
    if spec.baseline:
        plans[0].notes.append(f"the spec names a baseline ({spec.baseline}): add --budget N to tune both "
                              "with the same number of trials")
    return plans


def run_ablation(spec_path: str | Path, overrides: list[str] = (), *, seeds: int = 3,  # type: ignore[assignment]
                 pairs: bool = False, metric: str | None = None, goal: str | None = None, smoke: bool = False,
                 executor: str = "local", jobs: int | None = None, address: str | None = None,
                 progress: Callable[[Progress], None] | None = None, project: Project | None = None,
                 cwd: Path | None = None) -> Result:
    """``hunch ablate SPEC``: the full config and each ablation (``pairs``: two at a time), ``seeds`` each."""
    from hunchlab.spec import load_spec

    spec = load_spec(spec_path, list(overrides), smoke=smoke)
    plan = plan_ablation(spec, seeds=seeds, pairs=pairs, metric=metric, goal=goal)
    return _run_plans([plan], executor=executor, jobs=jobs, address=address, progress=progress, project=project,
                      cwd=cwd)


def _run_plans(plans: list[Plan], *, executor: str, jobs: int | None, address: str | None,
               progress: Callable[[Progress], None] | None, project: Project | None, cwd: Path | None,
               agent: str | None = None) -> Result:
    """Connect the executor first (a dead Ray address fails here), then record, then run.

    Trials of a method/baseline pair are interleaved so both sides advance together.
    """
    from hunchlab.project import find_project
    from hunchlab.store import open_store
    from hunchlab.store import sweeps as q
    from hunchlab.store.health import check_recordable

    project = project or find_project()
    check_recordable(project)  # a damaged store or a full disk stops the sweep before it is recorded
    ex = make_executor(executor, project, jobs=jobs, address=address)
    sweeps = record(project, plans, executor=ex.name, cwd=cwd or Path.cwd(), address=ex.address, agent=agent)
    with open_store(project) as store, store.read() as conn:
        per_sweep = [[Job(s, t) for t in q.trials(conn, s["id"])] for s in sweeps]
    jobs_ = [j for group in itertools.zip_longest(*per_sweep) for j in group if j is not None]
    result = drive(project, sweeps, jobs_, ex, progress)
    result.notes = [n for p in plans for n in p.notes]
    return result


def resume(ref: str, *, executor: str | None = None, jobs: int | None = None, address: str | None = None,
           progress: Callable[[Progress], None] | None = None, project: Project | None = None) -> Result:
    """``hunch sweep resume ID``: run the trials that are missing or did not finish (failed, crashed,
    interrupted), from the code state the sweep was submitted with. Finished and pruned trials stay.

    From any project folder on the sweep's store: what is done is read from the store,
    the code is rebuilt from the store and this clone's repository, and the sweep is
    taken over in one compare-and-set, so two clones never both run it. A Ray sweep
    joins the cluster it ran on unless ``address`` says otherwise.
    """
    from hunchlab.execute.sweep_code import check_code
    from hunchlab.project import find_project
    from hunchlab.store import open_store
    from hunchlab.store import sweeps as q

    project = project or find_project()
    with open_store(project) as store:
        store.sync()
        with store.write() as conn:
            q.mark_dead_drivers(conn)
            sweep = q.get_sweep(conn, q.resolve_sweep(conn, ref))
    _refuse_running(sweep)
    check_code(project, sweep)
    ex = make_executor(executor or sweep["executor"], project, jobs=jobs, address=address or sweep.get("address"))
    try:
        with open_store(project) as store, store.write() as conn:
            q.mark_dead_drivers(conn)
            sweep = q.get_sweep(conn, sweep["id"])
            todo = [t for t in q.trials(conn, sweep["id"]) if not t["runs"] or t["runs"][-1]["status"] not in DONE]
            _refuse_running(sweep)
            if todo and not q.take_over(conn, sweep["id"], driver_identity(), ex.address):
                _refuse_running(q.get_sweep(conn, sweep["id"]))  # another clone took it a moment ago
            sweep = q.get_sweep(conn, sweep["id"])
    except BaseException:
        ex.close()
        raise
    if not todo:
        ex.close()
        return Result([sweep["id"]], 0, {}, 0.0, False, [])
    return drive(project, [sweep], [Job(sweep, t) for t in todo], ex, progress)


def _refuse_running(sweep: dict[str, Any]) -> None:
    from hunchlab.store import sweeps as q

    if sweep["status"] == "running":
        raise HunchError(f"sweep {sweep['id']} is still running ({q.driver_note(sweep)})",
                         fix="wait for it, or stop it (Ctrl-C in its terminal) before resuming")
