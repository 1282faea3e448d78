"""Choosing what ``import wandb`` means inside a run, and the tee to the real wandb.

``HUNCH_CAPTURE_WANDB`` (set by the runner from the spec's ``capture:``) says which:
``on`` gives hunchlab's stand-in; ``tee`` imports the real wandb and patches it so that
every ``init``/``log``/``config``/``summary``/``finish`` also goes to hunchlab, for
people who keep syncing to W&B. The real run is the one the script talks to; hunchlab
gets a copy of each call.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hunchlab.compat import wandb as ours
from hunchlab.compat.wandb import ConfigBase

ENV_MODE = "HUNCH_CAPTURE_WANDB"


def activate(shim_file: str) -> None:
    """Replace the shim in ``sys.modules['wandb']`` with the stand-in or the patched real wandb."""
    if os.environ.get(ENV_MODE) == "tee":
        shim_root = Path(shim_file).resolve().parent.parent
        sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != shim_root]
        del sys.modules["wandb"]
        real = importlib.import_module("wandb")
        install_tee(real)
        sys.modules["wandb"] = real
    else:
        sys.modules["wandb"] = importlib.import_module("hunchlab.compat.wandb")


def install_tee(real: Any) -> None:
    """Wrap the real module's ``init`` so each run it starts is mirrored into hunchlab."""
    real_init = real.init

    def init(*args: Any, **kwargs: Any) -> Any:
        real_run = real_init(*args, **kwargs)
        ours_kwargs = {k: kwargs.get(k) for k in ("project", "entity", "name", "notes", "tags", "group", "job_type")}
        mirror = ours.init(config=kwargs.get("config"), **ours_kwargs)
        tee = TeeRun(real_run, mirror)
        real.run, real.log, real.finish = tee, tee.log, tee.finish
        real.config, real.summary = tee.config, tee.summary
        return tee

    real.init = init


class TeeRun:
    """The real W&B run, with log/config/summary/finish copied to hunchlab; everything else is W&B's."""

    def __init__(self, real_run: Any, mirror: Any) -> None:
        self._real = real_run
        self._mirror = mirror
        self.config = _TeeConfig(real_run.config, mirror.config)
        self.summary = _TeeSummary(real_run.summary, mirror.summary)

    def log(self, data: Mapping[str, Any], step: int | None = None, commit: bool | None = None,
            sync: bool | None = None) -> None:
        self._real.log(data, step=step, commit=commit)
        self._mirror.log(data, step=step, commit=commit)

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        self._real.finish(exit_code=exit_code)
        self._mirror.finish(exit_code)

    def __enter__(self) -> TeeRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish(1 if exc is not None else None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _TeeConfig(ConfigBase):
    def __init__(self, real: Any, mirror: Any) -> None:
        object.__setattr__(self, "_real", real)
        object.__setattr__(self, "_mirror", mirror)

    def update(self, values: Any = None, allow_val_change: bool = False) -> None:
        self._real.update(values, allow_val_change=allow_val_change)
        self._mirror.update(values)

    def __getitem__(self, key: str) -> Any:
        return self._real[key]

    def __getattr__(self, key: str) -> Any:
        return getattr(self._real, key)


class _TeeSummary:
    def __init__(self, real: Any, mirror: Any) -> None:
        self._real = real
        self._mirror = mirror

    def __setitem__(self, key: str, value: Any) -> None:
        self._real[key] = value
        self._mirror[key] = value

    def update(self, values: Mapping[str, Any]) -> None:
        self._real.update(values)
        self._mirror.update(values)

    def __getitem__(self, key: str) -> Any:
        return self._real[key]

    def __getattr__(self, key: str) -> Any:
        return getattr(self._real, key)
