"""``hunch import wandb PATH``: W&B offline run folders (``wandb/offline-run-*``) as hunchlab runs.

Everything comes from the run's ``.wandb`` file (``compat.wandb_file``): the run record
(name, project, config, notes, tags, start time, git commit), history rows (each at
its ``_step``, timed by its ``_timestamp``), summary and config updates, and the exit
record (exit code 0: finished; another: failed; none: crashed, as when the process
died). W&B's own keys (``_step``, ``_runtime``, ``_wandb``…) are left out. A logged
``wandb.Table`` is read from its ``media/table/*.table.json`` file into per-example
records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hunchlab.compat.importers import ImportedRun, ImportResult, save_all
from hunchlab.compat.wandb_file import wandb_records
from hunchlab.compat.wandb_values import Table, table_examples
from hunchlab.errors import NotFound
from hunchlab.project import Project


def import_wandb(project: Project, path: str) -> ImportResult:
    """Import the offline run at ``path``, or every run folder under it (e.g. ``./wandb``)."""
    root = Path(path)
    files = sorted(root.glob("run-*.wandb")) or sorted(root.glob("**/run-*.wandb"))
    if not files:
        raise NotFound(f"no W&B run files (run-*.wandb) under {path}",
                       fix="give an offline run folder (wandb/offline-run-…) or the wandb/ folder holding them")
    return save_all(project, (_read_run(f) for f in files))


def _items(updates: Any) -> Iterator[tuple[list[str], Any]]:
    """(key path, value) of a W&B record's update items (``key`` or ``nested_key``, ``value_json``)."""
    for item in updates:
        keys = [item.key] if item.key else list(item.nested_key)
        yield keys, json.loads(item.value_json)


def _read_run(path: Path) -> ImportedRun:
    imported = ImportedRun(source="wandb", source_id=path.stem.removeprefix("run-"), location=str(path.parent),
                           status="crashed", error="the W&B run has no exit record (its process died)")
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            _run_record(imported, record.run)
        elif kind == "config":
            imported.params.update(_config(record.config.update))
        elif kind == "history":
            _history(imported, record.history, path.parent / "files")
        elif kind == "summary":
            for key, value in _nest(record.summary.update).items():
                if not key.startswith("_") and not (isinstance(value, dict) and "_type" in value):
                    imported.summary.update(_flat(key, value))
        elif kind == "exit":
            code = record.exit.exit_code
            imported.status, imported.error = ("finished", None) if code == 0 else ("failed", f"exit code {code}")
            if imported.started_at is not None:
                imported.ended_at = imported.started_at + record.exit.runtime
    return imported


def _run_record(imported: ImportedRun, run: Any) -> None:
    imported.name = run.display_name or None
    imported.params.update(_config(run.config.update))
    imported.notes = run.notes or None
    imported.tags = list(run.tags)
    imported.started_at = run.start_time.seconds + run.start_time.nanos / 1e9 if run.HasField("start_time") else None
    imported.commit = run.git.commit or None if run.HasField("git") else None
    imported.extra = {"project": run.project or None, "entity": run.entity or None, "group": run.run_group or None,
                      "job_type": run.job_type or None, "host": run.host or None}


def _config(updates: Any) -> dict[str, Any]:
    """Config items, without W&B's own ``_wandb`` block; ``{"value": v}`` wrappers (older files) unwrapped."""
    out = {}
    for keys, value in _items(updates):
        if keys[0].startswith("_wandb"):
            continue
        if isinstance(value, dict) and set(value) <= {"value", "desc"} and "value" in value:
            value = value["value"]
        out[".".join(keys)] = value
    return out


def _nest(updates: Any) -> dict[str, Any]:
    """Update items as one nested dict: a logged Table arrives as items under its key (``_type``, ``path``…)."""
    row: dict[str, Any] = {}
    for keys, value in _items(updates):
        node = row
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return row


def _flat(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {key: value}
    return {k: v for sub, inner in value.items() for k, v in _flat(f"{key}.{sub}", inner).items()}


def _history(imported: ImportedRun, history: Any, files: Path) -> None:
    row = _nest(history.item)
    step, when = history.step.num, row.get("_timestamp")
    for key, value in row.items():
        if key.startswith("_"):
            continue
        if isinstance(value, dict) and value.get("_type") == "table-file":
            table = json.loads((files / value["path"]).read_text())
            imported.examples.extend(table_examples(key, Table(columns=table["columns"], data=table["data"])))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            imported.metrics.setdefault(key, []).append((step, float(value), when))
