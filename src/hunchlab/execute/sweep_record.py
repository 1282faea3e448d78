"""Recording a sweep before its first trial starts: the plans, every trial, and the code they run.

A sweep is stored whole before anything runs (each trial's overrides and seed, the resolved
spec, the code state), so ``resume`` knows exactly what is missing, and every trial runs the
code as it was when the sweep was submitted, however the working tree changes meanwhile.
Kept apart from the driver (``sweep_driver.py``) because a sweep is recorded once, by
whichever driver submits it, and read back by every driver that resumes it.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hunchlab.capture import capture_code
from hunchlab.errors import WrongState
from hunchlab.execute.plan import Plan
from hunchlab.execute.sweep_code import store_files, sweep_dir
from hunchlab.project import Project
from hunchlab.rundir import process_start_time


def record(project: Project, plans: list[Plan], *, executor: str, cwd: Path,
           address: str | None = None, agent: str | None = None) -> list[dict[str, Any]]:
    """Capture the code state once, then store every plan; returns the stored sweeps.

    The code state's files go into the store (for every project folder on it) and to
    ``.hunch/sweeps/<id>/code`` inside the transaction that stores the plan, so a sweep
    in the store always has its code. ``address``: the Ray cluster the sweep runs on.
    ``agent`` names the agent that started it (``hunch mcp``); its trials' runs carry the name too.
    """
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    staging = project.hunch_dir / "sweeps" / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    code = capture_code(cwd, staging)
    if executor == "ray" and not code.get("git"):
        shutil.rmtree(staging, ignore_errors=True)
        raise WrongState(f"{cwd} is not in a git repo, so there is no code state to ship to Ray workers",
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
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_start": process_start_time(os.getpid())}
