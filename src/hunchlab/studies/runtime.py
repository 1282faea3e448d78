"""What every study's entry does as it starts and runs: its settings read (and checked before any run
starts), torch at the project's thread count, and a progress line with an ETA (a study's run takes
minutes, so it says how far it is)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

Entry = TypeVar("Entry", bound=Callable[..., None])
SETTINGS_READER = "read_settings"  # the attribute settings_from() puts on an entry


def settings_from(reader: Callable[[Mapping[str, Any]], object]) -> Callable[[Entry], Entry]:
    """Mark a study's entry with the function that reads its settings from ``run.config``.

    ``hunch study run`` calls it on the spec's params (overrides applied) before any run starts,
    so a bad value (``filter=random``) is a one-line error and exit 2, not a failed run with a
    traceback from the child process.
    """

    def mark(entry: Entry) -> Entry:
        setattr(entry, SETTINGS_READER, reader)
        return entry

    return mark


def check_settings(entry: str, params: Mapping[str, Any]) -> None:
    """Read ``params`` with the settings reader of ``entry`` (``module:function``), raising its
    HunchError; an entry with no reader is left to check its params as it runs."""
    module, _, name = entry.partition(":")
    reader = getattr(getattr(importlib.import_module(module), name), SETTINGS_READER, None)
    if reader is not None:
        reader(params)


def set_threads() -> None:
    """torch at the project's thread count (1 unless set): budgets and minutes are measured at 1."""
    import torch

    torch.set_num_threads(int(os.environ.get("HUNCH_TORCH_THREADS", "1")))


class Progress:
    """A progress line with an ETA on stderr, for a study's training; the run's output shows it.

    Printed every ``EVERY`` of the way (not redrawn in place: a run's output
    is a log file as often as a terminal).
    """

    EVERY = 0.1

    def __init__(self, label: str, total: int) -> None:
        import time

        self.label, self.total, self.started, self.shown = label, max(total, 1), time.monotonic(), 0.0

    def update(self, done: int, what: str = "") -> None:
        import sys
        import time

        fraction = min(done / self.total, 1.0)
        if fraction < self.shown + self.EVERY and fraction < 1.0:
            return
        self.shown = fraction
        elapsed = time.monotonic() - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        bar = "#" * round(20 * fraction) + "." * (20 - round(20 * fraction))
        print(f"{self.label} [{bar}] {fraction:4.0%} {what} ETA {eta:.0f} s", file=sys.stderr, flush=True)
