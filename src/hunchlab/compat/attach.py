"""The run a logger writes to, and what a run learns about itself while it runs.

Shared by the wandb stand-in and the Trainer and Lightning integrations: inside
``hunch run`` (or after ``hunchlab.start``) they log into that run; anywhere else they
start one of their own and end it when training ends. Params and record fields learnt
late (``wandb.config.update``, a Trainer's arguments, tags) are events the store folds
into the run's row (``params`` and ``meta``; see docs/runs.md).
"""

from __future__ import annotations

from typing import Any

import hunchlab
from hunchlab.errors import HunchError
from hunchlab.run import Run
from hunchlab.run_config import Config


def current_or_start(params: dict[str, Any], name: str | None = None) -> tuple[Run, bool]:
    """The active run (``owner=False``: someone else ends it) with ``params`` added, or a new one we own."""
    try:
        run = hunchlab.current_run()
    except HunchError:
        run = None
    if run is None or run._finished:  # none yet, or the last one started here has ended
        return hunchlab.start(config=params, name=name), True
    add_params(run, params)
    return run, False


def add_params(run: Run, params: dict[str, Any]) -> None:
    """Add to (or change) the run's params: durable at once, folded into the store's row."""
    if params:
        run._write({"t": "params", "d": params})
        run.config = Config({**run.config.to_dict(), **params})


def add_record(run: Run, fields: dict[str, Any]) -> None:
    """Add fields to the run's record (``tags``, ``notes``, where its numbers were captured from…)."""
    if fields:
        run._write({"t": "meta", "d": fields})
