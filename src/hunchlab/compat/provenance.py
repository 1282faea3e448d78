"""Where a run's numbers came from, in the lines ``hunch show`` prints under the run's header.

A run may have been imported (from MLflow, W&B, TensorBoard, inspect_ai), or have had its
metrics captured from what the entry printed, from a TensorBoard folder, through the wandb
stand-in or from eval logs, rather than logged with ``run.log``; the reader should not have
to guess. A run that called models says how many tokens it used and what they cost.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from hunchlab.models.usage import describe

NO_POINTS_HINT = "name them in the spec with metrics_from: (see docs/bring-your-code.md)"


def provenance_lines(run: Mapping[str, Any]) -> list[str]:
    """``imported from …``, ``captured …``, ``tags …``, ``notes …`` lines for a run record (what applies)."""
    lines = []
    imported = run.get("imported")
    if imported:
        when = datetime.datetime.fromtimestamp(imported["at"]).strftime("%Y-%m-%d %H:%M")
        refs = imported.get("artifacts") or []
        lines.append(f"imported from {imported['from']} (run {imported['id']} at {imported['location']}) on {when}"
                     + (f"; {len(refs)} artifact(s) by reference" if refs else ""))
    for source, info in (run.get("captured") or {}).items():
        lines.append(f"captured from {source}: {capture_text(info)}")

    lines += [f"model {line}" for line in describe(run.get("models") or {})]
    if run.get("n_outputs"):
        shown = ", ".join(run["outputs"][:3]) + (" …" if run["n_outputs"] > 3 else "")
        lines.append(f"outputs: {run['n_outputs']} file(s) written into the project ({shown}): not captured as code")
    if run.get("tags"):
        tags = run["tags"]
        lines.append("tags: " + ", ".join(tags if isinstance(tags, list) else (f"{k}={v}" for k, v in tags.items())))
    if run.get("notes"):
        lines.append(f"notes: {run['notes']}")
    return lines


def capture_text(info: dict[str, Any]) -> str:
    """``1,200 points (iter N: loss X: 1,000; key: value: 200)``, or the note when nothing was counted."""
    if "points" not in info:
        return str(info.get("note", "on"))
    if not info["points"]:
        return f"no numbers in {info.get('lines', 0):,} lines; {NO_POINTS_HINT}"
    by = info.get("patterns") or {}
    detail = "; ".join(f"{name}: {n:,}" for name, n in by.items() if n)
    return f"{info['points']:,} points" + (f" ({detail})" if detail else "") + (
        f" — {info['note']}" if info.get("note") else "")
