"""A run's folder: the names of the files in it, and whether a process can still write to it.

The run handle (``run.py``), the runner (``execute/``) and the store's fold all read and write
the same folder; this module is the one place its layout lives, below all three, so that the
store never imports the run handle to learn a file name (issue 13: the cycle project → store →
fold → run). It imports nothing of hunchlab's.

Liveness is decided from ``/proc`` and the heartbeat file. A run is alive while its runner *or*
the supervisor of its entry (``execute/child.py``) lives: a runner killed by ``kill -9`` leaves
the supervisor tearing the entry's process tree down, and lines may reach the event file until it
is gone. A run on another machine is alive while its heartbeat is younger than
``STALE_HEARTBEATS`` beats.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

META_FILE = "run.json"
HEARTBEAT_FILE = "heartbeat"
ENTRY_PID_FILE = "entry.pid"  # the supervisor's "pid start-time", written by execute/child.py
# Room kept aside in the run folder until its end is written, so that a run that fills the disk can
# still record how it ended (an end line is ~150 bytes; 64 KiB is whole blocks on any file system).
RESERVE_FILE = ".reserve"
RESERVE_BYTES = 64 << 10
HEARTBEAT_SECONDS = 10.0
# A heartbeat this many beats old means the writer on another machine is gone (one missed beat
# is a loaded machine or a slow shared file system, not a death).
STALE_HEARTBEATS = 6
ENV_RUN_DIR = "HUNCH_RUN_DIR"


def tmp_beside(path: Path) -> Path:
    """A name beside ``path`` for writing it whole before ``os.replace``: its own to this process
    *and thread*. A sweep's trials are threads of one driver, and two that wrote the same file at
    once through one ``<pid>.tmp`` name made the second rename fail, and its trial "could not run"
    (the outputs list; the wandb stand-in's shim before it)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def reserve_room(run_dir: Path) -> None:
    """Set ``RESERVE_BYTES`` aside in the run folder (given up by ``finish`` to write the run's end)."""
    fd = os.open(run_dir / RESERVE_FILE, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.posix_fallocate(fd, 0, RESERVE_BYTES)
    finally:
        os.close(fd)


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards a pid check against pid reuse), if known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(run_dir: Path, host: str | None, pid: int | None, pid_start: str | None) -> bool:
    """Whether the process that owns a running run (or drives a sweep) still exists: by pid and
    start time on this host, by the heartbeat in ``run_dir`` on another."""
    if host == socket.gethostname() and pid:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return pid_start is None or process_start_time(pid) == pid_start
    try:  # another machine: trust the heartbeat file
        age = time.time() - (run_dir / HEARTBEAT_FILE).stat().st_mtime
    except FileNotFoundError:
        return True
    return age < STALE_HEARTBEATS * HEARTBEAT_SECONDS


def entry_alive(run_dir: Path, host: str | None) -> bool:
    """Whether the supervisor of the run's entry still runs on this host (elsewhere it cannot be
    checked: the caller relies on ``process_alive``).

    A zombie is dead: a supervisor whose runner was killed is re-parented to init, which in a
    container may take a second or more to reap it.
    """
    if host != socket.gethostname():
        return False
    try:
        pid, start = (run_dir / ENTRY_PID_FILE).read_text().split()
        fields = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return False
    return fields[0] != "Z" and fields[19] == start
