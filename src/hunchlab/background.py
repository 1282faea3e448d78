"""Folding in a background process, so that a run's ``finish()`` returns at once.

Folding a big run takes seconds (its events parsed, checked and inserted), and the
first fold in a process pays ~0.2 s to import SQLAlchemy; a script that logs a
million points, or 32 workers that each log one run, would wait for that at the end.
So ``finish()`` of a run started from Python writes its end line (which is what
makes the run's outcome durable) and calls ``fold_soon``: if no folder is at work
in the project, it starts one, ``python -m hunchlab.background ROOT``, in a session
of its own. The folder folds every pending run with unfolded bytes, a chunk per
transaction, until nothing has been left to fold for ``LINGER_SECONDS``, then exits.

Nothing depends on the folder: every reader still folds whatever is pending before
it reads (``Store.sync``), so a reader that arrives first folds alongside it (the
two take turns by chunk; the stored offset keeps them from folding a line twice),
and a folder that is killed loses nothing. Only one folder runs per project: it
holds an exclusive ``flock`` on ``.hunch/folder.lock`` for as long as it runs.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

LOCK_FILE = "folder.lock"
LOG_FILE = "folder.log"
LINGER_SECONDS = 2.0  # stay this long after the last fold: a loop of runs ends one every few ms
POLL_SECONDS = 0.1


def fold_soon(hunch_dir: Path) -> None:
    """Make sure a folder is at work in the project (start one unless one holds the lock)."""
    if _lock(hunch_dir, blocking=False) is None:  # a folder holds it: it looks again before it leaves
        return
    subprocess.Popen([sys.executable, "-m", "hunchlab.background", str(hunch_dir.parent)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)


def _lock(hunch_dir: Path, *, blocking: bool, keep: bool = False) -> int | None:
    """Take the folder lock: its fd while held (with ``keep``), None when another process has it."""
    fd = os.open(hunch_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    if keep:
        return fd
    os.close(fd)  # closing releases it
    return -1


def run_folder(root: Path) -> int:
    """The folder's loop; returns the number of fold passes that found work."""
    from hunchlab.project import find_project
    from hunchlab.store import open_store

    project = find_project(root)
    fd = _lock(project.hunch_dir, blocking=False, keep=True)
    if fd is None:
        return 0
    passes = 0
    with open_store(project) as store:
        while fd is not None:
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < LINGER_SECONDS:
                if store.fold_unfolded():
                    passes += 1
                    idle_since = time.monotonic()
                else:
                    time.sleep(POLL_SECONDS)
            os.close(fd)  # leave, then look once more: a run may have ended while we decided to
            fd = _lock(project.hunch_dir, blocking=False, keep=True) if store.fold_unfolded() else None
    return passes


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    try:
        run_folder(root)
    except Exception as e:  # noqa: BLE001 - a background process has no one to tell but its log
        log = root / ".hunch" / LOG_FILE
        if log.parent.is_dir():
            with open(log, "a") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} folder stopped: {type(e).__name__}: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
