"""The per-run event file: the durable path every log call takes.

Why a file and not the store: committing a database transaction per ``run.log``
caps throughput at a few thousand calls per second, while one ``write()`` of a JSON
line to a file opened with ``O_APPEND`` costs about a microsecond and, once it
returns, the bytes belong to the kernel, so they survive a ``kill -9`` of the
process. The store folds these files in when the run ends and whenever a reader
finds one not fully folded (``hunchlab.store``).

Format (documented in docs/events.md so that a shell entry in any language can
append to it): UTF-8 JSON lines. The first line is the header
``{"hunch_events": VERSION, "run": ID}``. Every later line is an object with a
``t`` (type) field; readers never depend on field order:

- ``{"t": "log", "step": 3, "time": 1700000000.1, "m": {"loss": 0.4}}`` per-step metrics
- ``{"t": "summary", "d": {"acc": 0.91}}`` summary metrics (later values win)
- ``{"t": "example", "d": {"id": "q17", "input": ..., "correct": false, ...}}``
- ``{"t": "artifact", "name": "model.pt", "sha256": ..., "size": 123}``
- ``{"t": "prediction", "d": {...}}`` a claim made before the results
- ``{"t": "end", "status": "finished", "exit_code": 0, "time": ...}`` written once

A line without its trailing newline is a write cut short by a crash and is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hunchlab.errors import StoreError

VERSION = 1
FILENAME = "events.jsonl"

_dumps = json.JSONEncoder(separators=(",", ":"), default=str).encode


class EventWriter:
    """Appends events with one ``write()`` each; ``fsync=True`` adds power-loss safety."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(self.fd).st_size == 0:
            run = path.parent.name
            self.write({"hunch_events": VERSION, "run": run})

    def write(self, event: dict[str, Any]) -> None:
        data = (_dumps(event) + "\n").encode()
        view = memoryview(data)
        try:
            while view:  # a regular-file write is whole in practice; loop for the rare short write
                n = os.write(self.fd, view)
                view = view[n:]
            if self.fsync:
                os.fsync(self.fd)
        except OSError as e:
            raise self._failed(e, len(data) - len(view)) from None

    def _failed(self, e: OSError, written: int) -> Exception:
        """A write that failed (the disk filled) after ``written`` bytes: cut those bytes off, so the
        file still ends on a whole line, and say what happened in the user's terms."""
        from hunchlab.errors import machine_error

        if written:
            try:
                os.ftruncate(self.fd, os.fstat(self.fd).st_size - written)
            except OSError:
                pass  # the torn line stays; readers skip it
        return machine_error(e, "writing the run's events (this call was not recorded)", str(self.path)) or e

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def read_events(path: Path, offset: int = 0, max_bytes: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Complete events from byte ``offset`` on (at most about ``max_bytes`` of them), and the
    offset just past the last one.

    Only whole lines are returned, so a reader folding a live run never takes half
    an event, and a line torn by a crash is left out rather than failing the read.
    ``max_bytes`` bounds memory when folding a run of millions of events in chunks.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(max_bytes if max_bytes else -1)
            if max_bytes and len(data) == max_bytes and b"\n" not in data:
                data += f.read()  # a single line longer than the chunk: take it whole
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    lines = [line for line in data[:end].split(b"\n") if line.strip()]
    try:  # one parse for the whole chunk: a json.loads per line costs more than the parsing itself
        parsed = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        parsed = [_parse_line(line, lineno, offset, path) for lineno, line in enumerate(lines, 1)]  # which line?
    events: list[dict[str, Any]] = []
    for event in parsed:
        if "hunch_events" in event:
            _check_version(event, path)
        else:
            events.append(event)
    return events, offset + end


def _parse_line(line: bytes, lineno: int, offset: int, path: Path) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise StoreError(
            f"corrupted event line at byte {offset} + line {lineno}",
            where=str(path),
            fix="inspect the file; a line torn by a crash can only be the last one",
        ) from None


def _check_version(header: dict[str, Any], path: Path) -> None:
    version = header.get("hunch_events")
    if not isinstance(version, int) or version > VERSION:
        raise StoreError(
            f"event file format {version} is newer than this hunchlab understands ({VERSION})",
            where=str(path),
            fix="upgrade: pip install -U hunchlab",
        )

