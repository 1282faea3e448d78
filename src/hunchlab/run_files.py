"""The files a run writes beside its event lines: ``run.json``, and artifacts with their sha256.

Apart from the handle because these are plain file operations with rules of their own
(``run.json`` written whole or not at all, so a reader never sees half of it; an artifact
already in the run folder linked rather than copied, so a checkpoint is stored once), and
both the handle (``run.artifact``) and the code that makes a run folder (``run_start``,
the Ray worker) use them. ``hashlib`` and ``shutil`` are imported by the call that needs
them: the logging path never does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson  # loaded by events.py already

from hunchlab.rundir import tmp_beside


def store_file(src: Path, dest: Path, *, inside: Path) -> None:
    """Hard-link a file that already lives in the run folder (stored once), copy any other."""
    import shutil

    if src.resolve().is_relative_to(inside.resolve()):
        if dest.exists() and os.path.samefile(src, dest):
            return
        dest.unlink(missing_ok=True)
        try:
            os.link(src, dest)
            return
        except OSError:
            pass
    shutil.copy2(src, dest)


def sha256_of(path: Path) -> str:
    """The file's sha256, read 1 MiB at a time (an artifact may be a checkpoint of gigabytes)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON (indented for people) through a temporary file, so readers see all of it or none."""
    tmp = tmp_beside(path)
    try:
        text = orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2)
    except TypeError:  # a key or an integer orjson cannot write
        text = json.dumps(data, indent=1, default=str).encode()
    tmp.write_bytes(text)
    os.replace(tmp, path)
