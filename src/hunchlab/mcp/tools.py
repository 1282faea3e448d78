"""The tools of ``hunch mcp`` that read: each a thin shell over the library call its CLI command makes.

Every function takes the ``Caller`` (project, agent, budget) first and returns plain
JSON-able data; ``hunchlab.mcp.server`` registers them as MCP tools, with their
docstrings as the descriptions an agent reads. The tools that start or write things
are in ``hunchlab.mcp.actions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hunchlab import run_records, triage
from hunchlab.blocks import render_markdown
from hunchlab.compare_text import compare_blocks
from hunchlab.mcp.guard import Caller, inside
from hunchlab.predict import calibration_by_agent

SHOWN_METRICS = 12  # curves in one show_run answer: enough for a training run, small enough for a context window
LOG_LINES = 20


def runs(c: Caller, where: list[str] | None = None, by: str | None = None, limit: int = 50) -> dict[str, Any]:
    """List runs, newest first, with filters (like `hunch runs`).

    where: KEY OP VALUE filters on params, summary metrics or fields (status, name, spec, question, seed,
    agent), e.g. ["lr=3e-4", "acc>0.8", "status=finished"]. by: "you" (the person), "agent" (any agent) or
    one agent's name. Each run has its id, status, params, summary metrics, question, seed group and agent.
    """
    shown, total = run_records.runs_page(where or [], limit=limit or None, by=by, project=c.project)
    return {"total": total, "shown": len(shown), "runs": shown}


def show_run(c: Caller, run: str, curve_points: int = 10) -> dict[str, Any]:
    """One run: status, config (params, seed, spec), code state (commit, dirty diff), summary metrics, each
    logged metric's last value and its curve thinned to about 4 x curve_points points (first, last, min and max
    per stretch, so spikes survive), predictions with their scores, and the last lines of stdout/stderr.

    run: an id, a unique prefix of one, or its number.
    """
    from hunchlab.metric_series import metric_series  # lazy: loads sqlalchemy only when called

    record = run_records.get_run(run, metrics=False, examples=False, project=c.project)
    env = record.pop("env", None) or {}
    record["env"] = {k: v for k, v in env.items() if k != "packages"}  # hundreds of lines an agent rarely needs
    keys = list(record["metrics"])[:SHOWN_METRICS]
    curves = {}
    for key in keys:
        series = metric_series(record["id"], key, buckets=max(1, curve_points), project=c.project)
        curves[key] = {"step": series["x"], "value": series["y"], "downsampled": series["downsampled"]}
    return {"run": record, "curves": curves, "curves_left_out": list(record["metrics"])[SHOWN_METRICS:],
            "logs": run_records.log_tail(c.project, record["id"], LOG_LINES)}


def compare(c: Caller, selectors: list[str], metrics: list[str] | None = None, flips: int = 5) -> dict[str, Any]:
    """Compare runs or seed groups honestly (like `hunch compare`): the config that differs, the code, and per
    metric each side's mean over seeds with its interval, the difference with Welch's interval, a verdict and
    how many seeds it would take to tell; on shared examples a paired test and the flips.

    selectors: two or more of a run id, a seed group id, or filters in one string ("spec=exp lr=3e-4").
    Read "text" first: it is the comparison as a person sees it, verdicts included; "result" holds the numbers.
    """
    from hunchlab import compare as lib  # lazy: loads numpy only when called

    result = lib.compare(selectors, metrics=metrics or (), flips=flips, project=c.project)
    title = " vs ".join(f"{s['label']} ({s['description']})" for s in result["sides"])
    return {"text": render_markdown(title, compare_blocks(result), c.project.root), "result": result}


def plot(c: Caller, selectors: list[str], metrics: list[str], x: str = "step", out: str | None = None) -> dict[str, Any]:
    """Draw runs or seed groups (like `hunch plot`): learning curves with a band over seeds (x = step or time), or
    a metric against a param (x = param or its name). Returns the figure's path, and the CSV of every number
    drawn (path and text) so the figure can be read without looking at it.

    out: a .png, .pdf or .svg path inside the project (default figures/<metrics>-by-<x>.png).
    """
    from hunchlab.report import default_figure  # lazy: loads numpy only when called
    from hunchlab.report import plot as lib_plot  # lazy: loads numpy only when called

    target = inside(c.project, out or str(default_figure(metrics, x)), what="figure")
    target.parent.mkdir(parents=True, exist_ok=True)
    result = lib_plot(selectors, metrics=metrics, x=x, outs=[target], project=c.project)
    for f in result["files"]:
        f["csv"] = Path(f["data"]).read_text(encoding="utf-8")
    return result


def examples(c: Caller, run: str, where: list[str] | None = None, limit: int = 20) -> dict[str, Any]:
    """A run's per-example records (like `hunch examples`): id, correct, score, input, output, target, fields.

    where: filters such as ["correct=false", "topic=algebra", "output~units"] (~ means contains).
    """
    return triage.list_examples(run, where or [], limit=limit or None, project=c.project)


def categories(c: Caller, run: str, vs: str | None = None) -> dict[str, Any]:
    """Failure categories of a run, largest first (like `hunch categories`): counts, shares of the tagged, and the
    estimated share of all failures with its interval. vs: another run; says how many of each category it gets
    right (did the fix shrink the category it aimed at?)."""
    return triage.categories(run, vs=vs, project=c.project).to_dict()


def calibration(c: Caller, kind: str | None = None) -> dict[str, Any]:
    """Track records side by side (like `hunch calibration --by agent`): the person's ("you") and each agent's,
    each with Brier and log score against always-50% and the base rate, a reliability table and a verdict.
    kind: only "run", "forecast" or "read" predictions."""
    reports = calibration_by_agent(kind=kind, project=c.project)
    return {"you_are": c.agent, "by": {who: r.to_dict() for who, r in reports.items()}}


def journal(c: Caller, search: str | None = None, limit: int = 20) -> dict[str, Any]:
    """Journal entries, newest first (or best match for search): what was planned, found, surprising, decided."""
    from hunchlab import journal as lib  # local: the name is bound differently elsewhere in this module

    found = lib.search(search, project=c.project) if search else lib.entries(project=c.project)
    return {"total": len(found), "entries": found[:limit]}


def tree(c: Caller) -> dict[str, Any]:
    """The theory-of-change tree (goal → project → question), each node with its why, runs, open predictions."""
    from hunchlab import tree as lib  # local: the name is bound differently elsewhere in this module

    return {"nodes": lib.tree(project=c.project)}


def budget(c: Caller) -> dict[str, Any]:
    """What this session may still start (runs and CPU minutes), and the name its work is recorded under."""
    return {"agent": c.agent, **c.budget.to_dict()}
