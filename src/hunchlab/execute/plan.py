"""Planning a sweep or an ablation: a search space (grid, random draws, ablations, a baseline
arm of the same budget) expanded into trials, each one config at one seed.

Pure: nothing here runs, records or reads the store, so a plan can be shown (``--dry-run``),
stored and resumed exactly (``execute/sweep.py`` records and drives it).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.errors import BadInput, SpecError
from hunchlab.execute.local import child_argv, search_path
from hunchlab.overrides import parse_override
from hunchlab.run_records import flatten
from hunchlab.spec import Spec, apply_override, axis_values, load_spec

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
            raise BadInput(f"--budget {budget} is not a multiple of --seeds {seeds}",
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
        raise BadInput(f"{flag} must be at least 1, got {n}", fix=f"e.g. {flag} {'3' if flag == '--seeds' else '12'}")


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
    trials: list[Trial] = []
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
