"""A project's runs: make the project (``hunch init``), list runs with filters, read one whole record.

These are the library calls behind ``hunch runs`` and ``hunch show`` (``hunch rerun``
is ``hunchlab.reproduce``); they return plain data (dicts of JSON-able values) so any
tool can use them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from hunchlab import runlist
from hunchlab.current import current_store
from hunchlab.errors import BadInput, did_you_mean
from hunchlab.project import Project, find_project, make_project
from hunchlab.who import matches

if TYPE_CHECKING:
    from hunchlab.shapes import MetricPoint, MetricStat, RunRecord, RunRow

RunT = TypeVar("RunT", bound=Mapping[str, Any])  # a run list's row, or any record with its keys (compare's runs)

WHERE = re.compile(r"^\s*([\w./@-]+)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$")
RUN_FIELDS = {"id": "id", "name": "name", "status": "status", "spec": "spec_name", "question": "question",
              "seed": "seed", "group": "group_key", "agent": "agent"}


@dataclass(frozen=True)
class Filter:
    key: str
    op: str
    value: Any
    text: str

    def matches(self, run: Mapping[str, Any]) -> bool:
        actual = lookup(run, self.key)
        if actual is MISSING:
            return False
        if self.op == "~":
            return str(self.value).lower() in str(actual).lower()
        a, b = _comparable(actual), _comparable(self.value)
        try:
            matched: bool = {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b,
                             "<=": a <= b}[self.op]
            return matched
        except TypeError:
            return False


MISSING = object()


def _comparable(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return str(v).lower()
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def parse_where(text: str) -> Filter:
    """``lr=3e-4``, ``acc>0.8``, ``status!=failed``, ``name~otter`` → a Filter."""
    from hunchlab.overrides import parse_override  # lazy: loads yaml only when called

    m = WHERE.match(text)
    if not m:
        raise BadInput(f"--where '{text}' is not KEY OP VALUE", fix="e.g. --where lr=3e-4 --where 'acc>0.8' (ops: = != > >= < <= ~)")
    key, op, raw = m.groups()
    _, value = parse_override(f"x={raw}")
    return Filter(key, op, value, text)


def lookup(run: Mapping[str, Any], key: str) -> Any:
    """A run's field, param (dotted) or summary metric, by name."""
    if key in RUN_FIELDS:
        return run.get(RUN_FIELDS[key])
    node: Any = run.get("params", {})
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            node = MISSING
            break
        node = node[part]
    if node is not MISSING:
        return node
    return run.get("summary", {}).get(key, MISSING)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def filter_runs(runs: list[RunT], where: list[str]) -> list[RunT]:
    filters = [parse_where(w) for w in where]
    for f in filters:
        if runs and not any(lookup(r, f.key) is not MISSING for r in runs):
            known = sorted(set(RUN_FIELDS) | {k for r in runs for k in flatten(r["params"])}
                           | {k for r in runs for k in r["summary"]})
            raise BadInput(f"--where '{f.text}': no run has '{f.key}'{did_you_mean(f.key, known)}",
                           fix=f"keys: {', '.join(known[:30])}")
    return [r for r in runs if all(f.matches(r) for f in filters)]


def init_project(path: str | os.PathLike[str] = ".") -> tuple[Project, bool]:
    """``hunch init``: create ``.hunch/`` at ``path`` (idempotent) and its store, so that a bad
    store setting is reported now and not at the first run; returns the project and whether it was new."""
    from hunchlab.store import open_store  # SQLAlchemy: imported only by the commands that open the store

    project, created = make_project(path)
    open_store(project).close()
    return project, created


def runs(where: list[str] | None = None, *, project: Project | None = None) -> list[RunRow]:
    """All runs, newest first, filtered by ``where`` expressions (``["lr=3e-4", "acc>0.8"]``)."""
    return runs_page(where, project=project)[0]


def runs_page(where: list[str] | None = None, *, limit: int | None = None, by: str | None = None,
              project: Project | None = None) -> tuple[list[RunRow], int]:
    """The newest ``limit`` runs that match ``where`` (and were started by ``by``: "you", "agent"
    for any agent, or one agent's name), and how many match in all.

    Without filters only the page is read and decoded: `hunch runs` over 10,000 runs
    shows 50 of them, and decoding the other 9,950 was half its time. When nothing
    waits to be folded, ``runlist`` reads it without importing SQLAlchemy.
    """
    project = project or find_project()
    if not where and by is None:
        fast = runlist.runs_page(project, limit)
        if fast is not None:
            return fast
    with current_store(project) as store:
        if not where and by is None:
            return store.list_runs(limit), store.count_runs()
        found = filter_runs(store.list_runs(), list(where or []))
    if by is not None:
        found = [r for r in found if matches(r["agent"], by)]
    return (found[:limit] if limit is not None else found), len(found)


def get_run(ref: str, *, metrics: bool = True, examples: bool = True,
            project: Project | None = None) -> RunRecord:
    """The whole record of a run (by id, unique prefix or number) as plain data."""
    with current_store(project) as store:
        run_id = store.resolve_run(ref)
        store.refresh_run(run_id)
        run = store.get_run(run_id, metrics=metrics, examples=examples)
        threshold = float(store.project.setting("surprise_threshold"))
        run["files_elsewhere"] = files_elsewhere(store.project, run)
    if run["predictions"]:
        from hunchlab.predict import scored  # lazy: ~15 ms (calibration, claims) a run without predictions skips

        run["predictions"] = [scored(p, threshold) for p in run["predictions"]]
    return run


def histories(run: RunRecord) -> dict[str, list[MetricPoint]]:
    """``run["metrics"]`` of a record read with ``metrics=True`` (the default): each metric's whole history.

    The key holds ``MetricStat``s instead when read with ``metrics=False``; the check
    tells the two apart for the type checker and keeps nothing out of a full record.
    """
    return {k: v for k, v in run["metrics"].items() if isinstance(v, list)}


def last_metrics(run: RunRecord) -> dict[str, MetricStat]:
    """``run["metrics"]`` of a record read with ``metrics=False``: each metric's count and last point."""
    return {k: v for k, v in run["metrics"].items() if not isinstance(v, list)}


def files_elsewhere(project: Project, run: RunRecord) -> str | None:
    """Where a run's files (stdout, stderr, artifacts, code) are when this project folder lacks them:
    a run recorded by another folder on a shared store, on this machine or another."""
    if project.run_dir(run["id"]).is_dir():
        return None
    root = run.get("project_root")
    where = f"{root}/.hunch/runs/{run['id']}" if root else "the project folder that recorded it"
    return f"its files (stdout, stderr, artifacts, code) are on {run.get('host') or 'another machine'} in {where}"


def quarantine_note(run: Mapping[str, Any]) -> str | None:
    """"3 lines could not be read (first at byte 1234: why)": the event lines a fold set aside."""
    q = run.get("quarantine")
    if not q:
        return None
    lines = f"{q['lines']} line{'s' if q['lines'] != 1 else ''}"
    return (f"{lines} could not be read (first at byte {q['byte']}: {q['why']}); "
            f"kept in .hunch/runs/{run['id']}/events.quarantined")


def log_tail(project: Project, run_id: str, lines: int = 20) -> dict[str, str]:
    """The last lines of a run's saved stdout and stderr."""
    out = {}
    for stream in ("stdout", "stderr"):
        path = project.run_dir(run_id) / f"{stream}.log"
        if path.exists():
            with open(path, "rb") as f:
                f.seek(max(0, path.stat().st_size - 65536))
                out[stream] = "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])
    return out
