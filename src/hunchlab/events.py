"""The per-run event file: the durable path every log call takes.

Why a file and not the store: committing a database transaction per ``run.log``
caps throughput at a few thousand calls per second, while one ``write()`` of a JSON
line to a file opened with ``O_APPEND`` costs about a microsecond and, once it
returns, the bytes belong to the kernel, so they survive a ``kill -9`` of the
process. The store folds these files in (``hunchlab.store.fold``).

Format (documented in docs/runs.md so that a shell entry in any language can
append to it): UTF-8 JSON lines. The first line is the header
``{"hunch_events": VERSION, "run": ID}``. Every later line is an object with a
``t`` (type) field; readers never depend on field order:

- ``{"t": "log", "step": 3, "time": 1700000000.1, "m": {"loss": 0.4}}`` per-step metrics
- ``{"t": "summary", "d": {"acc": 0.91}}`` summary metrics (later values win)
- ``{"t": "example", "d": {"id": "q17", "input": ..., "correct": false, ...}}``
- ``{"t": "artifact", "name": "model.pt", "sha256": ..., "size": 123}``
- ``{"t": "prediction", "d": {...}}`` a claim made before the results
- ``{"t": "end", "status": "finished", "exit_code": 0, "time": ...}`` written once

A last line without its newline is a write still in progress or cut short by a
crash: readers leave it for later. A complete line that is not a valid event
(``hunchlab.eventcheck``) is returned as a ``BadLine`` for the fold to quarantine.

Encoding and decoding use orjson: a 10-metric log line costs ~1.2 µs to encode
against ~11 µs with ``json``, and parsing 400,000 lines 1.9 s against 7.6 s (same
process, loaded 2-core machine). orjson writes NaN and infinities as ``null``, so a
line holding one (or an integer beyond 64 bits) is written by ``json`` instead, which
keeps the ``NaN``/``Infinity`` tokens this format has always had; on reading, such a
line is parsed by ``json`` after orjson refuses it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from hunchlab.errors import StoreError, machine_error
from hunchlab.eventcheck import MAX_LINE_BYTES, plain_logs, problem

VERSION = 1
FILENAME = "events.jsonl"
QUARANTINE_FILE = "events.quarantined"  # the lines a fold could not read, verbatim, one per line
KEPT_OF_LONG_LINE = 1 << 20  # a line over MAX_LINE_BYTES is quarantined as its first MiB
SALVAGE_TRIES = 64  # positions tried when looking for a whole event glued after a torn one

_OPTIONS = orjson.OPT_APPEND_NEWLINE  # OPT_NON_STR_KEYS doubles the cost; such keys go to json instead


def _plain(value: Any) -> Any:
    """What a value orjson cannot write becomes: arrays and tensors their lists, anything else its text."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)


_U = ord("u")
_json_encode = json.JSONEncoder(separators=(",", ":"), default=_plain).encode


def encode(event: dict[str, Any]) -> bytes:
    """One event as a JSON line (with its newline)."""
    try:
        data = orjson.dumps(event, default=_plain, option=_OPTIONS)
    except TypeError:  # an integer beyond 64 bits, or a key orjson cannot write
        return (_json_encode(event) + "\n").encode()
    # maybe a NaN or infinity that orjson wrote as null: keep its token. One byte is looked for first:
    # most lines have no "u" at all, and an int is found with memchr in ~20 ns where b"null" took
    # ~200 ns on a 143-byte log line (a sixth of a log call's Python time)
    if _U in data and b"null" in data:
        return (_json_encode(event) + "\n").encode()
    return data


def decode(line: bytes) -> Any:
    """One line parsed; ``json`` takes the NaN and Infinity tokens that orjson refuses."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


class EventWriter:
    """Appends events with one ``write()`` each; ``fsync=True`` adds power-loss safety."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)  # read: see write_after_torn
        if os.fstat(self.fd).st_size == 0:
            run = path.parent.name
            self.write_line(encode({"hunch_events": VERSION, "run": run}))

    def write(self, event: dict[str, Any]) -> None:
        self.write_line(encode(event))

    def write_line(self, data: bytes) -> None:
        try:
            written = os.write(self.fd, data)
        except OSError as e:
            raise self._failed(e, 0) from None
        if written < len(data) or self.fsync:
            self._finish(data, written)

    def _finish(self, data: bytes, written: int) -> None:
        """The rare rest of a write: what a short write left (a regular file's write is whole in
        practice), and the fsync of ``durability: machine``."""
        try:
            view = memoryview(data)[written:]
            while view:
                n = os.write(self.fd, view)
                written += n
                view = view[n:]
            if self.fsync:
                os.fsync(self.fd)
        except OSError as e:
            raise self._failed(e, written) from None

    def _failed(self, e: OSError, written: int) -> Exception:
        """A write that failed (the disk filled) after ``written`` bytes: cut those bytes off, so the
        file still ends on a whole line, and say what happened in the user's terms."""
        if written:
            try:
                os.ftruncate(self.fd, os.fstat(self.fd).st_size - written)
            except OSError:
                pass  # the torn line stays; readers skip it
        return machine_error(e, "writing the run's events (this call was not recorded)", str(self.path)) or e

    def write_after_torn(self, event: dict[str, Any]) -> None:
        """Write ``event`` on a line of its own even if the file ends in a torn line.

        A process killed mid-write leaves a last line without its newline; appending
        straight after it would glue the new line onto the torn one and lose both.
        """
        size = os.fstat(self.fd).st_size
        torn = size > 0 and os.pread(self.fd, 1, size - 1) != b"\n"
        self.write_line(b"\n" + encode(event) if torn else encode(event))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


Series = dict[str, tuple[list[Any], list[Any], list[Any]]]  # log lines as columns: per metric, steps, values, times


@dataclass
class BadLine:
    """A complete line that is not a valid event: where it starts, its bytes, and why."""

    byte: int
    raw: bytes
    why: str


@dataclass
class Chunk:
    """What one read of an event file found: valid events, bad lines, and the offset just past them."""

    events: list[dict[str, Any]] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    end: int = 0
    eof: bool = False  # the read reached the end of the file as it was then
    logs_only: bool = False  # every event is a log line (checked by ``plain_logs``): the common chunk
    columns: Series | None = None  # those lines decoded ahead (``store.readahead``); ``events`` is then empty


def read_events(path: Path, offset: int = 0, max_bytes: int = 4 << 20) -> Chunk:
    """The complete lines from byte ``offset`` on (about ``max_bytes`` of them), parsed and checked.

    Only whole lines are read, so a reader folding a live run never takes half an
    event. ``max_bytes`` bounds memory when folding a run of millions of events; a
    single line longer than that is read whole up to ``MAX_LINE_BYTES``.
    """
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return Chunk(end=offset, eof=True)
    with f:
        f.seek(offset)
        data = f.read(max_bytes)
        cut = data.rfind(b"\n") + 1
        if cut == 0 and data:
            return _long_line(f, path, offset, data)
    chunk = Chunk(end=offset + cut, eof=len(data) < max_bytes)
    lines = data[:cut].split(b"\n")[:-1]
    try:
        events = list(map(orjson.loads, lines))  # one C loop; any line orjson refuses: line by line
    except orjson.JSONDecodeError:
        events = None
    if events and type(events[0]) is dict and "hunch_events" in events[0] and plain_logs(events[1:]):
        _check_version(events[0], path)
        chunk.events, chunk.logs_only = events[1:], True
    elif events is not None and plain_logs(events):  # the common chunk: all plain log lines
        chunk.events, chunk.logs_only = events, True
    else:
        start = offset
        for i, line in enumerate(lines):
            _take(line, _UNPARSED if events is None else events[i], start, path, chunk)
            start += len(line) + 1
    return chunk


_UNPARSED = object()


def _take(line: bytes, event: Any, start: int, path: Path, chunk: Chunk) -> None:
    """Check one line into ``chunk``, parsing it first unless ``event`` is it parsed."""
    if event is _UNPARSED:
        if not line.strip():
            return
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                event = json.loads(line)  # NaN and Infinity tokens, which orjson refuses
                json.dumps(event, ensure_ascii=False).encode()  # text no store can hold (a lone surrogate)
            except ValueError as e:
                _salvage(line, start, str(e).split(":")[0], chunk)
                return
    if type(event) is dict and "hunch_events" in event:
        _check_version(event, path)
        return
    why = problem(event)
    if why is None:
        chunk.events.append(event)
    else:
        chunk.bad.append(BadLine(start, line, why))


def _salvage(line: bytes, start: int, why: str, chunk: Chunk) -> None:
    """A line that is not JSON, most often a write cut short by a kill with the next write glued on.

    The glued event is the longest valid object that ends the line: try from each
    ``{"`` found from the right, keep the first that parses and validates, and
    quarantine what comes before it.
    """
    pos = len(line)
    for _ in range(SALVAGE_TRIES):
        pos = line.rfind(b'{"', 0, pos)
        if pos <= 0:
            break
        try:
            event = orjson.loads(line[pos:])
        except orjson.JSONDecodeError:
            continue
        if problem(event) is None:
            chunk.bad.append(BadLine(start, line[:pos], f"not JSON ({why}): a write cut short"))
            chunk.events.append(event)
            return
    chunk.bad.append(BadLine(start, line, f"not JSON ({why})"))


def _long_line(f: BinaryIO, path: Path, offset: int, head: bytes) -> Chunk:
    """A line longer than one read: take it whole up to the cap, keep the start of a longer one."""
    kept, length = [head], len(head)
    while True:
        piece = f.read(1 << 20)
        if not piece:
            return Chunk(end=offset, eof=True)  # no newline yet: a write still in progress, or torn for good
        cut = piece.find(b"\n")
        part = piece if cut < 0 else piece[:cut]
        if length < MAX_LINE_BYTES + 1:
            kept.append(part)
        length += len(part)
        if cut >= 0:
            break
    end = offset + length + 1
    if length > MAX_LINE_BYTES:
        why = f"a line of {length:,} bytes, over the {MAX_LINE_BYTES >> 20} MiB cap (first MiB kept)"
        return Chunk(bad=[BadLine(offset, b"".join(kept)[:KEPT_OF_LONG_LINE], why)], end=end)
    chunk = Chunk(end=end)
    _take(b"".join(kept), _UNPARSED, offset, path, chunk)
    return chunk


def _check_version(header: dict[str, Any], path: Path) -> None:
    version = header.get("hunch_events")
    if not isinstance(version, int) or version > VERSION:
        raise StoreError(
            f"event file format {version} is newer than this hunchlab understands ({VERSION})",
            where=str(path),
            fix="upgrade: pip install -U hunchlab",
        )
