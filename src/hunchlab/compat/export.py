"""Data out: ``hunch export SELECTOR --format parquet|csv|jsonl`` writes three tables into a folder.

- ``runs``: one row per run: id, name, status, seed, group, question, times, where it
  was imported from, then ``param.<dotted key>`` and ``metric.<summary key>`` columns;
- ``metrics``: every logged point: run_id, key, step, value, time;
- ``examples``: every per-example record: run_id, id, input, output, target, correct,
  score, fields (inputs, outputs and fields that are not text are JSON text).

Parquet goes through pyarrow (an optional extra: ``pip install 'hunchlab[export]'``).
A column whose values mix types (a param that is a number in one run and text in
another) is written as text in Parquet, which needs one type per column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hunchlab import run_records
from hunchlab.current import current_store
from hunchlab.errors import BadInput, MissingPackage
from hunchlab.project import Project
from hunchlab.run_records import flatten
from hunchlab.selectors import resolve

FORMATS = ("parquet", "csv", "jsonl")
RUN_FIELDS = ("id", "name", "status", "seed", "group_key", "question", "created_at", "ended_at")


def select_run_ids(project: Project, selectors: Sequence[str]) -> list[str]:
    """The runs the selectors name (every run for ``all``), any status, oldest first."""
    from hunchlab import readsql as q  # lazy: loads numpy only when called

    with current_store(project) as store, store.read() as conn:
        runs = q.all_runs(conn)
        if list(selectors) == ["all"]:
            ids = [r["id"] for r in runs]
        else:
            ids = [r["id"] for s in resolve(selectors, runs, store.resolve_run) for g in s.groups for r in g.runs]
    order = {r["id"]: r["seq"] for r in runs}
    return sorted(dict.fromkeys(ids), key=order.__getitem__)


def export(project: Project, selectors: Sequence[str], fmt: str, out_dir: Path) -> dict[str, int]:
    """Write runs, metrics and examples of the selected runs; returns the rows written per table."""
    if fmt not in FORMATS:
        raise BadInput(f"unknown export format '{fmt}'", fix=f"use one of: {', '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()
    tables: dict[str, list[dict[str, Any]]] = {"runs": [], "metrics": [], "examples": []}
    for run_id in select_run_ids(project, selectors):
        run = run_records.get_run(run_id, project=project)
        tables["runs"].append(_run_row(run))
        tables["metrics"].extend({"run_id": run_id, "key": key, **point}
                                 for key, points in run_records.histories(run).items() for point in points)
        tables["examples"].extend(_example_row(run_id, e) for e in run.get("examples", []))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        WRITERS[fmt](out_dir / f"{name}.{fmt}", rows)
    return {name: len(rows) for name, rows in tables.items()}


def _run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    row = {k: run.get(k) for k in RUN_FIELDS}
    row["imported_from"] = (run.get("imported") or {}).get("from")
    row.update({f"param.{k}": v for k, v in flatten(run["params"]).items()})
    row.update({f"metric.{k}": v for k, v in run["summary"].items()})
    return row


def _example_row(run_id: str, e: Mapping[str, Any]) -> dict[str, Any]:
    def text(v: Any) -> Any:
        return v if v is None or isinstance(v, str) else json.dumps(v)

    return {"run_id": run_id, "id": e["id"], "input": text(e["input"]), "output": text(e["output"]),
            "target": text(e["target"]), "correct": e["correct"], "score": e["score"],
            "fields": json.dumps(e["fields"]) if e["fields"] else None}


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_columns(rows))
        writer.writeheader()
        writer.writerows({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in r.items()} for r in rows)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w") as f:
        f.writelines(json.dumps(r, default=str) + "\n" for r in rows)


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    pa, pq = _pyarrow()
    columns = {}
    for name in _columns(rows):
        values = [r.get(name) for r in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds - {int, float} and len(kinds) > 1 or kinds & {dict, list}:
            values = [v if v is None else v if isinstance(v, str) else json.dumps(v) for v in values]
        columns[name] = values
    pq.write_table(pa.table(columns) if rows else pa.table({}), path)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingPackage("--format parquet needs pyarrow",
                             fix="pip install 'hunchlab[export]', or use --format csv") from None
    return pa, pq


WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}
