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

import copy
import itertools
import json
import math
import os
import queue
import random
import re
import shutil
import socket
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hunchlab.errors import HunchError, SpecError
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.events import read_events
from hunchlab.execute.local import Control, RunOutcome, child_argv, search_path
from hunchlab.execute.sweep_code import store_files, sweep_dir
from hunchlab.project import Project
from hunchlab.records import flatten
from hunchlab.spec import Spec, apply_override, axis_values, parse_override

POLL_SECONDS = 0.25
# Ended states of a trial that `resume` leaves alone; any other (failed, crashed,
# interrupted, or no run at all) is run again.
DONE = ("finished", "pruned")
LOWER_IS_BETTER = re.compile(r"loss|err|ppl|perplexity|mse|mae|rmse|regret|cost|latency|time", re.I)


# ----------------------------------------------------------------------------- plans


@dataclass
class Trial:
    """One planned run of a sweep: overrides on top of the sweep's spec, and a seed."""

    trial: int
    config: int  # trials of one config differ only in their seed
    label: str
    overrides: dict[str, Any]
    seed: int


@dataclass
class Plan:
    """A sweep or ablation ready to be recorded: everything is validated, nothing is stored yet."""

    kind: str  # sweep | ablation
    spec: Spec
    trials: list[Trial]
    space: dict[str, Any]
    seeds: int
    metric: str | None = None
    goal: str | None = None
    prune: dict[str, Any] | None = None
    role: str | None = None  # method | baseline, when tuned against each other with --budget
    notes: list[str] = field(default_factory=list)

    @property
    def budget(self) -> int:
        """Trials (runs) the sweep is given: what `hunch compare` reports as its tuning budget."""
        return len(self.trials)


def guess_goal(metric: str) -> str:
    """``min`` for names that read as costs (loss, error, perplexity, ...), ``max`` otherwise."""
    return "min" if LOWER_IS_BETTER.search(metric) else "max"


def parse_axes(args: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    """``["lr=1e-4,3e-4", "steps=5"]`` → overrides ``["steps=5"]`` and axes ``{"lr": [0.0001, 0.0003]}``.

    Values are split on commas and read as YAML scalars; a value written as a YAML list
    or mapping (``[1, 2]``) is one value. A single value is a plain override.
    """
    overrides: list[str] = []
    axes: dict[str, list[Any]] = {}
    for text in args:
        key, _ = parse_override(text)
        raw = text.partition("=")[2]
        parts = [raw] if raw.strip().startswith(("[", "{")) else raw.split(",")
        if len(parts) == 1 and raw.strip():
            overrides.append(text)
            continue
        if not any(p.strip() for p in parts):
            raise SpecError(f"'{text}' gives no values to sweep", fix=f"e.g. {key}=0.001,0.01,0.1")
        if any(not p.strip() for p in parts):
            raise SpecError(f"'{text}' has an empty value between commas", fix=f"e.g. {key}=0.001,0.01,0.1")
        axes[key] = [parse_override(f"x={p.strip()}")[1] for p in parts]
    return overrides, axes


def plan_sweep(spec: Spec, axes: dict[str, list[Any]] | None = None, *, seeds: int | None = None,
               budget: int | None = None, metric: str | None = None, goal: str | None = None,
               role: str | None = None) -> Plan:
    """Expand the spec's ``sweep:`` block, merged with command-line ``axes``, into trials.

    With ``budget`` the sweep gets exactly that many trials (configs × seeds): a grid
    larger than the budget is subsampled (seeded), a random sweep draws budget/seeds
    configs. A grid smaller than the budget is run whole and the plan says so.
    """
    block = dict(spec.sweep or {})
    space = {**block.get("params", {}), **(axes or {})}
    where = f"{spec.path}: sweep" if spec.sweep else "command line"
    if not space:
        raise SpecError("nothing to sweep", where=spec.path,
                        fix="give values on the command line (lr=1e-4,3e-4) or a `sweep:` block in the spec")
    seeds = seeds if seeds is not None else block.get("seeds", 1)
    _check_positive("--seeds", seeds)
    method = block.get("method") or ("random" if block.get("n") or any(isinstance(a, dict) for a in space.values())
                                     else "grid")
    for key, axis in space.items():
        axis_values(axis, f"{where}.params.{key}", grid=method == "grid")
    notes = _pin_axes(spec, space)
    n_configs = None
    if budget is not None:
        _check_positive("--budget", budget)
        if budget % seeds:
            raise HunchError(f"--budget {budget} is not a multiple of --seeds {seeds}",
                             fix="a trial is one run, so the budget buys configs × seeds: "
                                 f"e.g. --budget {seeds * max(1, budget // seeds)}")
        n_configs = budget // seeds
    rng = random.Random(block.get("seed", 0))
    if method == "grid":
        configs = [dict(zip(space, values, strict=True)) for values in itertools.product(*space.values())]
        if n_configs is not None and len(configs) > n_configs:
            notes.append(f"{spec.name}: budget {budget} buys {n_configs} of the grid's {len(configs)} configs"
                         f" ({n_configs * seeds} trials), drawn at random (seed {block.get('seed', 0)})")
            configs = [configs[i] for i in sorted(rng.sample(range(len(configs)), n_configs))]
        elif n_configs is not None and len(configs) < n_configs:
            notes.append(f"{spec.name}: the grid has only {len(configs)} configs, {len(configs) * seeds} trials: "
                         f"less than the budget {budget}")
    else:
        n = n_configs or block.get("n")
        if not n:
            raise SpecError("a random sweep needs a number of configs", where=spec.path,
                            fix="add `n: 20` to the sweep: block, or pass --budget N")
        configs = _draw(space, n, rng)
        if len(configs) < n:
            notes.append(f"{spec.name}: the space holds only {len(configs)} distinct configs, "
                         f"{len(configs) * seeds} trials")
    metric = metric or block.get("metric") or (spec.prune or {}).get("metric")
    goal = goal or block.get("goal")  # left unset, tables guess it from the metric's name and say so
    labelled = [(_label(c), c) for c in configs]
    plan = Plan("sweep", spec, _trials(spec, labelled, seeds), {"method": method, "params": space,
                                                                  "seed": block.get("seed", 0)},
                seeds, metric, goal, _prune_rule(spec, metric, goal), role, notes)
    return plan


def _pin_axes(spec: Spec, space: dict[str, Any]) -> list[str]:
    """A command-line value for a key the sweep varies replaces that axis with the one value; notes saying so.

    ``hunch sweep exp.yaml model.width=8`` where the spec sweeps ``model.width`` once ran
    the spec's widths, overruling the override without a word (the trial's value is set
    after it). An override of a param above or inside an axis (``model={width: 8}``
    against ``model.width``) is refused: which of the two should win cannot be guessed.
    """
    notes = []
    for text in spec.overrides:
        key = parse_override(text)[0].lstrip("+")
        if key in space:
            notes.append(f"{text} replaces the sweep's axis {key} ({_axis_text(space[key])}): "
                         f"every trial runs {key}={_get(spec, key)!r}")
            space[key] = [_get(spec, key)]
            continue
        nested = [a for a in space if a.startswith(f"{key}.") or key.startswith(f"{a}.")]
        if nested:
            raise SpecError(f"override '{text}' and the sweep's axis {nested[0]} set the same param",
                            where=spec.path, fix=f"override {nested[0]} itself (it then replaces the axis), "
                                                 f"or sweep {key} as a whole")
    return notes


def _axis_text(axis: Any) -> str:
    if isinstance(axis, list):
        return ", ".join(map(str, axis))
    kind, values = next(iter(axis.items()))
    return f"{kind} {values}"


def _check_ablated(spec: Spec, single: dict[str, dict[str, Any]]) -> None:
    """Refuse an override of a param an ablation sets: that variant would overrule it without a word."""
    for text in spec.overrides:
        key = parse_override(text)[0].lstrip("+")
        for name, overrides in single.items():
            hit = next((k for k in overrides if k == key or k.startswith(f"{key}.") or key.startswith(f"{k}.")), None)
            if hit is not None:
                raise SpecError(
                    f"override '{text}' sets {hit}, which ablation '{name}' switches off ({hit}={overrides[hit]!r}): "
                    "that variant would overrule it", where=spec.path,
                    fix=f"to ablate from another {hit}, change it in the spec's params; to switch it off "
                        f"differently, edit ablate.{name}")


def plan_ablation(spec: Spec, *, seeds: int = 3, pairs: bool = False, metric: str | None = None,
                  goal: str | None = None) -> Plan:
    """The full config and each ablation (and, with ``pairs``, every two at once), each at ``seeds`` seeds."""
    _check_positive("--seeds", seeds)
    if not spec.ablate:
        raise SpecError("the spec has no `ablate:` block", where=spec.path,
                        fix="name each component with the overrides that switch it off, e.g. "
                            "ablate: {no_aux_loss: {aux_weight: 0}}")
    variants: list[tuple[str, dict[str, Any]]] = [("full", {})]
    single = {name: flatten(overrides) for name, overrides in spec.ablate.items()}
    _check_ablated(spec, single)
    for name, overrides in single.items():
        unchanged = [k for k, v in overrides.items() if _get(spec, k) == v]
        if len(unchanged) == len(overrides):
            values = ", ".join(f"{k} is already {overrides[k]!r}" for k in unchanged)
            raise SpecError(f"ablation '{name}' changes nothing: {values} in the full config",
                            where=f"{spec.path}: ablate.{name}",
                            fix="an ablation must differ from the full config: fix its values, or remove it")
        variants.append((name, overrides))
    if pairs:
        for (a, oa), (b, ob) in itertools.combinations(single.items(), 2):
            clash = [k for k in set(oa) & set(ob) if oa[k] != ob[k]]
            if clash:
                raise SpecError(f"ablations '{a}' and '{b}' set {clash[0]} differently: they cannot be paired",
                                where=f"{spec.path}: ablate",
                                fix="drop --pairs, or make the two touch different params")
            variants.append((f"{a} + {b}", {**oa, **ob}))
    metric = metric or (spec.sweep or {}).get("metric")
    goal = goal or (spec.sweep or {}).get("goal")
    return Plan("ablation", spec, _trials(spec, variants, seeds), {"ablations": spec.ablate, "pairs": pairs},
                seeds, metric, goal)


def plan_with_baseline(spec: Spec, *, budget: int, seeds: int | None = None, metric: str | None = None,
                       goal: str | None = None) -> list[Plan]:
    """The method and its ``baseline:`` spec, each tuned over its own search space with the same budget."""
    from hunchlab.spec import load_spec

    if not spec.baseline:
        return [plan_sweep(spec, seeds=seeds, budget=budget, metric=metric, goal=goal)]
    path = (Path(spec.path or ".").parent / spec.baseline)
    base = load_spec(path)
    if not base.sweep:
        raise SpecError(f"the baseline {path} has no `sweep:` block, so it would not be tuned at all",
                        where=f"{spec.path}: baseline",
                        fix="give the baseline its own search space: an untuned baseline is the unfair comparison "
                            "--budget exists to prevent")
    method = plan_sweep(spec, seeds=seeds, budget=budget, metric=metric, goal=goal, role="method")
    baseline = plan_sweep(base, seeds=seeds, budget=budget, metric=method.metric, goal=method.goal, role="baseline")
    if method.budget != baseline.budget:
        method.notes.append(f"budgets differ: the method gets {method.budget} trials, the baseline {baseline.budget}")
    return [method, baseline]


def _check_positive(flag: str, n: int) -> None:
    if n < 1:
        raise HunchError(f"{flag} must be at least 1, got {n}", fix=f"e.g. {flag} {'3' if flag == '--seeds' else '12'}")


def _draw(space: dict[str, Any], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` distinct configs drawn from ``space`` (fewer if the space has fewer)."""
    configs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(100 * n):
        config = {key: _sample(axis, rng) for key, axis in space.items()}
        key = json.dumps(config, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            configs.append(config)
            if len(configs) == n:
                break
    return configs


def _sample(axis: Any, rng: random.Random) -> Any:
    """One value of an axis. Two integer bounds draw integers; floats keep 4 significant digits."""
    if isinstance(axis, list):
        return rng.choice(axis)
    kind, values = next(iter(axis.items()))
    if kind == "choice":
        return rng.choice(values)
    lo, hi = values
    integers = isinstance(lo, int) and isinstance(hi, int)
    if kind == "uniform":
        return rng.randint(lo, hi) if integers else float(f"{rng.uniform(lo, hi):.4g}")
    value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return round(value) if integers else float(f"{value:.4g}")


def _label(overrides: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items())


def _get(spec: Spec, key: str) -> Any:
    node: Any = spec.params
    for part in key.lstrip("+").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return spec.seed if key == "seed" else node


def _trials(spec: Spec, variants: list[tuple[str, dict[str, Any]]], seeds: int) -> list[Trial]:
    """Seeds outer, configs inner: every config gets its first seed before any gets a second,
    so an early stop still compares all configs and the pruning median fills up early."""
    trials = []
    for s in range(seeds):
        for config, (label, overrides) in enumerate(variants):
            trials.append(Trial(len(trials), config, label, overrides, spec.seed + s))
    for t in trials[: len(variants)]:
        check = trial_spec(spec, t.overrides, t.seed)  # raises SpecError on a bad key or type, before recording
        if check.command:
            child_argv(check, search_path(check, Path.cwd()))
    if spec.entry:
        child_argv(spec, search_path(spec, Path.cwd()))
    return trials


def trial_spec(base: Spec, overrides: dict[str, Any], seed: int) -> Spec:
    """The resolved spec of one trial; its overrides are listed so `hunch show` tells how it differs."""
    spec = copy.deepcopy(base)
    for key, value in overrides.items():
        apply_override(spec, key, value, source=f"{base.path}: sweep value {key}={value!r}")
    spec.seed = seed
    texts = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in overrides.items()]
    spec.overrides = [*base.overrides, *texts, f"seed={seed}"]
    return spec


def _prune_rule(spec: Spec, metric: str | None, goal: str | None) -> dict[str, Any] | None:
    if not spec.prune:
        return None
    rule = dict(spec.prune)
    rule["metric"] = rule.get("metric") or metric
    if not rule["metric"]:
        raise SpecError("the prune: rule needs a metric to judge trials by", where=f"{spec.path}: prune",
                        fix="set prune.metric (a metric logged with run.log) or sweep.metric")
    rule["goal"] = rule.get("goal") or (goal if rule["metric"] == metric else None) or guess_goal(rule["metric"])
    return rule


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
    from hunchlab.run import process_start_time

    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_start": process_start_time(os.getpid())}


# ----------------------------------------------------------------------------- pruning


class MedianPruner:
    """Median stopping: a trial worse at step k than the median of finished trials at k is stopped.

    A finished trial's value "at k" is its last logged value at or before step k. No
    trial is judged before step ``after`` or before ``min_trials`` finished trials reach k.
    """

    def __init__(self, rule: dict[str, Any]) -> None:
        self.metric: str = rule["metric"]
        self.goal: str = rule["goal"]
        self.after: int = rule.get("after", 0)
        self.min_trials: int = rule.get("min_trials", 3)
        self.finished: list[list[tuple[int, float]]] = []
        self._curves: dict[str, list[tuple[int, float]]] = {}
        self._offsets: dict[str, int] = {}

    def add_finished(self, curve: list[tuple[int, float]]) -> None:
        if curve:
            self.finished.append(sorted(curve))

    def observe(self, run_id: str, events_path: Path) -> None:
        """Read the run's new events (the driver's copy for Ray trials)."""
        chunk = read_events(events_path, self._offsets.get(run_id, 0))
        self._offsets[run_id] = chunk.end
        curve = self._curves.setdefault(run_id, [])
        curve.extend((e["step"], float(e["m"][self.metric])) for e in chunk.events
                     if e["t"] == "log" and e["m"].get(self.metric) is not None)

    def ended(self, run_id: str, status: str) -> None:
        curve = self._curves.pop(run_id, [])
        self._offsets.pop(run_id, None)
        if status == "finished":
            self.add_finished(curve)

    def verdict(self, run_id: str) -> str | None:
        """Why the run should be pruned now, or None."""
        curve = self._curves.get(run_id)
        if not curve:
            return None
        step, value = curve[-1]
        if step < self.after:
            return None
        others = [v for c in self.finished if (v := _value_at(c, step)) is not None]
        if len(others) < self.min_trials:
            return None
        median = statistics.median(others)
        worse = value < median if self.goal == "max" else value > median
        if not worse or math.isnan(median):
            return None
        return (f"pruned at step {step}: {self.metric} {value:.4g} is worse than the median {median:.4g} of "
                f"{len(others)} finished trials at that step (median stopping, goal {self.goal})")


def _value_at(curve: list[tuple[int, float]], step: int) -> float | None:
    value = None
    for s, v in curve:
        if s > step:
            break
        value = v
    return value


# ----------------------------------------------------------------------------- driving


@dataclass
class Job:
    """One trial to run now, with the stored sweep it belongs to."""

    sweep: dict[str, Any]
    trial: dict[str, Any]

    @property
    def key(self) -> tuple[str, int]:
        return self.sweep["id"], self.trial["trial"]

    def spec(self) -> Spec:
        return trial_spec(Spec(**self.sweep["spec"]), self.trial["overrides"], self.trial["seed"])

    def meta(self) -> dict[str, Any]:
        """What a trial's run records about its sweep (read by `hunch compare` for the tuning budget)."""
        s = self.sweep
        t = self.trial
        return {"sweep": {"id": s["id"], "kind": s["kind"], "trial": t["trial"], "config": t["config"],
                          "label": t["label"], "budget": s["budget"], "role": s["role"], "pair": s["pair_id"]},
                "code": s["code"], **({"agent": s["agent"]} if s.get("agent") else {})}


class Executor(Protocol):
    """Runs trials; ``run`` blocks in a driver thread until the trial's run has ended and is folded."""

    name: str
    slots: int
    address: str | None  # the Ray cluster it runs on, stored with the sweep for resume; None: none, or its own

    def open(self, sweeps: list[dict[str, Any]]) -> None: ...

    def run(self, job: Job, control: Control) -> RunOutcome: ...

    def close(self) -> None: ...


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
        except MachineError as e:
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
