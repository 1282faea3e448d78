"""History in: runs from MLflow, W&B offline folders and TensorBoard logdirs become hunchlab runs.

An imported run is an ordinary run (compare, plot, report and the dashboard read it
like any other) whose record says where it came from (``imported``), with the source's
params, metric histories (steps, values and times as the source kept them), summary,
tags, notes, status, start and end times, the git commit where the source knew it, and
artifacts by reference (their URI; nothing is copied). Importing is idempotent: a marker
per source run (``.hunch/imported/``) makes a second import of the same run a no-op.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hunchlab.compat.tensorboard import event_folders, read_logdir
from hunchlab.errors import BadInput, NotFound
from hunchlab.project import Project
from hunchlab.run_start import create_run

IMPORTED_DIR = "imported"
# hunchlab statuses for what the sources record: MLflow's, and W&B's exit (see the sources' modules).
ENDED = ("finished", "failed", "interrupted", "crashed")


@dataclass
class ImportedRun:
    """One run as a source kept it, in hunchlab's terms."""

    source: str  # mlflow | wandb | tensorboard
    source_id: str  # unique within the source: MLflow's run id, W&B's run id, a logdir's path
    location: str  # the tracking URI, offline folder or logdir it was read from
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    # key -> [(step, value, unix time or None)], in the order the source kept them
    metrics: dict[str, list[tuple[int, float, float | None]]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)  # run.example keyword arguments
    tags: list[str] | dict[str, str] = field(default_factory=list)
    notes: str | None = None
    status: str = "finished"
    error: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    commit: str | None = None
    artifacts: list[dict[str, Any]] = field(default_factory=list)  # {"path", "uri", "size"}
    extra: dict[str, Any] = field(default_factory=dict)  # what else the source says (experiment, project…)
    record: dict[str, Any] = field(default_factory=dict)  # fields of the run's own record (``models``: token usage)


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)  # new hunchlab run ids
    skipped: list[str] = field(default_factory=list)  # run ids of runs imported before
    points: int = 0
    examples: int = 0


def save_all(project: Project, runs: Iterable[ImportedRun]) -> ImportResult:
    """Record each source run once; a run imported before is left as it is."""
    result = ImportResult()
    for imported in runs:
        marker = _marker(project, imported)
        if marker.exists() and project.run_dir(marker.read_text().strip()).is_dir():
            result.skipped.append(marker.read_text().strip())
            continue
        run_id = _save(project, imported)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(run_id)
        result.imported.append(run_id)
        result.points += sum(len(v) for v in imported.metrics.values())
        result.examples += len(imported.examples)
    return result


def _marker(project: Project, imported: ImportedRun) -> Path:
    key = hashlib.sha1(f"{imported.source}\0{imported.source_id}".encode()).hexdigest()[:20]
    return project.hunch_dir / IMPORTED_DIR / imported.source / key


def _save(project: Project, imported: ImportedRun) -> str:
    if imported.status not in ENDED:
        raise BadInput(f"internal: import status {imported.status!r}")
    name = imported.name or f"{imported.source}-{imported.source_id[:8]}"
    seed = _seed(imported.params.get("seed"))
    meta: dict[str, Any] = {
        "name": name,
        # the seed is the run's seed, not a param: runs that differ only in it form one seed group
        "params": imported.params if seed is None else {k: v for k, v in imported.params.items() if k != "seed"},
        "seed": seed,
        "spec": {"name": name, "entry": f"imported:{imported.source}"},
        "imported": {"from": imported.source, "id": imported.source_id, "location": imported.location,
                     "at": time.time(), "artifacts": imported.artifacts, **imported.extra},
        "code": {"git": False, "commit": imported.commit,
                 "note": f"imported from {imported.source}: " + (f"commit {imported.commit[:12]}, no diff kept"
                                                                  if imported.commit else "code state unknown")},
        "tags": imported.tags,
        "notes": imported.notes,
        "created_at": imported.started_at or time.time(),
        **imported.record,
    }
    run = create_run(project, meta)
    for step, when, values in _rows(imported.metrics):
        run._write({"t": "log", "step": step, "time": when, "m": values})
    if imported.summary:
        run.summary.update(imported.summary)
    for example in imported.examples:
        run.example(**example)
    run.finish(imported.status, 0 if imported.status == "finished" else 1, imported.error, ended_at=imported.ended_at)
    return run.id


def _seed(value: Any) -> int | None:
    """A ``seed`` param as the run's seed: a whole number, or its digits as MLflow keeps every param as text."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


Row = tuple[int, float | None, dict[str, float]]  # (step, time, {key: value}): one log event


def _rows(metrics: dict[str, list[tuple[int, float, float | None]]]) -> list[Row]:
    """Points grouped into one event per (step, time) row, in order; a repeated (key, step) stays a second point."""
    rows: list[Row] = []
    index: dict[tuple[int, float | None], int] = {}
    for key, points in metrics.items():
        for step, value, when in points:
            slot = index.get((step, when))
            if slot is None or key in rows[slot][2]:
                index[(step, when)] = len(rows)
                rows.append((step, when, {key: value}))
            else:
                rows[slot][2][key] = value
    rows.sort(key=lambda r: (r[0], r[1] or 0.0))
    return rows


def import_tensorboard(project: Project, logdir: str) -> ImportResult:
    """A TensorBoard logdir as one run: every scalar series under it, keyed as ``compat.tensorboard`` names them."""
    root = Path(logdir).resolve()
    if not root.is_dir() or not event_folders(root):
        raise NotFound(f"no TensorBoard event files under {logdir}",
                       fix="give the folder SummaryWriter wrote to (it holds events.out.tfevents.* files)")
    series = read_logdir(root)
    times = [p.stat().st_mtime for f in event_folders(root) for p in f.glob("*tfevents*")]
    imported = ImportedRun(source="tensorboard", source_id=str(root), location=str(root), name=root.name,
                           metrics={k: [(s, v, None) for s, v in pts] for k, pts in series.items()},
                           started_at=min(times), ended_at=max(times))
    return save_all(project, [imported])
