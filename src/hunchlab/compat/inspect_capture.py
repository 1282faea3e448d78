"""After ``hunch run``: the inspect_ai eval logs an entry wrote become that run's results.

``inspect eval task.py …`` (a ``command:`` entry or ``hunch run -- inspect eval …``), or a
Python entry calling ``inspect_ai.eval``, writes a log per eval. Where to look:

- the spec's ``log_dir:``, which is also handed to inspect as ``INSPECT_LOG_DIR``;
- a ``--log-dir DIR`` in the command;
- ``INSPECT_LOG_DIR`` if the user's environment sets it; otherwise it is set to the run's
  own folder (``.hunch/runs/RUN/inspect``), so the logs of a run are kept with it.

Only logs written while the run ran are taken: newer than its start (less a slack for coarse
file-system clocks), and not a log that was already there, unchanged, as it started (a run
right after another into the same folder took the other's log for its own). One log fills the run itself (params,
summary, records, token usage: ``compat.inspect_log``); several (``--model a,b``, an
eval set) become one imported run each, listed in the run's record, because two logs'
samples share ids and one run holds one record per id. ``inspect eval`` exits 0 when an
eval ends in error (the log records it, for ``inspect eval-retry``), so a log whose status
is not success marks the run failed (or interrupted, for a cancelled eval) with its error.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hunchlab.compat.attach import add_params, add_record
from hunchlab.compat.importers import ImportedRun, save_all
from hunchlab.compat.inspect_log import inspect_log_module, read_log
from hunchlab.errors import HunchError, MissingPackage
from hunchlab.run import Run
from hunchlab.spec import Spec

LOG_SUFFIXES = (".eval", ".json")
MTIME_SLACK = 2.0  # seconds: file systems with coarse timestamps (1-2 s) may date a log just before the start


def log_roots(spec: Spec, command: str | None, run_dir: Path, cwd: Path, env: dict[str, str]) -> list[Path]:
    """The folders the entry's eval logs will be in; sets ``INSPECT_LOG_DIR`` in ``env`` where it decides."""
    roots: list[Path] = []
    if spec.log_dir:
        roots.append(cwd / spec.log_dir)
        env["INSPECT_LOG_DIR"] = str(roots[0])
    elif os.environ.get("INSPECT_LOG_DIR"):
        roots.append(cwd / os.environ["INSPECT_LOG_DIR"])
    else:
        roots.append(run_dir / "inspect")
        env["INSPECT_LOG_DIR"] = str(roots[0])
    flag = _log_dir_flag(command)
    if flag:
        roots.append(cwd / flag)
    return list(dict.fromkeys(roots))


def _log_dir_flag(command: str | None) -> str | None:
    """The value of ``--log-dir`` in a shell command, if it has one."""
    if not command:
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    for word, after in zip(words, [*words[1:], ""]):
        if word == "--log-dir" and after:
            return after
        if word.startswith("--log-dir="):
            return word.split("=", 1)[1]
    return None


def _candidates(roots: list[Path], since: float) -> Iterator[tuple[str, int]]:
    """Log files under ``roots`` modified since ``since`` (less the slack): real path, mtime in ns."""
    for root in roots:
        if root.is_dir():
            for p in root.rglob("*"):
                if p.suffix in LOG_SUFFIXES:
                    try:
                        st = p.stat()
                    except OSError:  # a broken link, or gone meanwhile
                        continue
                    if stat.S_ISREG(st.st_mode) and st.st_mtime >= since - MTIME_SLACK:
                        yield os.path.realpath(p), st.st_mtime_ns


def existing_logs(roots: list[Path], since: float) -> dict[str, int]:
    """The logs that would pass for a run starting at ``since`` (within the slack) but are already
    there: their paths and modification times, so that ``capture`` leaves them out unless rewritten."""
    return dict(_candidates(roots, since))


def _new(location: str, before: dict[str, int]) -> bool:
    path = os.path.realpath(location.removeprefix("file://"))
    try:
        return before.get(path) != os.stat(path).st_mtime_ns
    except OSError:
        return True  # not a local file (a remote log store): only its time can tell


def capture(run: Run, roots: list[Path], since: float, before: dict[str, int] | None = None) -> dict[str, Any] | None:
    """Read the eval logs written under ``roots`` since ``since`` (and not in ``before``, unchanged:
    ``existing_logs`` as the run started) into the run; what was done, for ``captured``."""
    before = before or {}
    if all(before.get(path) == mtime for path, mtime in _candidates(roots, since)):
        return None  # the common case: no eval here, and inspect_ai (a second to import) is never loaded

    try:
        log_api = inspect_log_module()
    except MissingPackage as e:  # inspect_ai is not installed: say so in the run, do not fail it
        return {"note": f"eval logs found but not read: {e.what} ({e.fix})"}
    found = [info.name for root in roots if root.is_dir()
             for info in log_api.list_eval_logs(str(root.resolve()), recursive=True, descending=False)
             if (info.mtime is None or info.mtime / 1000 >= since - MTIME_SLACK) and _new(info.name, before)]
    read, unread = [], []
    for location in dict.fromkeys(found):
        try:
            read.append(read_log(location, run.project.setting("model_prices")))
        except HunchError as e:
            unread.append(e.what)
    note: dict[str, Any] = {"unread": unread} if unread else {}
    if not read:
        return {"note": "eval logs found but none could be read", **note} if unread else None
    bad = [r for r in read if r.status != "finished"]
    if bad:  # inspect exits 0 when an eval errors (the log says so, for eval-retry): the run did not succeed
        note["failed"] = (bad[0].status, f"inspect eval {bad[0].status}: {bad[0].error}" if len(read) == 1 else
                          f"{len(bad)} of {len(read)} evals did not succeed; first: {bad[0].error}")
    if len(read) == 1:
        fill(run, read[0])
        return {"samples": len(read[0].examples), "note": f"{len(read[0].examples)} samples from {read[0].location}",
                **note}
    for imported in read:
        imported.extra["from_run"] = run.id
    result = save_all(run.project, read)
    ids = result.imported + result.skipped
    return {"note": f"{len(read)} eval logs, a run each: {', '.join(ids)}", "runs": ids, **note}


def fill(run: Run, imported: ImportedRun) -> None:
    """The eval's params, summary, records and token usage, into the run that ran it."""
    add_params(run, imported.params)
    if imported.summary:
        run.summary.update(imported.summary)
    for example in imported.examples:
        run.example(**example)
    add_record(run, imported.record)
