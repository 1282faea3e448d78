"""What runs on a Ray worker: one trial in a scratch project, its record streamed back to the driver.

``trial_task`` is the Ray task (a streaming generator). It unpacks the sweep's code
(``codepack``), runs the trial exactly as ``hunch run`` does (``local.execute``: the
entry under its supervisor, tee'd output, and the same captures: stdout scalars, the
wandb stand-in, TensorBoard files), and every ``STREAM_SECONDS`` yields what is new in
the run folder (``_Tail``: whole event lines of any length, output bytes, each artifact
once its event is written), then any other file the run wrote and its exit status.

The scratch project goes when the task ends, however it ends: a cancelled task (the
driver pruned or stopped the trial: ``ray.cancel`` raises ``KeyboardInterrupt`` here)
first stops its entry as a local sweep does (SIGINT, then the supervisor kills the
tree); a worker killed outright (a force-cancel, its machine's OOM killer) leaves it to
the entry's supervisor, which removes it once it has taken the entry's tree down.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hunchlab.capture import environment
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.events import EventWriter
from hunchlab.execute import captures
from hunchlab.execute.codepack import unpack
from hunchlab.execute.local import Control, child_argv, execute, search_path
from hunchlab.project import HUNCH, SETTINGS_FILE, Project
from hunchlab.run import Run
from hunchlab.run_files import write_json_atomic
from hunchlab.rundir import META_FILE
from hunchlab.spec import Spec

STREAM_SECONDS = 0.5
CHUNK_BYTES = 4 << 20  # what one streamed message carries, unless one event line is longer (up to 16 MiB)
LOG_FILES = ("stdout.log", "stderr.log")
STDERR_TAIL_BYTES = 64 << 10  # how much of a failed entry's stderr is read for a missing data file
# Python's FileNotFoundError ("... No such file or directory: 'data/x.csv'") and a shell tool's
# ("cat: data/x.csv: No such file or directory").
MISSING_FILE = re.compile(rb"No such file or directory: '([^']+)'|([^\s:'\"]+): No such file or directory")


def trial_task(code: bytes, digest: str, payload: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The Ray task: run one trial in a scratch project and stream its record back."""
    tree = unpack(code, digest)
    root = Path(tempfile.mkdtemp(prefix=f"hunch-ray-{payload['run_id']}-"))
    try:
        scratch = scratch_project(root, payload["durability"])
        run_dir = scratch.run_dir(payload["run_id"])
        run_dir.mkdir(parents=True)
        write_json_atomic(run_dir / META_FILE, {**payload["meta"], "id": payload["run_id"]})
        EventWriter(run_dir / EVENTS_FILE).close()  # the header line; the driver's copy has its own
        tail = _Tail(run_dir)
        yield ("start", {"env": environment(), "worker": _worker()})
        yield from _run_entry(tree, scratch, tail, payload)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def scratch_project(root: Path, durability: str) -> Project:
    """The project a trial runs in on a worker, with the driver's project's durability: in its settings
    file, for the entry's own process, and in this handle, for the captures logging beside it
    (``durability: machine`` once reached only the entry: stdout scalars were written without fsync)."""
    (root / HUNCH).mkdir(parents=True, exist_ok=True)
    (root / HUNCH / SETTINGS_FILE).write_text(f"durability: {durability}\n")
    return Project(root, {"durability": durability})


def _worker() -> dict[str, Any]:
    """Where the trial runs: host, pid and Ray node (machines may hold several nodes)."""
    import ray

    return {"host": socket.gethostname(), "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}


def _run_entry(tree: Path, scratch: Project, tail: _Tail, payload: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Start the entry with the run's captures, stream while it runs, then its end."""
    spec = Spec(**payload["spec"])
    cwd = tree / payload["relcwd"]
    search = search_path(spec, cwd)
    root, run_dir = scratch.root, tail.run_dir
    run = Run(scratch, payload["run_id"], payload["meta"], owner=False)  # what the captures log through
    control = Control()
    result: dict[str, Any] = {}
    try:
        hooks = captures.start(scratch, spec, run, cwd, search)

        def work() -> None:
            result["end"] = execute(child_argv(spec, search), run_dir, root, cwd=cwd, search=search, echo=False,
                                    control=control, hooks=hooks, scratch=root)

        thread = threading.Thread(target=work, name="hunch-trial")
        thread.start()
        try:
            while thread.is_alive():
                thread.join(STREAM_SECONDS)
                yield from tail.new()
        except BaseException:  # cancelled (KeyboardInterrupt, or the generator closed): stop the entry first
            control.stop("interrupted", "its Ray task was cancelled")
            thread.join()
            raise
        hooks.finish()
    finally:
        run.finish()  # not the run's end (the driver writes that): closes this handle's file
    status, exit_code, error = result["end"]
    if status == "failed":
        error = ignored_file_note(run_dir, cwd, tree, payload.get("ignored", [])) or error
    yield from tail.new()
    yield from tail.rest()
    yield ("done", status, exit_code, error)


def ignored_file_note(run_dir: Path, cwd: Path, tree: Path, ignored: list[str]) -> str | None:
    """Why a failed trial found no file, when that file is one git ignores (so it was never shipped)."""
    try:
        with open(run_dir / "stderr.log", "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - STDERR_TAIL_BYTES))
            text = f.read()
    except OSError:
        return None
    for m in MISSING_FILE.finditer(text):
        name = (m.group(1) or m.group(2)).decode(errors="replace")
        try:
            rel = (cwd / name).resolve().relative_to(tree.resolve()).as_posix()
        except ValueError:  # an absolute path outside the code: not ours to explain
            continue
        if any(rel == p or rel.startswith(p + "/") for p in ignored):
            return (f"{name} is git-ignored, so it was not shipped to the Ray worker (only code is): put it where "
                    "every node can read it (shared storage, by an absolute path), or commit it if it is small")
    return None


class _Tail:
    """What is new in a run folder since the last look: whole event lines, output bytes, finished artifacts."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.offsets: dict[str, int] = {EVENTS_FILE: (run_dir / EVENTS_FILE).stat().st_size}
        self.shipped: set[str] = set()

    def new(self) -> Iterator[tuple[Any, ...]]:
        while data := self._read(EVENTS_FILE, whole_lines=True):
            yield ("append", EVENTS_FILE, data)
            for line in data.splitlines():
                if b'"artifact"' in line:  # a cheap look first: a line may be megabytes of example text
                    event = json.loads(line)
                    if event.get("t") == "artifact":
                        yield from self._file(f"artifacts/{event['name']}")
        for name in LOG_FILES:
            while chunk := self._read(name, whole_lines=False):
                yield ("append", name, chunk)

    def rest(self) -> Iterator[tuple[Any, ...]]:
        """Files the run wrote that no event announced (e.g. into ``run.dir`` directly)."""
        skip = {EVENTS_FILE, META_FILE, *LOG_FILES}
        for path in sorted(self.run_dir.rglob("*")):
            rel = path.relative_to(self.run_dir).as_posix()
            if path.is_file() and rel not in skip and rel not in self.shipped:
                yield from self._file(rel)

    def _read(self, name: str, *, whole_lines: bool) -> bytes:
        """Up to ``CHUNK_BYTES`` of new bytes; with ``whole_lines``, up to the last newline, however far
        the first one is (a line longer than a chunk once stalled the stream for good)."""
        offset = self.offsets.get(name, 0)
        try:
            with open(self.run_dir / name, "rb") as f:
                f.seek(offset)
                data = f.read(CHUNK_BYTES)
                while whole_lines and b"\n" not in data and (more := f.read(CHUNK_BYTES)):
                    data += more
        except FileNotFoundError:
            return b""
        if whole_lines:
            data = data[: data.rfind(b"\n") + 1]
        self.offsets[name] = offset + len(data)
        return data

    def _file(self, rel: str) -> Iterator[tuple[Any, ...]]:
        self.shipped.add(rel)
        path = self.run_dir / rel
        if not path.is_file():
            return
        with open(path, "rb") as f:
            offset = 0
            while True:
                chunk = f.read(CHUNK_BYTES)
                if not chunk and offset:
                    return
                yield ("file", rel, offset, chunk)
                offset += len(chunk)
                if len(chunk) < CHUNK_BYTES:
                    return
