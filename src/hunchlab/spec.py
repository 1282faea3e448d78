"""Experiment specs: load, validate, override, resolve.

A spec is a YAML file; every error names the file, the line, the key, what was
expected and what to do. Command-line overrides ``a.b=value`` address ``params``
(``seed=N`` sets the seed), are read as YAML scalars, and must name a key that
exists unless written ``+a.b=value`` (as in Hydra), so a typo cannot silently
start a run with the default. The resolved spec is what a run stores and what
``hunch rerun`` uses.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hunchlab.claims import parse_claim
from hunchlab.errors import SpecError, did_you_mean
from hunchlab.overrides import Loader as _Loader
from hunchlab.overrides import parse_override

ENTRY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")



# A random sweep's ranges: {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {choice: [a, b, ...]}.
RANGES = ("uniform", "log_uniform", "choice")


class SweepModel(BaseModel):
    """The ``sweep:`` block: the search space over params and how trials are ranked (docs/sweeps.md)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random"] | None = None  # default: random when n or a range is given
    n: int | None = Field(default=None, ge=1)  # configs drawn by a random sweep
    seed: int = 0  # seeds the random draw, so the same spec draws the same configs
    seeds: int = Field(default=1, ge=1)  # runs per config, with seeds spec.seed, spec.seed+1, ...
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    params: dict[str, Any] = {}  # key: values (grid) or a range (random); command-line axes add to it


class PruneModel(BaseModel):
    """The ``prune:`` rule: stop a trial early when it is worse than the median of finished trials."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["median"] = "median"
    metric: str | None = None  # a metric logged with run.log; default: the sweep's metric
    goal: Literal["max", "min"] | None = None
    after: int = Field(default=0, ge=0)  # no trial is judged before this step
    min_trials: int = Field(default=3, ge=1)  # finished trials needed before the median means anything


class MetricModel(BaseModel):
    """A ``metrics:`` entry: what hunchlab should know about one metric (docs/specs.md)."""

    model_config = ConfigDict(extra="forbid")

    range: tuple[float, float] | None = None  # the values it can take: intervals are cut to it
    goal: Literal["max", "min"] | None = None  # which way is better; drives "better" in compare and sweeps

    @field_validator("range")
    @classmethod
    def _ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(v)}")
        return v


class SpecModel(BaseModel):
    """The keys a spec may have."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    entry: str | None = None
    command: str | None = None
    params: dict[str, Any] = {}
    seed: int = 0
    question: str | None = None
    predict: list[str] = []
    smoke: dict[str, Any] = {}
    sweep: SweepModel | None = None
    prune: PruneModel | None = None
    ablate: dict[str, dict[str, Any]] = {}
    baseline: str | None = None  # the baseline's spec file, relative to this one
    # Bringing unmodified code (docs/bring-your-code.md; checked in hunchlab.execute.capture_spec):
    metrics_from: bool | str | list[str] | None = None  # stdout scalars: false, or regexes / keys
    capture: list[str] | dict[str, str] | bool | None = None  # [wandb], {wandb: tee}, or false
    tensorboard_dir: str | None = None  # where the entry's TensorBoard files are (default: found)
    log_dir: str | None = None  # where the entry's inspect_ai eval logs go (default: the run's folder)
    outputs: list[str] = []  # globs of files the run writes that are kept as artifacts
    metrics: dict[str, MetricModel] = {}

    @field_validator("entry")
    @classmethod
    def _entry_shape(cls, v: str | None) -> str | None:
        if v is not None and not ENTRY.match(v):
            raise ValueError("entry must be 'module:function', e.g. 'train:main'")
        return v

    @field_validator("predict", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_entry(self) -> SpecModel:
        if (self.entry is None) == (self.command is None):
            raise ValueError("give exactly one of 'entry' (a Python module:function) or 'command' (a shell command)")
        return self


@dataclass
class Spec:
    """A resolved spec: the spec file after smoke and command-line overrides."""

    name: str
    params: dict[str, Any]
    seed: int = 0
    entry: str | None = None
    command: str | None = None
    question: str | None = None
    predict: list[str] = field(default_factory=list)
    description: str | None = None
    path: str | None = None
    smoke: bool = False
    overrides: list[str] = field(default_factory=list)
    # What the spec asks of `hunch sweep` / `hunch ablate` (validated plain data, not stored with runs).
    sweep: dict[str, Any] | None = None
    prune: dict[str, Any] | None = None
    ablate: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline: str | None = None
    metrics_from: bool | str | list[str] | None = None
    capture: list[str] | dict[str, str] | bool | None = None
    tensorboard_dir: str | None = None
    log_dir: str | None = None
    outputs: list[str] = field(default_factory=list)
    # Declared ranges and goals ({"acc": {"range": [0, 1], "goal": "max"}}), stored with the run.
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        """The spec as stored with a run (params and seed are stored beside it)."""
        d = asdict(self)
        for key in ("params", "seed", "sweep", "prune", "ablate", "baseline"):
            d.pop(key)
        return d


def load_spec(path: str | Path, overrides: list[str] = (), *, smoke: bool = False) -> Spec:  # type: ignore[assignment]
    """Read, validate and resolve a spec file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SpecError(f"spec file {path} does not exist", fix="check the path (spec files are YAML, e.g. exp.yaml)") from None
    except OSError as e:
        raise SpecError(f"cannot read spec file {path}: {e.strerror}") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SpecError(f"not valid YAML: {getattr(e, 'problem', e)}", where=where, fix="fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise SpecError("a spec must be a mapping with at least 'entry' or 'command'", where=str(path),
                        fix="start from the example in `hunch run --help`")
    lines = _key_lines(node)
    try:
        model = SpecModel.model_validate(data)
    except ValidationError as e:
        raise _spec_error(e, path, lines) from None

    for i, text in enumerate(model.predict):
        parse_claim(text, source=f"{path}:{lines.get(('predict', i)) or lines.get(('predict',), '?')}: predict")
    spec = Spec(name=model.name or path.stem, params=model.params, seed=model.seed, entry=model.entry,
                command=model.command, question=model.question, predict=model.predict,
                description=model.description, path=str(path), smoke=smoke,
                sweep=model.sweep.model_dump() if model.sweep else None,
                prune=model.prune.model_dump() if model.prune else None, ablate=model.ablate,
                baseline=model.baseline, metrics_from=model.metrics_from, capture=model.capture,
                tensorboard_dir=model.tensorboard_dir, log_dir=model.log_dir, outputs=model.outputs,
                metrics={k: {f: (list(v) if isinstance(v, tuple) else v) for f, v in m.model_dump().items()
                             if v is not None} for k, m in model.metrics.items()})
    _check_search(spec, path, lines)
    if smoke:
        if not model.smoke:
            raise SpecError("--smoke asked for, but the spec has no 'smoke:' overrides", where=str(path),
                            fix="add e.g. `smoke: {steps: 10}` to the spec")
        for key, value in _flatten(model.smoke).items():
            apply_override(spec, key, value, source=f"{path}:{lines.get(('smoke', *key.split('.')), '?')}: smoke")
    for text_override in overrides:
        key, value = parse_override(text_override)
        apply_override(spec, key, value, source=f"override '{text_override}'")
        spec.overrides.append(text_override)
    return spec


def _spec_error(e: ValidationError, path: Path, lines: dict[tuple[Any, ...], int]) -> SpecError:
    err = e.errors()[0]
    loc = tuple(err["loc"])
    line = lines.get(loc) or lines.get(loc[:1]) or 1
    key = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        return SpecError(f"unknown key '{key}'{did_you_mean(str(loc[-1]), SpecModel.model_fields)}",
                         where=f"{path}:{line}",
                         fix=f"allowed keys: {', '.join(SpecModel.model_fields)}")
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    got_text = "" if isinstance(got, dict) or err["type"] == "value_error" else f" (got {got!r:.40})"
    return SpecError(f"key '{key}': {msg}{got_text}", where=f"{path}:{line}",
                     fix="see the spec reference in docs/specs.md")


def _check_search(spec: Spec, path: Path, lines: dict[tuple[Any, ...], int]) -> None:
    """Sweep and ablation keys are overrides: they must name existing params, with values of their type."""
    scratch = copy.deepcopy(spec)
    sweep = spec.sweep or {}
    for key, axis in sweep.get("params", {}).items():
        where = f"{path}:{lines.get(('sweep', 'params', key), '?')}: sweep.params.{key}"
        for value in axis_values(axis, where, grid=sweep.get("method") == "grid"):
            apply_override(scratch, key, value, source=where)
    for name, overrides in spec.ablate.items():
        where = f"{path}:{lines.get(('ablate', name), '?')}: ablate.{name}"
        if not overrides:
            raise SpecError(f"ablation '{name}' switches nothing off", where=where,
                            fix="give the overrides that switch the component off, e.g. no_aux: {aux_weight: 0}")
        for key, value in _flatten(overrides).items():
            apply_override(scratch, key, value, source=where)


def axis_values(axis: Any, where: str, *, grid: bool = False) -> list[Any]:
    """The values a sweep axis names (a range gives its bounds); raises SpecError on a bad or empty axis."""
    shapes = "a list of values, {uniform: [lo, hi]}, {log_uniform: [lo, hi]} or {choice: [a, b]}"
    if isinstance(axis, list):
        if not axis:
            raise SpecError("empty list of values: nothing to sweep", where=where, fix="give at least one value")
        return axis
    if not (isinstance(axis, dict) and len(axis) == 1 and next(iter(axis)) in RANGES):
        raise SpecError(f"a sweep axis must be {shapes}, got {axis!r:.60}", where=where,
                        fix="for a nested param use a dotted key, e.g. model.width: [16, 32]")
    kind, values = next(iter(axis.items()))
    if kind == "choice":
        return axis_values(values, where)
    if grid:
        raise SpecError(f"a grid cannot enumerate a {kind} range", where=where,
                        fix="list the values, or set method: random with n: N")
    numbers = isinstance(values, list) and len(values) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if not numbers or not values[0] < values[1] or (kind == "log_uniform" and values[0] <= 0):
        low = "0 < lo < hi" if kind == "log_uniform" else "lo < hi"
        raise SpecError(f"{kind} needs two numbers [lo, hi] with {low}, got {values!r:.40}", where=where,
                        fix=f"e.g. {{{kind}: [0.0001, 0.1]}}")
    bounds: list[Any] = values  # a list: `numbers` checked it
    return bounds


def _key_lines(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Line number (1-based) of every key path in a YAML document."""
    out: dict[tuple[Any, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = (*path, k.value)
            out[sub] = k.start_mark.line + 1
            out.update(_key_lines(v, sub))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out[(*path, i)] = v.start_mark.line + 1
            out.update(_key_lines(v, (*path, i)))
    return out


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def apply_override(spec: Spec, key: str, value: Any, *, source: str) -> None:
    """Set a param (or the seed) in place; the key must exist unless it starts with '+'."""
    if key == "seed":
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpecError(f"seed must be an integer, got {value!r}", where=source)
        spec.seed = value
        return
    add = key.startswith("+")
    parts = key.lstrip("+").split(".")
    node = spec.params
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None and add:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise _no_param(spec, ".".join(parts[: i + 1]), key, source)
        node = child
    last = parts[-1]
    if last not in node:
        if not add:
            raise _no_param(spec, ".".join(parts), key, source)
    else:
        value = _typed(node[last], value, key, source)
    node[last] = value


def _typed(old: Any, new: Any, key: str, source: str) -> Any:
    """``new`` as the param's type: a float param takes an integer as that float; anything else must match.

    ``lr=2`` where the spec says ``lr: 2.0`` is the float 2.0, so the run sees the type
    its spec declares and the run groups with those started from the spec
    (``hunchlab.identity``). An integer param refuses a float, even a whole one:
    ``steps=1e3`` reads as the float 1000.0 (YAML), and ``range(run.config.steps)`` would
    then fail inside the run, after its prediction and setup: so it is refused here,
    with the integer to write instead.
    """
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        return type(v).__name__

    if isinstance(old, int) and not isinstance(old, bool) and isinstance(new, float):
        name = key.lstrip("+")
        hint = f"write {name}={int(new)}" if new.is_integer() else f"give {name} a whole number"
        raise SpecError(f"'{name}' expects an integer (the spec has {old!r}), got {new!r}", where=source,
                        fix=f"{hint}; a number written with an exponent or a point (1e3, 1000.0) is a float")
    if isinstance(old, float) and kind(new) == "number":
        return float(new)
    if old is None or new is None or kind(old) == kind(new):
        return new
    raise SpecError(f"'{key}' expects a {kind(old)} (the spec has {old!r}), got {new!r}", where=source,
                    fix=f"use a {kind(old)}, or +{key.lstrip('+')}=... is not for changing types")


def _no_param(spec: Spec, missing: str, key: str, source: str) -> SpecError:
    known = list(_flatten(spec.params))
    return SpecError(
        f"no param '{missing}' in {spec.path}{did_you_mean(missing, known)}",
        where=source,
        fix=f"to add a new param write +{key.lstrip('+')}=…; params: {', '.join(known) or 'none'}",
    )
