"""The local runner behind ``hunch run``: record, execute, stream, finish.

The entry runs in a child process so that anything it does (a segfault, an OOM
kill, ``os._exit``) cannot take the record with it: the runner sees the exit, writes
the run's end, and folds its events into the store. stdout and stderr are streamed
to the terminal and saved in the run folder at the same time.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from typing import Any, BinaryIO

from hunchlab.capture import environment
from hunchlab.claims import Claim
from hunchlab.errors import SpecError, did_you_mean
from hunchlab.execute import captures
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.project import Project
from hunchlab.run import ENV_RUN_DIR, create_run
from hunchlab.spec import Spec

PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
INTERRUPT_GRACE_SECONDS = 10.0


@dataclass
class RunOutcome:
    run_id: str
    status: str
    exit_code: int
    duration: float


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
) -> RunOutcome:
    """Execute one resolved spec as a run; raises SpecError before recording anything bad.

    ``predictions`` are written into the run before its entry starts, which is what
    locks them: nothing the entry logs can come before them. A sweep passes
    ``control`` (to end the trial from outside), ``code_dir`` (the code state it
    captured once for all its trials, linked into the run) and ``env`` in
    ``extra_meta`` (the environment, also captured once).
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
    run = create_run(project, meta, code_cwd=cwd if capture_code_state else None)
    if code_dir is not None:
        link_files(code_dir, run.dir / "code")
    for claim in predictions:
        run.predict(claim, group_size=group_size)
    started = time.time()
    hooks = captures.start(project, spec, run, cwd, search)
    status, code, error = execute(argv_child, run.dir, project.root, cwd=cwd, search=search, echo=echo,
                                  control=control, hooks=hooks)
    hooks.finish()
    run.finish(status, code, error)
    return RunOutcome(run.id, status, code if code >= 0 else 128 - code, time.time() - started)


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
            echo: bool, control: Control | None = None,
            hooks: captures.EntryHooks | None = None) -> tuple[str, int, str | None]:
    """Run a recorded run's entry process to its end, teeing its output into the run folder.

    Returns the status, the exit code and the error to record. Shared by ``run_spec``
    and the Ray worker, which records the run elsewhere. ``hooks`` (``execute.captures``)
    add to the entry's path and environment and read its stdout as it is saved.
    """
    first = hooks.path_first if hooks else []
    env = {
        **os.environ,
        **(hooks.env if hooks else {}),
        ENV_RUN_DIR: str(run_dir),
        "HUNCH_DIR": str(project_root),
        "HUNCH_RUN_ID": run_dir.name,
        "HUNCH_EVENTS": str(run_dir / EVENTS_FILE),
        "PYTHONPATH": os.pathsep.join([*first, *search, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    proc = subprocess.Popen(argv_child, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=control is not None)
    tees = [_tee(proc.stdout, run_dir / "stdout.log", sys.stdout.buffer if echo else None,
                 hooks.on_stdout if hooks else None),
            _tee(proc.stderr, run_dir / "stderr.log", sys.stderr.buffer if echo else None)]
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
    return status, code, error


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


def _interrupt_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT the entry's process group (a Python entry can clean up), SIGKILL it after a grace period."""

    def send(sig: signal.Signals) -> None:
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass

    send(signal.SIGINT)
    timer = threading.Timer(INTERRUPT_GRACE_SECONDS, send, (signal.SIGKILL,))
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


def _stop(proc: subprocess.Popen[bytes]) -> int:
    """After Ctrl-C: the child got SIGINT too; give it time to end, then make sure."""
    try:
        return proc.wait(INTERRUPT_GRACE_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        return proc.wait()


def _tee(pipe: BinaryIO | None, path: Path, echo: BinaryIO | None,
         sink: Callable[[bytes], None] | None = None) -> threading.Thread:
    def pump() -> None:
        assert pipe is not None
        with open(path, "wb") as f:
            fd = pipe.fileno()
            while chunk := os.read(fd, 65536):
                f.write(chunk)
                f.flush()
                if echo is not None:
                    echo.write(chunk)
                    echo.flush()
                if sink is not None:
                    sink(chunk)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def expand_command(spec: Spec) -> str:
    """Fill ``{param}`` (dotted for nested params), ``{seed}`` placeholders, shell-quoted."""
    assert spec.command is not None
    values = {"seed": spec.seed, **_flat(spec.params)}

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in values:
            raise SpecError(f"command uses {{{key}}} but there is no such param{did_you_mean(key, values)}",
                            where=spec.path, fix=f"params: {', '.join(values)}")
        return shlex.quote(str(values[key]))

    return PLACEHOLDER.sub(fill, spec.command)


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out[f"{prefix}{k}"] = v
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
    return out


def check_entry(entry: str, search: list[str], spec_path: str | None) -> None:
    """Fail before recording a run if ``module:function`` cannot be found.

    The module is located and its source parsed, not imported: importing would run
    the user's top-level code (and maybe torch) in the runner for nothing.
    """
    module_name, func_name = entry.split(":")
    mod = _locate(module_name, [*search, *sys.path])
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


def _locate(name: str, paths: list[str]) -> ModuleSpec | None:
    parts = name.split(".")
    found = PathFinder.find_spec(parts[0], paths)
    for part in parts[1:]:
        if found is None or not found.submodule_search_locations:
            return None
        found = PathFinder.find_spec(part, list(found.submodule_search_locations))
    return found


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
