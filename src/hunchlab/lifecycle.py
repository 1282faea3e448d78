"""What a process does for all the runs it owns: one heartbeat thread, one exit hook.

A script may start thousands of runs. A thread per run (to touch its heartbeat) cost
~0.5 ms to start each time, and chaining ``sys.excepthook`` and ``atexit`` once per
run made a process that had started 10,000 runs finish them through a 10,000-deep
chain of hooks at exit. Here both are installed once per process and act on the
runs still open.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Finish = Callable[..., None]


class _Heartbeats:
    """Touches the heartbeat file of every open run every ``seconds``, from one daemon thread."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.seconds = 10.0

    def add(self, path: Path, seconds: float) -> None:
        path.touch()
        with self.lock:
            self.paths.add(path)
            self.seconds = seconds
            if self.thread is None:
                self.thread = threading.Thread(target=self._beat, name="hunch-heartbeat", daemon=True)
                self.thread.start()

    def remove(self, path: Path) -> None:
        with self.lock:
            self.paths.discard(path)

    def _beat(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.seconds):
            with self.lock:
                paths = list(self.paths)
            for path in paths:
                try:
                    os.utime(path)
                except OSError:
                    self.remove(path)


heartbeats = _Heartbeats()

_open: dict[int, Finish] = {}  # id(run) -> its finish, for the runs this process owns and has not finished
_hooked = False


def finish_at_exit(key: int, finish: Finish) -> None:
    """Finish the run at interpreter exit (as finished) or on an uncaught exception (as failed)."""
    global _hooked
    _open[key] = finish
    if not _hooked:
        _hooked = True
        atexit.register(_finish_all)
        previous = sys.excepthook

        def hook(exc_type: Any, exc: BaseException, tb: Any) -> None:
            _finish_all("failed", 1, f"{exc_type.__name__}: {exc}")
            previous(exc_type, exc, tb)

        sys.excepthook = hook


def forget(key: int) -> None:
    """The run has finished by itself."""
    _open.pop(key, None)


def _finish_all(*args: Any) -> None:
    for finish in list(_open.values()):
        finish(*args)
