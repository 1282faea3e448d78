"""Log lines as columns, and a long backlog of them decoded on a second core while the fold inserts.

The first read of a run killed after logging millions of points folds its whole event
file, and decoding and checking the lines is most of that fold (2M points: 0.5 of 0.9 s
of CPU; inserting and committing the rest). A reader's fold of a backlog of at least
``AHEAD_MIN_BYTES`` therefore forks a process that reads the chunks after the first
one and sends each chunk of plain log lines back as packed columns, which are cheap to
send (the decoded lines cost as much to send as to decode): the fold inserts chunk k
while chunk k+1 is decoded. A chunk that is anything else (examples, a summary, the end,
a bad line, a null time or value, lines logging different metrics) is left for the fold
to read itself, exactly as without a read-ahead, and so is everything after any surprise
(the process died, a chunk began elsewhere than asked): the read-ahead only ever saves work.

Forking is done only where it is safe and pays: on Linux, with no other thread in this
process (the dashboard's and the MCP server's reads never fork), with a second CPU.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import signal
import struct
import sys
import threading
from array import array
from itertools import count, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from hunchlab.events import Chunk, Series, read_events

AHEAD_MIN_BYTES = 8 << 20  # ~550,000 points of 10 metrics a line; below it a fork (~5 ms) is a bigger share
# The fold reads every 4th chunk itself: inserting a chunk decoded ahead costs it ~11 ms a MiB, decoding
# and sending one the process ahead ~17 ms, decoding and inserting one itself ~24 ms (2M points).
LEFT_EVERY = 4
PIPE_BYTES = 1 << 20  # Linux's most for a process without privileges (/proc/sys/fs/pipe-max-size)
_HEADER = struct.Struct("<Q")

_STEP, _M = itemgetter("step"), itemgetter("m")


def series(logs: list[dict[str, Any]]) -> Series:
    """Log lines turned into one column of steps, values and times per metric.

    Lines of a chunk nearly always log the same metrics; then each column is one pass in C
    (``map``), 0.14 s for 200,000 lines of 10 metrics where a list comprehension a column took
    0.20 s (bench/README.md (n)), and every metric shares one list of steps and one of times.
    """
    steps = list(map(_STEP, logs))
    times = list(map(dict.get, logs, repeat("time")))
    metrics = list(map(_M, logs))
    names = metrics[0].keys()
    if all(map(names.__eq__, map(dict.keys, metrics))):
        return {k: (steps, list(map(itemgetter(k), metrics)), times) for k in names}
    out: Series = {}
    for step, when, m in zip(steps, times, metrics, strict=True):
        for k, v in m.items():
            s = out.get(k)
            if s is None:
                s = out[k] = ([], [], [])
            s[0].append(step)
            s[1].append(v)
            s[2].append(when)
    return out


class ChunkReader:
    """The chunks of one run's event file for one fold (``fold.sync_run``, once per transaction)."""

    def __init__(self, ahead: bool) -> None:
        self._may_fork = ahead and _can_fork()
        self._pid = 0
        self._fd = -1

    def read(self, path: Path, offset: int, size: int) -> Chunk:
        """The chunk at ``offset``: from the process ahead when it has it, else read here."""
        if self._fd >= 0:
            message = self._next()
            if message is not None and message[:2] == (offset, size):
                _, _, end, eof, columns = message
                if columns is None:  # a chunk it left to this process
                    return read_events(path, offset, size)
                names, steps, times, values = columns
                steps_list, times_list = array("q", steps).tolist(), array("d", times).tolist()
                return Chunk(end=end, eof=eof, logs_only=True, columns={
                    name: (steps_list, array("d", v).tolist(), times_list) for name, v in zip(names, values, strict=True)})
            self.close()  # anything unexpected: read on here, as without a read-ahead
        chunk = read_events(path, offset, size)
        if self._may_fork and not chunk.eof and _size(path) - chunk.end >= AHEAD_MIN_BYTES:
            self._may_fork = False
            self._fork(path, chunk.end, size)
        return chunk

    def _next(self) -> tuple[Any, ...] | None:
        """The next message of the process ahead; None once it has ended."""
        head = _read_exactly(self._fd, _HEADER.size)
        message = None if head is None else _read_exactly(self._fd, _HEADER.unpack(head)[0])
        return None if message is None else pickle.loads(message)

    def _fork(self, path: Path, offset: int, size: int) -> None:
        r, w = os.pipe()
        try:  # room for a chunk or two, so the process ahead goes on while the fold inserts
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass
        pid = os.fork()
        if pid == 0:  # the process ahead: decode, send, and leave without running anything of the parent's
            code = 0
            try:
                os.close(r)
                _decode_ahead(path, offset, size, w)
            except BaseException:  # noqa: BLE001 - the parent reads on by itself whatever happened here
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        self._pid, self._fd = pid, r

    def close(self) -> None:
        """Stop the process ahead (it may be mid-chunk) and reap it."""
        if self._fd >= 0:
            os.close(self._fd)  # a write it is blocked in fails now
            self._fd = -1
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = 0


def _decode_ahead(path: Path, offset: int, size: int, fd: int) -> None:
    """The forked process: each chunk from ``offset`` on, as columns where it is plain log lines,
    but every ``LEFT_EVERY``-th only found and left to the fold, which then has as much to do as this."""
    for at in count():
        if at % LEFT_EVERY == LEFT_EVERY - 1 and (found := _bounds(path, offset, size)) is not None:
            end, eof, columns = *found, None
        else:
            chunk = read_events(path, offset, size)
            end, eof, columns = chunk.end, chunk.eof, _columns(chunk)
        if end <= offset:
            return
        message = pickle.dumps((offset, size, end, eof, columns), protocol=5)
        os.write(fd, _HEADER.pack(len(message)))
        view = memoryview(message)
        while view:
            view = view[os.write(fd, view):]
        if eof:
            return
        offset = end


def _bounds(path: Path, offset: int, size: int) -> tuple[int, bool] | None:
    """Where ``read_events(path, offset, size)`` ends and whether it reaches the end of the file, without
    decoding; None for a line longer than ``size`` (read_events reads it whole)."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    cut = data.rfind(b"\n") + 1
    return (offset + cut, len(data) < size) if cut or not data else None


def _columns(chunk: Chunk) -> tuple[list[str], bytes, bytes, list[bytes]] | None:
    """A chunk of log lines of the same metrics with numbers only, packed; None for any other chunk."""
    cols = series(chunk.events) if chunk.logs_only and chunk.events and not chunk.bad else None
    if not cols:
        return None
    steps, _, times = next(iter(cols.values()))
    if any(s is not steps for s, _, _ in cols.values()):  # lines logging different metrics
        return None
    try:
        return (list(cols), array("q", steps).tobytes(), array("d", times).tobytes(),
                [array("d", v).tobytes() for _, v, _ in cols.values()])
    except TypeError:  # a null time or value
        return None


def _read_exactly(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        part = os.read(fd, min(n, 1 << 20))
        if not part:
            return None
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _can_fork() -> bool:
    return sys.platform == "linux" and threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1
