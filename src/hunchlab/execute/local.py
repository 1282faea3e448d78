"""The local runner behind ``hunch run``: record, execute, stream, finish.

The entry runs in a child process so that anything it does (a segfault, an OOM
kill, ``os._exit``) cannot take the record with it: the runner sees the exit, writes
the run's end, and folds its events into the store. stdout and stderr are streamed
to the terminal and saved in the run folder at the same time.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from hunchlab.capture import environment
from hunchlab.claims import Claim
from hunchlab.errors import HunchError, MachineError, NoSpace, SpecError, did_you_mean, machine_error
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.execute import captures
from hunchlab.execute.child import ENV_RUNNER_PID, ENV_SCRATCH, EXIT_NO_SPACE
from hunchlab.execute.entrypoint import expand_command, locate_module
from hunchlab.execute.forkserver import ForkServer, ServedProcess
from hunchlab.project import Project
from hunchlab.run import Run
from hunchlab.run_start import create_run
from hunchlab.rundir import ENV_RUN_DIR, RESERVE_BYTES, reserve_room
from hunchlab.spec import Spec

INTERRUPT_GRACE_SECONDS = 10.0
Process = subprocess.Popen[bytes] | ServedProcess  # the entry's supervisor, spawned or forked


NO_SPACE = "no space left on device"


@dataclass
class RunOutcome:
    run_id: str
    status: str
    exit_code: int
    duration: float
    error: str | None = None  # as recorded: why it failed, crashed or was pruned
    unrecorded: str | None = None  # why the store could not take the run's end yet (folded in later)


def run_spec(
    project: Project,
    spec: Spec,
    *,
    cwd: Path,
    argv: list[str],
    echo: bool = True,
    extra_meta: dict[str, Any] | None = None,
    capture_code_state: bool = True,
    predictions: list[Claim] = (),  # type: ignore[assignment]
    group_size: int | None = None,
    control: Control | None = None,
    code_dir: Path | None = None,
    server: ForkServer | None = None,
) -> RunOutcome:
    """Execute one resolved spec as a run; raises SpecError before recording anything bad.

    ``predictions`` are written into the run before its entry starts, which is what
    locks them: nothing the entry logs can come before them. A sweep passes
    ``control`` (to end the trial from outside), ``code_dir`` (the code state it
    captured once for all its trials, linked into the run), ``env`` in
    ``extra_meta`` (the environment, also captured once) and ``server``, which forks the
    entry's supervisor from a warm interpreter (``execute/forkserver.py``).
    """
    search = search_path(spec, cwd)
    argv_child = child_argv(spec, search)
    meta = {
        "name": spec.name,
        "params": spec.params,
        "seed": spec.seed,
        "spec": spec.to_meta(),
        "argv": argv,
        **(extra_meta or {}),
    }
    if "env" not in meta:
        meta["env"] = environment()
    from hunchlab.store.health import check_recordable  # lazy: loads sqlalchemy only when called

    check_recordable(project)
    run = _record_start(project, meta, cwd=cwd if capture_code_state else None, code_dir=code_dir,
                        predictions=predictions, group_size=group_size)
    started = time.time()
    hooks = captures.start(project, spec, run, cwd, search)
    status, code, error = execute(argv_child, run.dir, project.root, cwd=cwd, search=search, echo=echo,
                                  control=control, hooks=hooks, server=server)
    hooks.finish()
    if hooks.failed and status == "finished":  # the entry exited 0, but what it left says otherwise
        status, error = hooks.failed
    unrecorded = run.finish(status, code, error)
    return RunOutcome(run.id, status, code if code >= 0 else 128 - code, time.time() - started, error, unrecorded)


def _record_start(project: Project, meta: dict[str, Any], *, cwd: Path | None, code_dir: Path | None,
                  predictions: list[Claim], group_size: int | None) -> Run:
    """Create the run with everything that precedes its entry; a fault of the machine on the way
    removes the half-made run (it never ran) and is raised as its message."""
    run: Run | None = None
    try:
        run = create_run(project, meta, code_cwd=cwd)
        reserve_room(run.dir)
        if code_dir is not None:
            link_files(code_dir, run.dir / "code")
        for claim in predictions:
            run.predict(claim, group_size=group_size)
        return run
    except (OSError, MachineError) as e:
        if run is not None:
            run.discard()
        fault = machine_error(e, "recording the run before its entry starts") if isinstance(e, OSError) else e
        if fault is None:
            raise
        raise fault from None


def outcome_fault(outcome: RunOutcome) -> HunchError | None:
    """The message for a run the machine got in the way of (the disk filled, the store was out of reach)."""
    where = f"run {outcome.run_id}"
    if outcome.unrecorded:
        return MachineError(f"the run {outcome.status}, but the store could not record its end: {outcome.unrecorded}",
                            where=where, fix="what it logged is safe in its folder; the next command that can write "
                                             f"the store folds it in (after fixing that: `hunch show {outcome.run_id}`)")
    if outcome.error and outcome.error.startswith(NO_SPACE):
        return NoSpace(f"{NO_SPACE}: the run is recorded as failed, with every point it logged before",
                       where=where, fix="free some space on that disk (`df -h` shows it), then run it again")
    return None


def search_path(spec: Spec, cwd: Path) -> list[str]:
    """Where the entry is looked for: the run's folder, then the spec's (a relative spec path is from ``cwd``)."""
    spec_dir = (cwd / spec.path).resolve().parent if spec.path else cwd
    return [str(cwd), str(spec_dir)]


def child_argv(spec: Spec, search: list[str]) -> list[str]:
    """The command line of the process the entry runs in; raises SpecError if the entry cannot run."""
    if spec.entry:
        check_entry(spec.entry, search, spec.path)
        return [sys.executable, "-m", "hunchlab.execute.child", "--python", spec.entry]
    return [sys.executable, "-m", "hunchlab.execute.child", "--shell", expand_command(spec)]


def execute(argv_child: list[str], run_dir: Path, project_root: Path, *, cwd: Path, search: list[str],
            echo: bool, control: Control | None = None, hooks: captures.EntryHooks | None = None,
            scratch: Path | None = None, server: ForkServer | None = None) -> tuple[str, int, str | None]:
    """Run a recorded run's entry process to its end, teeing its output into the run folder.

    Returns the status, the exit code and the error to record. Shared by ``run_spec``
    and the Ray worker, which records the run elsewhere. ``hooks`` (``execute.captures``)
    add to the entry's path and environment and read its stdout as it is saved.
    ``scratch``: a folder the entry's supervisor removes if this process dies before it
    could (the Ray worker's scratch project; ``execute/child.py``). ``server``: a sweep's fork
    server, which starts the supervisor when the entry's environment lets it.
    """
    first = hooks.path_first if hooks else []
    env = {
        **os.environ,
        **(hooks.env if hooks else {}),
        ENV_RUN_DIR: str(run_dir),
        ENV_RUNNER_PID: str(os.getpid()),
        "HUNCH_DIR": str(project_root),
        "HUNCH_RUN_ID": run_dir.name,
        "HUNCH_EVENTS": str(run_dir / EVENTS_FILE),
        **({ENV_SCRATCH: str(scratch)} if scratch is not None else {}),
        "PYTHONPATH": os.pathsep.join([*first, *search, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    proc = _start_supervisor(argv_child, cwd, env, new_session=control is not None, server=server)
    faults: list[OSError] = []
    tees = [_tee(proc.stdout, run_dir / "stdout.log", sys.stdout.buffer if echo else None, faults,
                 hooks.on_stdout if hooks else None),
            _tee(proc.stderr, run_dir / "stderr.log", sys.stderr.buffer if echo else None, faults)]
    if control is not None:
        control.attach(run_dir.name, lambda: _interrupt_group(proc))
    interrupted = False
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        interrupted = True
        code = _stop(proc)
    for t in tees:
        t.join()
    if control is not None and control.status:
        return control.status, code, control.reason
    status, error = _status(code, interrupted)
    if status != "finished" and not interrupted and _out_of_space(code, faults, run_dir):
        return "failed", code, f"{NO_SPACE} (the disk holding {run_dir} filled up)"
    return status, code, error


def _start_supervisor(argv_child: list[str], cwd: Path, env: dict[str, str], *, new_session: bool,
                      server: ForkServer | None) -> Process:
    """The entry's supervisor: forked by the sweep's fork server where it can, else a new interpreter
    (also when the server is gone: the trial still runs)."""
    if server is not None and server.serves(env):
        try:
            return server.spawn(argv_child, cwd=str(cwd), env=env, new_session=new_session)
        except OSError:
            pass
    return subprocess.Popen(argv_child, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=new_session)


def _out_of_space(code: int, faults: list[OSError], run_dir: Path) -> bool:
    """Whether the entry failed because the disk filled: it said so (a Python entry's exit code), the
    runner could not save its output, or the disk has less left than a run's reserve."""
    import errno

    if code == EXIT_NO_SPACE or any(e.errno in (errno.ENOSPC, errno.EDQUOT) for e in faults):
        return True
    try:
        stat = os.statvfs(run_dir)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < RESERVE_BYTES


class Control:
    """Ends a run from another thread, with the status and reason it is then recorded with.

    A sweep gives one to each trial, to prune it or to stop it on Ctrl-C. The entry then
    runs in its own session, so a Ctrl-C in the terminal reaches only the sweep, which
    stops each trial itself and records why, instead of every trial dying of the signal
    on its own and being recorded as crashed.
    """

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.status: str | None = None
        self.reason: str | None = None
        self._on_stop: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def attach(self, run_id: str, on_stop: Callable[[], None]) -> None:
        """Called by the runner once the trial's run exists: its id, and how to stop it (at once, if asked)."""
        with self._lock:
            self.run_id, self._on_stop = run_id, on_stop
            stopping = self.status is not None
        if stopping:
            on_stop()

    def stop(self, status: str, reason: str) -> None:
        """Record why (the first call wins) and stop the trial."""
        with self._lock:
            if self.status is not None:
                return
            self.status, self.reason = status, reason
            on_stop = self._on_stop
        if on_stop is not None:
            on_stop()


def _interrupt_group(proc: Process) -> None:
    """SIGINT the entry's process group (a Python entry can clean up); after a grace period SIGTERM
    its supervisor, which kills the whole tree (``execute/child.py``)."""

    def interrupt() -> None:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def terminate() -> None:
        if proc.returncode is None:
            proc.terminate()

    interrupt()
    timer = threading.Timer(INTERRUPT_GRACE_SECONDS, terminate)
    timer.daemon = True
    timer.start()


def link_files(src: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) every file under ``src`` into ``dest``."""
    for path in src.rglob("*"):
        if path.is_file():
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)


def _status(code: int, interrupted: bool) -> tuple[str, str | None]:
    if interrupted:
        return "interrupted", "stopped with Ctrl-C"
    if code == 0:
        return "finished", None
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return "crashed", f"the entry's process was killed by {name}"
    return "failed", f"the entry exited with code {code} (traceback in stderr.log)"


def _stop(proc: Process) -> int:
    """After Ctrl-C: the entry got SIGINT too; give it time to end, then SIGTERM the supervisor, which
    kills the entry's whole tree (``execute/child.py``); SIGKILL only if even that hangs."""
    for send, wait in ((None, INTERRUPT_GRACE_SECONDS), (proc.terminate, INTERRUPT_GRACE_SECONDS), (proc.kill, None)):
        if send is not None:
            send()
        try:
            return proc.wait(wait)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue
    return proc.wait()


def _tee(pipe: IO[bytes] | None, path: Path, echo: BinaryIO | None, faults: list[OSError],
         sink: Callable[[bytes], None] | None = None) -> threading.Thread:
    """Copy the entry's output to ``path``, the terminal and ``sink`` (stdout scalars). A file that can
    no longer be written (the disk is full) is noted in ``faults`` and given up; the terminal and the
    sink keep getting the output."""

    def pump() -> None:
        assert pipe is not None
        f: BinaryIO | None = None
        try:
            f = open(path, "wb")  # noqa: SIM115 - closed below, and given up on a write error
        except OSError as e:
            faults.append(e)
        fd = pipe.fileno()
        while chunk := os.read(fd, 65536):
            if f is not None:
                try:
                    f.write(chunk)
                    f.flush()
                except OSError as e:
                    faults.append(e)
                    _close_quietly(f)
                    f = None
            if echo is not None:
                echo.write(chunk)
                echo.flush()
            if sink is not None:
                sink(chunk)
        _close_quietly(f)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def _close_quietly(f: BinaryIO | None) -> None:
    if f is not None:
        try:
            f.close()
        except OSError:
            pass  # what was buffered is lost with the disk that could not take it


def check_entry(entry: str, search: list[str], spec_path: str | None) -> None:
    """Fail before recording a run if ``module:function`` cannot be found.

    The module is located and its source parsed, not imported: importing would run
    the user's top-level code (and maybe torch) in the runner for nothing.
    """
    module_name, func_name = entry.split(":")
    mod = locate_module(module_name, [*search, *sys.path])
    if mod is None:
        raise SpecError(f"entry module '{module_name}' not found", where=spec_path,
                        fix=f"it must be importable from {search[0]} (a file {module_name.replace('.', '/')}.py)")
    origin = mod.origin
    if not origin or not origin.endswith(".py"):
        return
    try:
        tree = ast.parse(Path(origin).read_text(), origin)
    except SyntaxError as e:
        raise SpecError(f"entry module has a syntax error: {e.msg}", where=f"{origin}:{e.lineno}") from None
    names = _top_level_names(tree)
    if func_name not in names:
        raise SpecError(f"entry module {origin} defines no '{func_name}'{did_you_mean(func_name, names)}",
                        where=spec_path, fix="entry is 'module:function', the function taking the run")


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
