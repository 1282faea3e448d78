"""The local executor: up to N trials at once on this machine, each its own process and run.

Each trial is an ordinary ``run_spec`` run (a child process, its own event file, folded
into the store when it ends), started from a thread of the sweep driver. The
processes write their events to their own files and only the driver's threads write
the store, each in short ``BEGIN IMMEDIATE`` transactions, so parallel trials never
see "database is locked". What the trials share is prepared once per sweep, not per
trial: the code snapshot they run, its captured state, and the environment record.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from hunchlab.capture import environment
from hunchlab.execute.forkserver import ForkServer, forkserver_supported
from hunchlab.execute.jobs import Job
from hunchlab.execute.local import Control, RunOutcome, run_spec
from hunchlab.execute.sweep_code import restore_snapshot, sweep_dir
from hunchlab.project import Project


class LocalExecutor:
    """Runs trials as child processes of this one, ``slots`` at a time."""

    name = "local"
    address: str | None = None  # no Ray cluster for a resume to join

    def __init__(self, project: Project, slots: int) -> None:
        self.project = project
        self.slots = slots
        self._cwd: dict[str, Path] = {}
        self._env: dict[str, Any] = {}
        self._server: ForkServer | None = None

    def open(self, sweeps: list[dict[str, Any]]) -> None:
        """Rebuild each sweep's submitted code in ``.hunch/sweeps/<id>/tree`` and record the environment once."""
        self._env = environment()
        self._server = ForkServer(dict(os.environ)) if forkserver_supported() else None
        for sweep in sweeps:
            self._cwd[sweep["id"]] = restore_snapshot(self.project, sweep, self._tree(sweep["id"]), link_ignored=True)

    def run(self, job: Job, control: Control) -> RunOutcome:
        sweep_id = job.sweep["id"]
        code_dir = sweep_dir(self.project, sweep_id) / "code"
        return run_spec(self.project, job.spec(), cwd=self._cwd[sweep_id], argv=["hunch", *sys.argv[1:]],
                        echo=False, extra_meta={**job.meta(), "env": self._env}, capture_code_state=False,
                        control=control, code_dir=code_dir if code_dir.is_dir() else None, server=self._server)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for sweep_id in self._cwd:
            shutil.rmtree(self._tree(sweep_id), ignore_errors=True)

    def _tree(self, sweep_id: str) -> Path:
        return sweep_dir(self.project, sweep_id) / "tree"
