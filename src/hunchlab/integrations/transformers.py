"""Hugging Face ``Trainer`` → hunchlab: ``Trainer(..., callbacks=[HunchCallback()])``.

Every ``logs`` dict the Trainer reports (training loss, learning rate, eval metrics,
the final runtime figures) becomes metric points at ``state.global_step``; the
training arguments and the model's config become params (``trainer.*``, ``model.*``).
Inside ``hunch run`` it logs into that run; elsewhere it starts a run when training
begins and finishes it when training ends. Only the main process logs.

``report_to`` names only integrations built into transformers, so pass
``report_to="none"`` (or keep your other loggers) and add the callback.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from hunchlab.compat.attach import add_params, current_or_start
from hunchlab.run import Run


class HunchCallback(TrainerCallback):
    """Logs a Trainer's metrics and arguments into a hunchlab run."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.run: Run | None = None
        self._owner = False

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        params: dict[str, Any] = {"trainer": _plain(args.to_sanitized_dict())}
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_diff_dict"):
            params["model"] = _plain(config.to_diff_dict())
        if self.run is None:
            self.run, self._owner = current_or_start(params, self.name or args.run_name)
        else:
            add_params(self.run, params)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if self.run is None or not state.is_world_process_zero or not logs:
            return
        numbers = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if numbers:
            self.run.log(numbers, step=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.run is not None and self._owner:
            self.run.finish()
            self.run = None


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """Only what a param can hold: numbers, text, booleans, None, and lists or dicts of them."""
    return {k: v for k, v in d.items() if isinstance(v, (int, float, str, bool, type(None), list, dict))}
