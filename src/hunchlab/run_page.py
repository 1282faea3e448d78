"""The dashboard's run page as plain data: the run, its logs and code diff, its artifacts and a page
of its examples (the metric points come per chart, from ``hunchlab.metric_series``).

In the library, not ``web/``, because it reads the store, which the surfaces never import, and so
that everything the page shows is one Python call away and tested without a browser.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from hunchlab.current import current_store
from hunchlab.errors import NotFound
from hunchlab.project import Project, find_project
from hunchlab.run_records import flatten, get_run, log_tail, quarantine_note
from hunchlab.store.journal import list_entries
from hunchlab.store.web import example_counts, example_page
from hunchlab.tree import why_node

if TYPE_CHECKING:
    from hunchlab.shapes import ExampleRecord, RunRecord

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}
DIFF_LIMIT = 200_000  # characters of a code diff shown on the run page; the rest is in the file


class DiffLines(TypedDict):
    """A code diff as (kind, text) lines (kind: file, add, del, hunk, ctx), whether it was cut, its length."""

    lines: list[tuple[str, str]]
    truncated: bool
    bytes: int


class RunPage(TypedDict):
    """The run page's data (``/runs/ID`` and its ``.json`` twin): the run (each artifact marked
    ``image`` or not), why its unreadable lines were set aside, its flattened config, log tails,
    code diff, journal entries, example counts, and the question's chain up to the goal."""

    run: RunRecord
    unreadable: str | None
    params: dict[str, Any]
    logs: dict[str, str]
    diff: DiffLines
    entries: list[dict[str, Any]]
    examples: dict[str, int]
    chain: list[dict[str, Any]]


class ExamplesPage(TypedDict):
    """One page of a run's examples (``/runs/ID/examples``): the run's id, name and status, the
    counts, how many match the filters, the page, the filters, and the records."""

    run: dict[str, Any]
    counts: dict[str, int]
    matched: int
    page: int
    pages: int
    per_page: int
    correct: bool | None
    search: str | None
    examples: list[ExampleRecord]


def run_page(ref: str, *, log_lines: int = 40, project: Project | None = None) -> RunPage:
    """Everything the run page shows except the metric points (fetched per chart, downsampled)."""
    project = project or find_project()
    run = get_run(ref, metrics=False, examples=False, project=project)
    with current_store(project) as store, store.read() as conn:
        entries = list_entries(conn, run_ids=[run["id"]])
        examples = example_counts(conn, run["id"])
    run_dir = project.run_dir(run["id"])
    for a in run["artifacts"]:
        a["image"] = Path(a["name"]).suffix.lower() in IMAGE_TYPES
    return {
        "run": run,
        "unreadable": quarantine_note(run),
        "params": flatten(run["params"]),
        "logs": log_tail(project, run["id"], log_lines),
        "diff": _diff_lines(run_dir / "code" / "diff.patch"),
        "entries": entries,
        "examples": examples,
        "chain": why_node(question, project) if (question := run["question"]) else [],
    }


def _diff_lines(path: Path) -> DiffLines:
    """A unified diff as (kind, text) lines, kind from the first character, so it can be coloured."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return {"lines": [], "truncated": False, "bytes": 0}
    shown = text[:DIFF_LIMIT]
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    lines = []
    for line in shown.splitlines():
        kind = "file" if line.startswith(("diff ", "+++", "---", "index ")) else kinds.get(line[:1], "ctx")
        lines.append((kind, line))
    return {"lines": lines, "truncated": len(text) > DIFF_LIMIT, "bytes": len(text)}


def artifact_file(run_id: str, name: str, *, project: Project | None = None) -> Path:
    """The file of a recorded artifact, refusing anything that resolves outside the run's
    ``artifacts/`` folder (``..`` in the name, an absolute name, a symlink pointing out)."""
    project = project or find_project()
    run = get_run(run_id, metrics=False, examples=False, project=project)
    if name not in {a["name"] for a in run["artifacts"]}:
        raise NotFound(f"run {run['id']} has no artifact '{name}'", fix="the run page lists its artifacts")
    folder = (project.run_dir(run["id"]) / "artifacts").resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise NotFound(f"artifact '{name}' of run {run['id']} is not a file inside the run's folder",
                       fix="the run page lists its artifacts")
    return path


def examples_page(run_id: str, *, correct: bool | None = None, search: str | None = None, page: int = 1,
                  per_page: int = 50, project: Project | None = None) -> ExamplesPage:
    """A page of a run's example records, filtered by correctness and by text."""
    project = project or find_project()
    run = get_run(run_id, metrics=False, examples=False, project=project)
    with current_store(project) as store, store.read() as conn:
        total, rows = example_page(conn, run["id"], correct=correct, search=search,
                                   offset=(max(1, page) - 1) * per_page, limit=per_page)
        counts = example_counts(conn, run["id"])
    return {"run": {k: run[k] for k in ("id", "name", "status")}, "counts": counts, "matched": total,
            "page": max(1, page), "pages": max(1, math.ceil(total / per_page)), "per_page": per_page,
            "correct": correct, "search": search, "examples": rows}
