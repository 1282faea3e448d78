"""Sweeps and ablations, the entry points: ``hunch sweep``, ``hunch ablate`` and ``hunch sweep resume``.

A *trial* is one run: one config at one seed. Each entry point plans (``plan.py``, pure,
so a bad axis fails before anything is recorded), connects the executor (a dead Ray address
fails before the sweep is recorded), records the sweep with its code (``sweep_record.py``)
and drives its trials (``sweep_driver.py``). ``resume`` reads what is missing from the store
and takes the sweep over in one compare-and-set, so two clones never both run it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hunchlab.errors import BadInput, SpecError, WrongState
from hunchlab.execute.jobs import Executor, Job
from hunchlab.execute.plan import Plan, parse_axes, plan_ablation, plan_sweep, plan_with_baseline
from hunchlab.execute.pool import LocalExecutor
from hunchlab.execute.ray_executor import RayExecutor
from hunchlab.execute.sweep_code import check_code
from hunchlab.execute.sweep_driver import DONE, Progress, Result, drive
from hunchlab.execute.sweep_record import driver_identity, record
from hunchlab.project import Project, find_project
from hunchlab.spec import load_spec


def make_executor(name: str, project: Project, *, jobs: int | None, address: str | None = None) -> Executor:
    """``local`` (worker processes on this machine) or ``ray`` (tasks on a Ray cluster)."""
    if jobs is not None and jobs < 1:
        raise BadInput(f"--jobs must be at least 1, got {jobs}", fix="e.g. --jobs 4")
    if name == "local":
        return LocalExecutor(project, jobs or os.cpu_count() or 1)
    if name == "ray":
        return RayExecutor(project, jobs=jobs, address=address or project.setting("ray_address"))
    raise BadInput(f"unknown executor '{name}'", fix="use --executor local or --executor ray")


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
    overrides, axes = parse_axes(list(args))
    spec = load_spec(spec_path, overrides, smoke=smoke)
    if budget is not None and spec.baseline:
        if axes:
            raise SpecError("with a baseline, each side's search space comes from its own spec's `sweep:` block",
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
    spec = load_spec(spec_path, list(overrides), smoke=smoke)
    plan = plan_ablation(spec, seeds=seeds, pairs=pairs, metric=metric, goal=goal)
    return _run_plans([plan], executor=executor, jobs=jobs, address=address, progress=progress, project=project,
                      cwd=cwd)


def ablate(target: str, overrides: Sequence[str] = (), *, seeds: int = 3, pairs: bool = False,
           metric: str | None = None, goal: str | None = None, smoke: bool = False, executor: str = "local",
           jobs: int | None = None, address: str | None = None, progress: Callable[[Progress], None] | None = None,
           project: Project | None = None, cwd: Path | None = None) -> tuple[Result | None, str]:
    """``hunch ablate SPEC|ID``: a spec file (``.yaml``/``.yml``, or any file that exists) is run as
    ``run_ablation``; anything else is an ablation's id, run nothing. Returns the drive's result (None
    for an id) and the ablation whose table to show."""
    if Path(target).suffix not in (".yaml", ".yml") and not Path(target).is_file():
        return None, target
    result = run_ablation(target, list(overrides), seeds=seeds, pairs=pairs, metric=metric, goal=goal,
                          smoke=smoke, executor=executor, jobs=jobs, address=address, progress=progress,
                          project=project, cwd=cwd)
    return result, result.sweeps[0]


def _run_plans(plans: list[Plan], *, executor: str, jobs: int | None, address: str | None,
               progress: Callable[[Progress], None] | None, project: Project | None, cwd: Path | None,
               agent: str | None = None) -> Result:
    """Connect the executor first (a dead Ray address fails here), then record, then run.

    Trials of a method/baseline pair are interleaved so both sides advance together.
    """
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called
    from hunchlab.store.health import check_recordable  # lazy: loads sqlalchemy only when called

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
    from hunchlab.store import open_store  # lazy: loads sqlalchemy only when called
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

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
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    if sweep["status"] == "running":
        raise WrongState(f"sweep {sweep['id']} is still running ({q.driver_note(sweep)})",
                         fix="wait for it, or stop it (Ctrl-C in its terminal) before resuming")
