"""A drop-in for ``import wandb`` that logs into a hunchlab run.

Use it directly (``import hunchlab.compat.wandb as wandb``), or let ``hunch run`` put
it first on the path so an unmodified script's ``import wandb`` gets it (spec
``capture: [wandb]``; on by default when the script imports wandb). Nothing is sent
anywhere: the real wandb is not imported (``capture: {wandb: tee}`` also forwards
every call to it, see ``hunchlab.compat.wandb_tee``).

What maps to what:

- ``wandb.init(config=...)`` and ``wandb.config.update(...)`` → the run's params;
  ``tags``, ``notes``, ``project``, ``group``, ``job_type`` → the run's record.
  Inside ``hunch run`` the run is the one the runner made; elsewhere ``init`` starts one.
- ``wandb.log(data, step=, commit=)`` → metric points, with W&B's step rules: without
  ``step`` each call commits a row at the current step and the step counts up;
  ``commit=False`` keeps adding to the row; an explicit ``step`` above the current one
  commits the pending row first, and one below it is dropped with a warning (as W&B does).
  Nested dicts are flattened with ``.``; a ``wandb.Table`` becomes per-example records.
- ``wandb.summary[...]`` → the run's summary.
- Anything else W&B offers (``watch``, ``Image``, ``log_artifact``, …) warns once and
  does nothing, so a script runs to its end.

Durability is hunchlab's: a committed row is one ``write()`` to the run's event file
before ``log`` returns. A row held back by ``commit=False`` lives in memory until it is
committed, as in W&B. Throughput (bench/README.md, case (j)): 286,060 points/s on the
2-core bench machine with every core busy, against W&B offline's 12,177; the issue's floor
is 200,000.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from hunchlab.compat.attach import add_params, add_record, current_or_start
from hunchlab.compat.wandb_values import Table, flatten_row, table_examples
from hunchlab.errors import BadInput, WrongState
from hunchlab.run import Run
from hunchlab.rundir import ENV_RUN_DIR

__all__ = ["Settings", "Table", "config", "finish", "init", "log", "login", "run", "summary"]


class HunchCompatWarning(UserWarning):
    """A W&B call that hunchlab accepts but does not carry out."""


_warned: set[str] = set()


def warn_once(what: str) -> None:
    """One warning per unsupported feature per process: enough to notice, not enough to flood a log."""
    if what not in _warned:
        _warned.add(what)
        warnings.warn(f"hunchlab's wandb stand-in: {what} is not supported; ignored", HunchCompatWarning, stacklevel=3)


def _as_dict(value: Any) -> dict[str, Any]:
    """W&B takes a dict, an argparse Namespace or a dataclass as config."""
    if value is None:
        return {}
    if isinstance(value, argparse.Namespace):
        return dict(vars(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise BadInput(f"wandb config must be a dict, a Namespace or a dataclass, got {type(value).__name__}",
                   fix="pass config={...} to wandb.init or wandb.config.update")


class ConfigBase:
    """What W&B's config does on assignment (``c.x = 1``, ``c["x"] = 1``): an ``update``."""

    def update(self, values: Any = None, allow_val_change: bool = False) -> None:
        raise NotImplementedError

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})


class WandbConfig(ConfigBase):
    """``wandb.config``: attribute and item access; every change is written to the run's params."""

    def __init__(self, run: Run, initial: dict[str, Any]) -> None:
        object.__setattr__(self, "_run", run)
        object.__setattr__(self, "_data", dict(initial))

    def update(self, values: Any = None, allow_val_change: bool = False) -> None:
        new = _as_dict(values)
        self._data.update(new)
        add_params(self._run, new)

    def setdefaults(self, values: Any) -> None:
        self.update({k: v for k, v in _as_dict(values).items() if k not in self._data})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def keys(self) -> Any:
        return self._data.keys()

    def items(self) -> Any:
        return self._data.items()

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)


class WandbRun:
    """What ``wandb.init`` returns: log, config, summary, finish, and the W&B step rules."""

    def __init__(self, run: Run, *, owner: bool, config: dict[str, Any], info: dict[str, Any]) -> None:
        self._run = run
        self._owner = owner
        self.config = WandbConfig(run, config)
        self.summary = run.summary  # every assignment is written to the run at once
        self.id = run.id
        self.name = info.get("name") or run.name or run.id
        self.project = info.get("project")
        self.group = info.get("group")
        self.job_type = info.get("job_type")
        self.tags = tuple(info.get("tags") or ())
        self.notes = info.get("notes")
        self.dir = str(run.dir)
        self.url: str | None = None
        self.step = 0
        self._row: dict[str, float] = {}
        self._tables: list[tuple[str, Any]] = []
        self._finished = False

    # W&B: wandb.log(data, step=None, commit=None); commit defaults to True without a step.
    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None,
            sync: bool | None = None) -> None:
        if step is None and commit is not False and not self._row and not self._tables:
            try:  # the common call, a row of numbers committed at once: straight to the run, converted once
                self._run.log(data, step=self.step)
            except BadInput:
                pass  # something in it is not a number: sorted out below
            else:
                self.step += 1
                return
        if step is not None:
            step = int(step)  # a numpy or tensor step is written as a plain integer
            if step < self.step:
                warn_once(f"logging to step {step} after step {self.step} (W&B drops such rows)")
                return
            if step > self.step:
                self._commit()
                self.step = step
        elif commit is None:
            commit = True
        try:  # the common case: every value is a number
            self._row.update({k: float(v) for k, v in data.items()})
        except (TypeError, ValueError):
            numbers, tables, skipped = flatten_row(data)
            self._row.update(numbers)
            self._tables.extend(tables)
            for what in skipped:
                warn_once(what)
        if commit:
            self._commit()

    def _commit(self) -> None:
        """Write the pending row at the current step and move one step on."""
        if not self._row and not self._tables:
            return
        if self._row:
            self._run.log(self._row, step=self.step)
            self._row = {}
        for key, table in self._tables:
            for example in table_examples(key, table):
                self._run.example(**example)
        self._tables = []
        self.step += 1

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Commit what is pending; end the hunchlab run only if ``init`` started it."""
        if self._finished:
            return
        self._finished = True
        self._commit()
        if self._owner:
            failed = bool(exit_code)
            self._run.finish("failed" if failed else "finished", exit_code or 0,
                             f"wandb.finish(exit_code={exit_code})" if failed else None)
        _set_active(None)

    def __enter__(self) -> WandbRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish(1 if exc is not None else None)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _unsupported(f"run.{name}")


class _Unsupported:
    """Stands for any W&B object hunchlab does not keep (an Image, an Artifact…): every call is a no-op."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __call__(self, *args: Any, **kwargs: Any) -> _Unsupported:
        warn_once(self._what)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self


def _unsupported(what: str) -> _Unsupported:
    return _Unsupported(what)


class Settings:
    """``wandb.Settings(...)``: accepted and kept, nothing in it changes what hunchlab does."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


class _Proxy:
    """``wandb.config`` / ``wandb.summary`` at module level: the active run's, or a clear error before init."""

    def __init__(self, attr: str) -> None:
        object.__setattr__(self, "_attr", attr)

    def _target(self) -> Any:
        if run is None:
            raise WrongState(f"wandb.{self._attr} used before wandb.init()", fix="call wandb.init(...) first")
        return getattr(run, self._attr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target(), name, value)

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._target()[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())


run: WandbRun | None = None
config: Any = _Proxy("config")
summary: Any = _Proxy("summary")


def _set_active(active: WandbRun | None) -> None:
    global run
    run = active


def init(project: str | None = None, entity: str | None = None, config: Any = None, name: str | None = None,
         notes: str | None = None, tags: Any = None, group: str | None = None, job_type: str | None = None,
         **kwargs: Any) -> WandbRun:
    """Start logging: inside ``hunch run`` into its run, elsewhere into a new run of this project."""
    params = _as_dict(config)
    info = {"project": project, "entity": entity, "name": name, "group": group, "job_type": job_type}
    if run is not None:
        if os.environ.get(ENV_RUN_DIR):
            run.config.update(params)
            return run
        run.finish()
    target, owner = current_or_start(params, name)
    record: dict[str, Any] = {"wandb": {k: v for k, v in info.items() if v}}
    if tags:
        record["tags"] = list(tags)
    if notes:
        record["notes"] = notes
    add_record(target, record)
    active = WandbRun(target, owner=owner, config=params, info={**info, "tags": tags, "notes": notes})
    _set_active(active)
    # W&B finishes an open run at exit, keeping a row still pending; registered after the
    # run's own exit hook (hunchlab.start), so it runs first, while the run is still open.
    atexit.register(active.finish)
    return active


def log(data: Mapping[str, Any], step: int | None = None, commit: bool | None = None, sync: bool | None = None) -> None:
    """``wandb.log``: see ``WandbRun.log``."""
    if run is None:
        raise WrongState("wandb.log() called before wandb.init()", fix="call wandb.init(...) first")
    run.log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """``wandb.finish``: commit the pending row; end the run if ``init`` started it."""
    if run is not None:
        run.finish(exit_code)


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to: hunchlab is local."""
    return True


# Names of the W&B API that are accepted and ignored (each warns once when used).
UNSUPPORTED = {
    "watch", "unwatch", "save", "restore", "alert", "log_artifact", "use_artifact", "log_model", "use_model",
    "link_model", "define_metric", "mark_preempting", "agent", "sweep", "controller", "require", "setup",
    "teardown", "Image", "Histogram", "Audio", "Video", "Html", "Object3D", "Molecule", "Artifact", "plot",
    "Api", "termlog", "termwarn", "termerror", "log_code", "Graph", "box3d", "Plotly",
}


def __getattr__(name: str) -> Any:
    if name in UNSUPPORTED:
        return _unsupported(f"wandb.{name}")
    raise AttributeError(f"module 'wandb' (hunchlab's stand-in) has no attribute {name!r}")
