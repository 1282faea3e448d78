"""PyTorch Lightning → hunchlab: ``Trainer(logger=HunchLogger())``.

``self.log(...)`` in a LightningModule reaches ``log_metrics`` at the trainer's global
step; ``self.save_hyperparameters()`` reaches ``log_hyperparams`` and becomes params.
Inside ``hunch run`` it logs into that run; elsewhere it starts one at the first call
and finishes it when Lightning finalizes the logger (failed if training failed).
Needs the ``lightning`` package (``lightning.pytorch``), the one Lightning ships today.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers.logger import Logger
from lightning.pytorch.utilities import rank_zero_only

from hunchlab.compat.attach import add_params, current_or_start
from hunchlab.run import Run


class HunchLogger(Logger):
    """A Lightning logger writing into a hunchlab run."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self._name = name
        self._run: Run | None = None
        self._owner = False

    @property
    def name(self) -> str:
        return self._name or "hunchlab"

    @property
    def version(self) -> str:
        return str(self.experiment.id)

    @property
    @rank_zero_experiment
    def experiment(self) -> Run:
        """The hunchlab run (``logger.experiment.example(...)`` and the rest of the Run API work on it)."""
        if self._run is None:
            self._run, self._owner = current_or_start({}, self._name)
        return self._run

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(params, argparse.Namespace):
            params = vars(params)
        values = {k: v for k, v in dict(params).items()
                  if isinstance(v, (int, float, str, bool, type(None), list, Mapping))}
        add_params(self.experiment, values)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        self.experiment.log({k: float(v) for k, v in metrics.items()}, step=step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is not None and self._owner:
            failed = status == "failed"
            self._run.finish("failed" if failed else "finished", 1 if failed else 0,
                             "Lightning training failed" if failed else None)
            self._run = None
