"""A sweep as the dashboard draws it: a metric against each swept param, and every config as
one line across all of them (parallel coordinates), the two views W&B users reach for first.

The runs are a ``hunch sweep``'s (by its id) or any filtered set of runs (``where``). A
config is a seed group; a swept param is one whose value differs between configs. As in
``hunch sweep show``, only finished runs with a numeric value of the metric enter a mean;
the rest are counted. Each config carries its runs' values, and from BAND_FROM seeds
on a 95% t-interval of the mean (below that the seeds themselves are drawn: see
``hunchlab.overlay``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypedDict

from hunchlab.current import current_store
from hunchlab.curves import BAND_FROM
from hunchlab.errors import BadInput, did_you_mean
from hunchlab.intervals import mean_ci
from hunchlab.project import Project
from hunchlab.run_records import filter_runs, flatten

MAX_AXES = 8  # swept params drawn; past this a parallel-coordinates chart 1280 px wide is unreadable
LOG_SPAN = 100.0  # a positive numeric param whose max/min reaches this is drawn on a log axis (lr, weight decay)


class Axis(TypedDict):
    name: str
    kind: str  # "number" or "category"
    log: bool
    values: list[Any]  # distinct values, in axis order


class Config(TypedDict):
    group: str
    label: str
    params: dict[str, Any]
    n: int
    mean: float
    lo: float | None
    hi: float | None
    values: list[float]
    runs: list[str]


def sweep_view(*, sweep: str | None = None, where: Sequence[str] = (), metric: str | None = None,
               project: Project | None = None) -> dict[str, Any]:
    """The configs of the selected runs with their params and ``metric`` (mean, interval, values)."""
    from hunchlab.execute.plan import guess_goal  # lazy: loads pydantic, yaml only when called
    from hunchlab.runs_table import cached_runs, seed_groups  # lazy: loads sqlalchemy only when called
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    with current_store(project) as store:
        everything = cached_runs(store)
        with store.read() as conn:
            sweeps = [{"id": s["id"], "name": s["name"], "kind": s["kind"]} for s in q.list_sweeps(conn)]
            chosen = _sweep(conn, sweep) if sweep else None
    runs = filter_runs(everything, list(where))
    if chosen is not None:
        runs = [r for r in runs if r["id"] in chosen["runs"]]
    finished = [r for r in runs if r["status"] == "finished"]
    metrics = list(dict.fromkeys(k for r in finished for k, v in r["summary"].items() if _number(v)))
    metric = metric or (chosen or {}).get("metric") or (metrics[0] if metrics else None)
    if metric is not None and metrics and metric not in metrics:
        raise BadInput(f"metric={metric[:60]!r}: no finished run has it{did_you_mean(metric, metrics)}",
                       fix=f"summary metrics: {', '.join(metrics[:20])}")
    counted = [r for r in finished if metric and _number(r["summary"].get(metric))]
    groups = seed_groups(counted)
    axes = _axes([g[0] for g in groups])
    configs = [_config(g, metric or "", axes) for g in groups]
    goal = guess_goal(metric) if metric else None
    configs.sort(key=lambda c: c["mean"], reverse=goal == "max")
    return {"sweep": sweep and (chosen or {}).get("id"), "sweeps": sweeps, "where": list(where), "metric": metric,
            "goal": goal, "metrics": metrics, "axes": axes, "configs": configs, "runs": len(runs),
            "counted": len(counted), "min_seeds_for_interval": BAND_FROM}


def _sweep(conn: Any, ref: str) -> dict[str, Any]:
    """A sweep's id, ranking metric and every run of its trials (read only)."""
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    sweep_id = q.resolve_sweep(conn, ref)
    record = q.get_sweep(conn, sweep_id)
    ids = {run["id"] for trial in q.trials(conn, sweep_id) for run in trial["runs"]}
    return {"id": sweep_id, "metric": record["metric"], "runs": ids}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _axes(firsts: list[dict[str, Any]]) -> list[Axis]:
    """The params whose value differs between configs, numeric or categorical, first seen first."""
    values: dict[str, list[Any]] = {}
    for r in firsts:
        for k, v in flatten(r["params"]).items():
            values.setdefault(k, []).append(v)
    axes: list[Axis] = []
    for name, seen in values.items():
        distinct = list(dict.fromkeys(repr(v) for v in seen))
        if len(distinct) < 2 or len(seen) < len(firsts):
            continue  # the same everywhere, or missing from some configs: not an axis of this sweep
        if all(_number(v) for v in seen):
            numbers = sorted({float(v) for v in seen})
            log = numbers[0] > 0 and numbers[-1] / numbers[0] >= LOG_SPAN
            axes.append({"name": name, "kind": "number", "log": log, "values": numbers})
        else:
            axes.append({"name": name, "kind": "category", "log": False,
                         "values": sorted({_text(v) for v in seen})})
        if len(axes) == MAX_AXES:
            break
    return axes


def _text(v: Any) -> str:
    return v if isinstance(v, str) else repr(v)


def _config(runs: list[dict[str, Any]], metric: str, axes: list[Axis]) -> Config:
    values = [float(r["summary"][metric]) for r in runs]
    params = flatten(runs[0]["params"])
    shown = {a["name"]: (float(params[a["name"]]) if a["kind"] == "number" else _text(params[a["name"]]))
             for a in axes}
    mean, lo, hi = sum(values) / len(values), None, None
    if len(values) >= BAND_FROM:
        ci = mean_ci(values)
        mean, lo, hi = ci.mean, ci.lo, ci.hi
    label = " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
    return {"group": runs[0]["group_key"] or runs[0]["id"], "label": label or runs[0]["id"], "params": shown,
            "n": len(values), "mean": mean, "lo": lo, "hi": hi, "values": values, "runs": [r["id"] for r in runs]}
