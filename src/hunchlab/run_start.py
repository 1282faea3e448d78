"""How a run handle comes to be: a new run's folder, the handle a ``hunch run`` entry attaches
to, ``hunchlab.start()`` from a script, and ``hunchlab.current_run()``.

Apart from the handle (``run.py``) because making a run is a different job from logging
into one: it takes a run id, writes ``run.json`` before the pending marker (so a reader
never folds a run whose ``run.json`` is missing), captures code and environment, and is
called once per run, where the handle's methods are called per step. ``ids``, ``capture``
and ``background`` are imported by the call that needs them, so ``import hunchlab`` stays
light (``tests/unit/test_public_api.py`` pins it).
"""

from __future__ import annotations

import json
import os
import socket  # loaded by rundir already
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hunchlab.background import fold_soon
from hunchlab.errors import StoreError, WrongState, machine_error
from hunchlab.ids import new_run_id, sequence_of
from hunchlab.project import Project, find_project
from hunchlab.run import Run, active_run, make_current
from hunchlab.run_files import write_json_atomic
from hunchlab.rundir import ENV_RUN_DIR, META_FILE, process_start_time


def create_run(project: Project, meta: dict[str, Any], *, code_cwd: Path | None = None,
               run_id: str | None = None, fold_in_background: bool = False) -> Run:
    """Make the run's folder and ``run.json``, mark it pending, and return its owner handle.

    ``meta`` holds what was run (params, seed, name, spec, code, env, argv). The
    folder is complete before the pending marker appears, so a reader never folds a
    run whose ``run.json`` is missing. With ``code_cwd`` the code state of the git
    work tree around that folder is captured into the run's ``code/`` folder.
    ``run_id`` is one taken earlier with ``ids.new_run_id`` (a Ray trial's worker
    knows its id before the driver records the run).
    """
    if run_id is not None:
        project.run_dir(run_id).mkdir(parents=True)
    else:
        for _ in range(100):
            run_id = new_run_id(project)
            try:
                project.run_dir(run_id).mkdir(parents=True)
                break
            except FileExistsError:
                continue
        else:  # every id taken was an existing folder: writing on would overwrite another run's run.json
            raise StoreError("could not take a run id", where=str(project.hunch_dir), fix="check .hunch/seq")
    assert run_id is not None
    run_dir = project.run_dir(run_id)
    if code_cwd is not None:
        from hunchlab.capture import capture_code  # lazy: importlib.metadata and tarfile, off `import hunchlab`

        meta = {**meta, "code": capture_code(code_cwd, run_dir / "code")}
    pid = os.getpid()
    meta = {
        "id": run_id,
        "seq": sequence_of(run_id),
        "created_at": time.time(),
        "host": socket.gethostname(),
        "project_root": str(project.root),  # where its files are, for `hunch show` in another folder on the store
        "pid": pid,
        "pid_start": process_start_time(pid),
        **meta,
    }
    write_json_atomic(run_dir / META_FILE, meta)
    run = Run(project, run_id, meta, owner=True, fold_in_background=fold_in_background)
    (project.pending_dir / run_id).touch()
    return run


def attach_run(run_dir: Path) -> Run:
    """The handle a child process (``hunch run``'s entry) uses to log into its parent's run."""
    meta = json.loads((run_dir / META_FILE).read_text())
    project = find_project(run_dir.parent.parent.parent)
    return Run(project, meta["id"], meta, owner=False)


def current_run() -> Run:
    """The active run: the one ``hunch run`` started this process for, or the last ``start()``."""
    run = active_run()
    if run is None and os.environ.get(ENV_RUN_DIR):
        run = make_current(attach_run(Path(os.environ[ENV_RUN_DIR])))
    if run is None:
        raise WrongState(
            "no active run in this process",
            fix="start one with `with hunchlab.start(...) as run:` or launch the script with `hunch run SPEC`",
        )
    return run


def start(
    config: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    seed: int = 0,
    question: str | None = None,
    project: str | os.PathLike[str] | None = None,
) -> Run:
    """Start a run from a script or notebook (not launched by ``hunch run``).

    Captures the code state and environment like ``hunch run`` does. Use it as a
    context manager; a run left open is finished when the interpreter exits, and an
    uncaught exception marks it failed.
    """
    from hunchlab.capture import environment  # lazy: importlib.metadata and tarfile, off `import hunchlab`

    proj = find_project(project)
    meta = {
        "name": name,
        "params": dict(config or {}),
        "seed": seed,
        "spec": {"question": question, "entry": "python-api"},
        "argv": sys.argv,
        "env": environment(),
    }
    try:
        run = create_run(proj, meta, code_cwd=Path.cwd(), fold_in_background=True)
    except OSError as e:  # a full disk, a read-only project: its message, not a traceback from inside hunchlab
        raise machine_error(e, "starting a run") or e from None

    fold_soon(proj.hunch_dir)  # folds as the run goes: after a kill, only the tail is left to fold
    return make_current(run, end_at_exit=True)
