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
import sys
import time
from pathlib import Path

from hunchlab.project import find_project

LOCK_FILE = "folder.lock"
LOG_FILE = "folder.log"
LINGER_SECONDS = 2.0  # stay this long after the last fold: a loop of runs ends one every few ms
POLL_SECONDS = 0.1


def fold_soon(hunch_dir: Path) -> None:
    """Make sure a folder is at work in the project: start one unless one holds the lock.

    The lock is taken here and handed to the folder (an inherited descriptor shares the
    lock), so a folder still starting up already holds it: without that, every run that
    ended during a folder's first ~0.3 s started another (153 folders for 1,000 runs).
    """
    fd = _lock(hunch_dir)
    if fd is None:  # a folder holds it, and looks again before it leaves
        return
    import subprocess  # lazy: ~5 ms that `import hunchlab` need not pay

    try:
        subprocess.Popen([sys.executable, "-m", "hunchlab.background", str(hunch_dir.parent), str(fd)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, pass_fds=(fd,),
                         env={**os.environ, "HUNCH_DIR": str(hunch_dir.parent)})  # this project, whatever is set
    finally:
        os.close(fd)  # the folder's copy keeps the lock


def _lock(hunch_dir: Path) -> int | None:
    """The folder lock's descriptor, held; None when another process holds it."""
    fd = os.open(hunch_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def run_folder(root: Path, fd: int | None) -> int:
    """The folder's loop (holding the lock as ``fd``); returns the number of passes that folded."""
    # lazy: loads hashlib, hunchlab.claims, hunchlab.downsample and more only when called
    from hunchlab.store import open_store

    project = find_project(root)
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
            fd = _lock(project.hunch_dir) if store.fold_unfolded() else None
    return passes


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    try:
        run_folder(root, int(argv[1]))
    except Exception as e:  # noqa: BLE001 - a background process has no one to tell but its log
        log = root / ".hunch" / LOG_FILE
        if log.parent.is_dir():
            with open(log, "a") as f:
                f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} folder stopped: {type(e).__name__}: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
