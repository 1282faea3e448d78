"""The process an entry runs in, started by ``hunch run`` (``python -m hunchlab.execute.child``).

It dies with its parent (``PR_SET_PDEATHSIG``), so a runner killed with ``kill -9``
leaves no orphan still writing into a run that readers have marked crashed.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import shutil
import signal
import sys


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: an orphan is possible, nothing else changes


def shell_argv(command: str) -> tuple[str, list[str]]:
    """bash with ``pipefail`` where there is one (a failing command in a pipeline fails the run), else sh."""
    bash = shutil.which("bash")
    if bash:
        return bash, [bash, "-o", "pipefail", "-c", command]
    return "/bin/sh", ["/bin/sh", "-c", command]


def main() -> int:
    _die_with_parent()
    if os.getppid() == 1:
        return 1  # the parent died before prctl took effect
    mode, target = sys.argv[1], sys.argv[2]
    if mode == "--shell":
        os.execv(*shell_argv(target))
    module_name, func_name = target.split(":")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    func = getattr(module, func_name)
    import hunchlab

    run = hunchlab.current_run()
    hunchlab.seed_everything(run.seed)
    func(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
