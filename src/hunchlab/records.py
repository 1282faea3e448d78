"""Reading runs back: list with filters, one whole record, re-execute and check.

These are the library calls behind ``hunch runs``, ``hunch show`` and
``hunch rerun``; they return plain data (dicts of JSON-able values) so any tool can
use them.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hunchlab.errors import HunchError, did_you_mean
from hunchlab.project import Project, find_project
from hunchlab.store import Store, open_store

WHERE = re.compile(r"^\s*([\w./@-]+)\s*(>=|<=|!=|=|>|<|~)\s*(.*?)\s*$")
RUN_FIELDS = {"id": "id", "name": "name", "status": "status", "spec": "spec_name", "question": "question",
              "seed": "seed", "group": "group_key", "agent": "agent"}


@dataclass(frozen=True)
class Filter:
    key: str
    op: str
    value: Any
    text: str

    def matches(self, run: dict[str, Any]) -> bool:
        actual = lookup(run, self.key)
        if actual is _MISSING:
            return False
        if self.op == "~":
            return str(self.value).lower() in str(actual).lower()
        a, b = _comparable(actual), _comparable(self.value)
        try:
            return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[self.op]
        except TypeError:
            return False


_MISSING = object()


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
    from hunchlab.spec import parse_override

    m = WHERE.match(text)
    if not m:
        raise HunchError(f"--where '{text}' is not KEY OP VALUE", fix="e.g. --where lr=3e-4 --where 'acc>0.8' (ops: = != > >= < <= ~)")
    key, op, raw = m.groups()
    _, value = parse_override(f"x={raw}")
    return Filter(key, op, value, text)


def lookup(run: dict[str, Any], key: str) -> Any:
    """A run's field, param (dotted) or summary metric, by name."""
    if key in RUN_FIELDS:
        return run.get(RUN_FIELDS[key])
    node: Any = run.get("params", {})
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            node = _MISSING
            break
        node = node[part]
    if node is not _MISSING:
        return node
    return run.get("summary", {}).get(key, _MISSING)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def filter_runs(runs: list[dict[str, Any]], where: list[str]) -> list[dict[str, Any]]:
    filters = [parse_where(w) for w in where]
    for f in filters:
        if runs and not any(lookup(r, f.key) is not _MISSING for r in runs):
            known = sorted(set(RUN_FIELDS) | {k for r in runs for k in flatten(r["params"])}
                           | {k for r in runs for k in r["summary"]})
            raise HunchError(f"--where '{f.text}': no run has '{f.key}'{did_you_mean(f.key, known)}",
                             fix=f"keys: {', '.join(known[:30])}")
    return [r for r in runs if all(f.matches(r) for f in filters)]


def _store(project: Project | None) -> Store:
    store = open_store(project or find_project())
    store.sync()
    return store


def runs(where: list[str] | None = None, *, project: Project | None = None) -> list[dict[str, Any]]:
    """All runs, newest first, filtered by ``where`` expressions (``["lr=3e-4", "acc>0.8"]``)."""
    return runs_page(where, project=project)[0]


def runs_page(where: list[str] | None = None, *, limit: int | None = None, by: str | None = None,
              project: Project | None = None) -> tuple[list[dict[str, Any]], int]:
    """The newest ``limit`` runs that match ``where`` (and were started by ``by``: "you", "agent"
    for any agent, or one agent's name), and how many match in all.

    Without filters only the page is read and decoded: `hunch runs` over 10,000 runs
    shows 50 of them, and decoding the other 9,950 was half its time.
    """
    from hunchlab.who import matches

    with _store(project) as store:
        if not where and by is None:
            return store.list_runs(limit), store.count_runs()
        found = filter_runs(store.list_runs(), list(where or []))
    if by is not None:
        found = [r for r in found if matches(r["agent"], by)]
    return (found[:limit] if limit is not None else found), len(found)


def get_run(ref: str, *, metrics: bool = True, examples: bool = True, project: Project | None = None) -> dict[str, Any]:
    """The whole record of a run (by id, unique prefix or number) as plain data."""
    from hunchlab.predict import scored

    with _store(project) as store:
        run = store.get_run(store.resolve_run(ref), metrics=metrics, examples=examples)
        threshold = float(store.project.setting("surprise_threshold"))
    run["predictions"] = [scored(p, threshold) for p in run["predictions"]]
    return run


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


@dataclass
class MetricCheck:
    metric: str
    original: float | None
    rerun: float | None
    match: bool


def rerun(ref: str, *, project: Project | None = None, echo: bool = True, argv: list[str] | None = None,
          rtol: float = 1e-9, atol: float = 1e-12) -> tuple[dict[str, Any], dict[str, Any], list[MetricCheck]]:
    """Re-execute a run from its stored code state, resolved config and seed; compare metrics.

    Returns the original record, the new one, and one check per metric (summary
    metrics, then the last value of each logged metric).
    """
    from hunchlab.capture import restore_code
    from hunchlab.execute import run_spec
    from hunchlab.spec import Spec

    project = project or find_project()
    original = get_run(ref, examples=False, metrics=False, project=project)
    spec_meta = dict(original.get("spec") or {})
    if spec_meta.get("entry") == "python-api":
        raise HunchError(f"run {original['id']} was started from Python with hunchlab.start(), not from a spec",
                         fix="rerun it by running the script again")
    if original.get("imported"):
        raise HunchError(f"run {original['id']} was imported from {original['imported']['from']}: "
                         "hunchlab has its numbers, not its code", fix="rerun it where it was first run")
    spec = Spec(params=original["params"], seed=original["seed"] or 0,
                **{k: spec_meta.get(k) for k in ("name", "entry", "command", "question", "description", "path")},
                predict=spec_meta.get("predict") or [], smoke=bool(spec_meta.get("smoke")),
                overrides=spec_meta.get("overrides") or [],
                metrics_from=spec_meta.get("metrics_from"), capture=spec_meta.get("capture"),
                tensorboard_dir=spec_meta.get("tensorboard_dir"), outputs=spec_meta.get("outputs") or [])
    code = original.get("code") or {}
    extra = {"rerun_of": original["id"], "code": code}
    scratch = Path(tempfile.mkdtemp(prefix=f"rerun-{original['id']}-", dir=project.hunch_dir))
    try:
        if code.get("git"):
            cwd = restore_code(code, project.run_dir(original["id"]) / "code", scratch / "tree")
        else:
            cwd = Path(code.get("cwd") or project.root)
        outcome = run_spec(project, spec, cwd=cwd, argv=argv or [], echo=echo, extra_meta=extra,
                           capture_code_state=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    src = project.run_dir(original["id"]) / "code"
    if src.exists():
        shutil.copytree(src, project.run_dir(outcome.run_id) / "code", dirs_exist_ok=True)
    new = get_run(outcome.run_id, examples=False, metrics=False, project=project)
    return original, new, compare_metrics(original, new, rtol=rtol, atol=atol)


def compare_metrics(a: dict[str, Any], b: dict[str, Any], *, rtol: float, atol: float) -> list[MetricCheck]:
    def values(run: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in run["summary"].items() if isinstance(v, (int, float))}
        out.update({f"{k} (last)": m["value"] for k, m in run["metrics"].items()})
        return out

    va, vb = values(a), values(b)
    checks = []
    for key in list(va) + [k for k in vb if k not in va]:
        x, y = va.get(key), vb.get(key)
        same = x is not None and y is not None and (
            (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
            or math.isclose(x, y, rel_tol=rtol, abs_tol=atol))
        checks.append(MetricCheck(key, x, y, bool(same)))
    return checks
