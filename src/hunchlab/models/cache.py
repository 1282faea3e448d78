"""The completion cache: every completion an endpoint gave, keyed by what was asked.

The key is a hash of (endpoint, model, messages, generation params, sample index). The
sample index tells apart the N samples drawn for one prompt, so a study that asks for
16 samples of a problem gets 16 entries, and asking again gets the same 16 back: a rerun
costs nothing, gives the same numbers (``hunch rerun --check`` passes with the server
down), and a larger N asks only for the samples it did not have. The key never holds the
API key.

One JSON file per completion under ``$HUNCH_CACHE_DIR/completions`` (default
``~/.cache/hunchlab``, beside the studies' trained models), two hex digits of fan-out,
written to a temporary file and renamed into place: parallel runs and sweep trials
share the cache without a lock, a reader never sees half a file, and two writers of one
key write the same answer. No database, so nothing here writes SQL (only ``store/`` does).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypedDict

CACHE_VERSION = 1  # bump when what a key means changes


class Entry(TypedDict):
    """A cached completion, and what it answered (for reading the cache by hand)."""

    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str | None
    asked: dict[str, Any]  # endpoint, model, messages, params, sample: never the key


def cache_home() -> Path:
    """hunchlab's cache folder for this user: ``$HUNCH_CACHE_DIR``, else ``~/.cache/hunchlab``."""
    return Path(os.environ.get("HUNCH_CACHE_DIR", Path.home() / ".cache" / "hunchlab"))


class CompletionCache:
    """Completions on disk, one file per key."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_home() / "completions"

    @staticmethod
    def key(asked: dict[str, Any]) -> str:
        """The hash of what was asked (sorted JSON, so dict order never changes a key)."""
        blob = json.dumps({"version": CACHE_VERSION, **asked}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Entry | None:
        try:
            entry: Entry = json.loads(self._path(key).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None  # never written, or damaged by hand: ask the endpoint again
        return entry

    def put(self, key: str, entry: Entry) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # same folder, so the rename is atomic
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(entry, f, ensure_ascii=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
