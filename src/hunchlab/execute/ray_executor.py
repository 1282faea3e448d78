"""The Ray executor: each trial a Ray task, on as many machines as the cluster has.

A worker on another machine cannot write the driver's store, so a trial's record
travels like this:

1. At submission the driver takes the run's id (``ids.new_run_id``, the project's
   sequence) and sends the task the run's resolved spec and meta, and a reference
   to the code: the tree captured when the sweep was submitted, packed once per sweep
   into a tarball in Ray's object store. The worker unpacks it (once per machine and
   code state) and runs that, never what happens to be on its disk.
2. The task runs the trial exactly as ``hunch run`` does (``local.execute``: a child
   process, an event file, tee'd output) in a scratch project on the worker, and is a
   *streaming generator*: every ``STREAM_SECONDS`` it yields what is new in the run
   folder (whole event lines, stdout/stderr bytes, each artifact once its event is
   written), and at the end any other file the run wrote and its exit status.
3. The driver, in the thread that owns the trial, records the run in its own project
   when the task's first message arrives (``create_run`` with that id; the worker's
   host, pid and environment in its meta), appends each chunk to the run's folder as
   it comes, and ends the run itself (``Run.finish``: the end event, then the fold
   into the store), exactly like a local run.

Durability: a log call that returned on a worker is on the driver's disk within
``STREAM_SECONDS``. If the entry's process dies, the worker still ships everything it
wrote. If the worker process or its machine dies, Ray fails the task, and the driver
records the run as crashed with everything received so far (at most the last
``STREAM_SECONDS`` of events are lost); ``hunch sweep resume`` runs it again. The run
is owned by the driver's process, so if the driver dies, readers mark it crashed
(the same pid check as for a local run) and ``resume`` runs it again too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hunchlab.errors import HunchError
from hunchlab.events import FILENAME as EVENTS_FILE
from hunchlab.execute.local import Control, RunOutcome, child_argv, execute, link_files, search_path
from hunchlab.execute.sweep import Job, restore_snapshot, sweep_dir
from hunchlab.project import SETTINGS_FILE, Project
from hunchlab.rundir import META_FILE

STREAM_SECONDS = 0.5
CHUNK_BYTES = 4 << 20  # the most one streamed message carries
CONNECT_TIMEOUT_SECONDS = 3.0
LOG_FILES = ("stdout.log", "stderr.log")
CODE_CACHE_DAYS = 7


class TrialNotStarted(HunchError):
    """A trial whose Ray task ended before it began running (cancelled or failed to start)."""


class RayExecutor:
    """Runs trials as Ray tasks, ``slots`` at a time (default: the cluster's CPUs)."""

    name = "ray"

    def __init__(self, project: Project, *, jobs: int | None, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise HunchError("the Ray executor needs Ray, which is not installed",
                             fix="pip install 'hunchlab[ray]' (or run without --executor ray)") from None
        self.project = project
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            if address:
                _check_reachable(address)
            try:
                if address:
                    ray.init(address=address, log_to_driver=False, logging_level="ERROR")
                else:  # a Ray on this machine only, started for this sweep and stopped after it
                    ray.init(num_cpus=jobs or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False,
                             logging_level="ERROR", _node_ip_address="127.0.0.1")
            except Exception as e:  # noqa: BLE001 - whatever Ray raises, the user gets one line
                where = f" at {address}" if address else ""
                raise HunchError(f"cannot start Ray{where}: {_first_line(e)}",
                                 fix="check the address, and that this Ray version matches the cluster's") from None
        self.slots = jobs or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(num_cpus=1, max_retries=0)(trial_task)
        self._code: dict[str, tuple[Any, str, str]] = {}

    def open(self, sweeps: list[dict[str, Any]]) -> None:
        """Pack each sweep's submitted code once and put it in Ray's object store for every task."""
        for sweep in sweeps:
            with tempfile.TemporaryDirectory(prefix="hunch-ray-pack-") as tmp:
                cwd = restore_snapshot(self.project, sweep, Path(tmp) / "tree", link_ignored=False)
                buf = io.BytesIO()
                with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                    tar.add(Path(tmp) / "tree", arcname=".")
                data = buf.getvalue()
            digest = hashlib.sha256(data).hexdigest()[:16]
            self._code[sweep["id"]] = (self._ray.put(data), digest, os.path.relpath(cwd, Path(tmp) / "tree"))

    def run(self, job: Job, control: Control) -> RunOutcome:
        from hunchlab.ids import new_run_id
        from hunchlab.run import create_run

        ray = self._ray
        spec = job.spec()
        run_id = new_run_id(self.project.hunch_dir)
        code_ref, digest, relcwd = self._code[job.sweep["id"]]
        meta = {"name": spec.name, "params": spec.params, "seed": spec.seed, "spec": spec.to_meta(),
                "argv": ["hunch", *sys.argv[1:]], **job.meta()}
        payload = {"run_id": run_id, "meta": meta, "spec": asdict(spec), "relcwd": relcwd,
                   "durability": self.project.setting("durability")}
        started = time.time()
        stream = self._task.remote(code_ref, digest, payload)
        control.attach(run_id, lambda: ray.cancel(stream, force=True))
        run = None
        end: tuple[str, int | None, str | None] | None = None
        try:
            for ref in stream:
                kind, *body = ray.get(ref)
                if kind == "start":
                    run = create_run(self.project, {**meta, **body[0]}, run_id=run_id)
                    for name in LOG_FILES:  # as a local run has them, even if the entry prints nothing
                        (run.dir / name).touch()
                    code_dir = sweep_dir(self.project, job.sweep["id"]) / "code"
                    if code_dir.is_dir():
                        link_files(code_dir, run.dir / "code")
                elif kind == "append" and run is not None:
                    _append(run.dir / body[0], body[1])
                elif kind == "file" and run is not None:
                    _write_at(run.dir / body[0], body[1], body[2])
                elif kind == "done":
                    end = (body[0], body[1], body[2])
        except Exception as e:  # noqa: BLE001 - a task that failed in any way ends as one crashed trial
            if control.status is None:
                end = ("crashed", None, f"the Ray task failed: {type(e).__name__}: {_first_line(e)}")
        if control.status is not None:
            end = (control.status, end[1] if end else None, control.reason)
        if run is None:
            why = end[2] if end else "no reason given"
            raise TrialNotStarted(f"the Ray task ended before the trial started ({why})")
        status, code, error = end or ("crashed", None, "the Ray task ended without a result")
        run.finish(status, code, error)
        exit_code = 1 if code is None else (code if code >= 0 else 128 - code)
        return RunOutcome(run_id, status, exit_code, time.time() - started)

    def close(self) -> None:
        self._code.clear()
        if self._owns:
            self._ray.shutdown()


def _check_reachable(address: str) -> None:
    """Fail in seconds, in one line, when nothing listens at ``address`` (ray.init would retry for a minute)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except (OSError, ValueError) as e:
        reason = "not host:port" if isinstance(e, ValueError) else (e.strerror or type(e).__name__)
        raise HunchError(f"no Ray cluster answers at {address} ({reason})",
                         fix="start one with `ray start --head`, or fix --address / the ray_address setting") from None


def _first_line(e: BaseException) -> str:
    """Ray's errors carry whole remote tracebacks; a record needs their first line."""
    return (str(e).strip().splitlines() or [""])[0][:300]


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _write_at(path: Path, offset: int, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if offset else "wb") as f:
        f.seek(offset)
        f.write(data)


# ----------------------------------------------------------------------------- on the worker


def trial_task(code: bytes, digest: str, payload: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The Ray task (runs on a worker): run one trial in a scratch project and stream its record back."""
    from hunchlab.capture import environment
    from hunchlab.events import EventWriter
    from hunchlab.run import write_json_atomic
    from hunchlab.spec import Spec

    tree = _unpack(code, digest)
    root = Path(tempfile.mkdtemp(prefix=f"hunch-ray-{payload['run_id']}-"))
    try:
        hunch_dir = root / ".hunch"
        run_dir = hunch_dir / "runs" / payload["run_id"]
        run_dir.mkdir(parents=True)
        (hunch_dir / SETTINGS_FILE).write_text(f"durability: {payload['durability']}\n")
        write_json_atomic(run_dir / META_FILE, {**payload["meta"], "id": payload["run_id"]})
        EventWriter(run_dir / EVENTS_FILE).close()  # the header line; the driver's copy has its own
        spec = Spec(**payload["spec"])
        cwd = tree / payload["relcwd"]
        search = search_path(spec, cwd)
        argv = child_argv(spec, search)
        yield ("start", {"env": environment(), "worker": {"host": socket.gethostname(), "pid": os.getpid()}})
        result: dict[str, Any] = {}

        def work() -> None:
            result["end"] = execute(argv, run_dir, root, cwd=cwd, search=search, echo=False)

        thread = threading.Thread(target=work, name="hunch-trial")
        thread.start()
        tail = _Tail(run_dir)
        while thread.is_alive():
            thread.join(STREAM_SECONDS)
            yield from tail.new()
        yield from tail.new()
        yield from tail.rest()
        yield ("done", *result["end"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _unpack(code: bytes, digest: str) -> Path:
    """The submitted code tree on this machine, unpacked once per code state (shared by its tasks).

    Trees unused for ``CODE_CACHE_DAYS`` are removed here, as no task knows when a sweep ends.
    """
    cache = Path(tempfile.gettempdir()) / "hunch-ray-code"
    dest = cache / digest
    if dest.is_dir():
        os.utime(dest)
        return dest
    for old in cache.glob("*"):
        try:
            stale = time.time() - old.stat().st_mtime > CODE_CACHE_DAYS * 86400
        except OSError:  # removed by another task just now
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)
    tmp = dest.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(code), mode="r:gz") as tar:
        tar.extractall(tmp, filter="data")
    try:
        tmp.rename(dest)
    except OSError:  # another task on this machine unpacked it first
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


class _Tail:
    """What is new in a run folder since the last look: whole event lines, output bytes, finished artifacts."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.offsets: dict[str, int] = {EVENTS_FILE: (run_dir / EVENTS_FILE).stat().st_size}
        self.shipped: set[str] = set()

    def new(self) -> Iterator[tuple[Any, ...]]:
        data = self._read(EVENTS_FILE, whole_lines=True)
        if data:
            yield ("append", EVENTS_FILE, data)
            for line in data.splitlines():
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
        offset = self.offsets.get(name, 0)
        try:
            with open(self.run_dir / name, "rb") as f:
                f.seek(offset)
                data = f.read(CHUNK_BYTES)
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

