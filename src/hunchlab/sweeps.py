"""Reading sweeps and ablations back: the list, a sweep's table, an ablation's table and plot.

The library calls behind ``hunch sweeps``, ``hunch sweep show`` and ``hunch ablate ID``;
they return plain data. A trial counts by its latest attempt (``resume`` may have run
it again), and only finished runs enter a mean: a pruned, failed or crashed trial is
counted and shown, never averaged in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeGuard

from hunchlab.current import current_store
from hunchlab.errors import NotFound, WrongState, did_you_mean
from hunchlab.metric_info import metric_info
from hunchlab.project import Project


@contextmanager
def _store(project: Project | None, wait: bool = False) -> Iterator[Any]:
    """The store, current, with dead drivers' sweeps marked, so what is shown is current.

    ``wait``: the sweep that just ran shows its table, waiting out a restarting team store."""
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    with current_store(project, wait=wait) as store:
        with store.write() as conn:
            q.mark_dead_drivers(conn)
        yield store


def list_sweeps(*, project: Project | None = None) -> list[dict[str, Any]]:
    """Every sweep and ablation, newest first, with how its trials stand (latest attempt of each)."""
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    with _store(project) as store, store.read() as conn:
        out = []
        for sweep in q.list_sweeps(conn):
            sweep["counts"] = _counts(q.trials(conn, sweep["id"]))
            sweep.pop("spec")
            sweep.pop("code")
            out.append(sweep)
    return out


def _load(ref: str, project: Project | None, wait: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from hunchlab.store import sweeps as q  # lazy: loads sqlalchemy only when called

    with _store(project, wait) as store, store.read() as conn:
        sweep = q.get_sweep(conn, q.resolve_sweep(conn, ref))
        return sweep, q.trials(conn, sweep["id"])


def _counts(trials: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in trials:
        status = t["runs"][-1]["status"] if t["runs"] else "not started"
        counts[status] = counts.get(status, 0) + 1
    return counts


def _metric_and_goal(trials: list[dict[str, Any]], metric: str | None,
                     sweep: dict[str, Any]) -> tuple[str | None, str | None, bool]:
    """The metric to rank by (asked for, else the sweep's, else the first numeric summary metric of a
    finished trial), its goal, and whether that goal was only guessed from the metric's name."""
    from hunchlab.execute.plan import guess_goal  # lazy: loads pydantic, yaml only when called

    finished = [t["runs"][-1]["summary"] for t in trials if t["runs"] and t["runs"][-1]["status"] == "finished"]
    known = list(dict.fromkeys(k for s in finished for k, v in s.items() if _number(v)))
    chosen = metric or sweep["metric"] or (known[0] if known else None)
    if chosen and finished and chosen not in known:
        hint = did_you_mean(chosen, known)
        raise NotFound(f"no finished trial of {sweep['id']} has a summary metric '{chosen}'{hint}",
                       fix=f"summary metrics: {', '.join(known) or 'none'}; pick one with --metric")
    if chosen is None:
        return None, None, False
    if sweep["goal"] and chosen == sweep["metric"]:
        return chosen, sweep["goal"], False
    declared = ((sweep.get("spec") or {}).get("metrics") or {}).get(chosen) or {}
    if declared.get("goal"):
        return chosen, declared["goal"], False
    return chosen, guess_goal(chosen), True


def _bounds(sweep: dict[str, Any], metric: str | None, rows: list[dict[str, Any]]) -> tuple[float, float] | None:
    """The metric's range (declared in the spec's ``metrics:``, or [0, 1] for a proportion): intervals stay in it."""
    if metric is None:
        return None
    values = [v for r in rows for v in r["values"]]
    return metric_info(metric, [(sweep.get("spec") or {}).get("metrics")], values).bounds


def _number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _groups(trials: list[dict[str, Any]], metric: str | None) -> list[dict[str, Any]]:
    """One row per config: its finished values of ``metric``, run ids and how its trials stand."""
    rows: dict[int, dict[str, Any]] = {}
    for t in trials:
        row = rows.setdefault(t["config"], {"config": t["config"], "label": t["label"], "overrides": t["overrides"],
                                            "planned": 0, "values": [], "runs": [], "statuses": {}})
        row["planned"] += 1
        latest = t["runs"][-1] if t["runs"] else None
        status = latest["status"] if latest else "not started"
        row["statuses"][status] = row["statuses"].get(status, 0) + 1
        if latest:
            row["runs"].append(latest["id"])
            value = latest["summary"].get(metric) if metric else None
            if status == "finished" and _number(value):
                row["values"].append(float(value))
    return list(rows.values())


def _summarise(row: dict[str, Any], bounds: tuple[float, float] | None) -> dict[str, Any]:
    from hunchlab.intervals import mean_ci  # lazy: loads numpy only when called

    values = row.pop("values")
    row["n"] = len(values)
    ci = mean_ci(values, bounds=bounds) if values else None
    row.update(mean=ci.mean if ci else None, lo=ci.lo if ci else None, hi=ci.hi if ci else None,
               std=ci.std if ci else None)
    row["_values"] = values
    return row


SWEEP_COLUMNS = ("#", "n", "95% CI", "notes", "run")


def sweep_columns(keys: list[str], metric: str) -> list[str]:
    """The sweep table's headers: ``#``, the swept params, n, the metric, its CI, notes, run — never two alike.

    A param named like a fixed column (``n``, ``run``) or like the metric is shown as
    ``param n``; a metric named like a fixed column as ``mean n``.
    """
    fixed = set(SWEEP_COLUMNS) | {metric}
    params = [f"param {k}" if k in fixed else k for k in keys]
    shown = metric if metric not in SWEEP_COLUMNS else f"mean {metric}"
    return ["#", *params, "n", shown, "95% CI", "notes", "run"]


def sweep_table(ref: str, *, metric: str | None = None, project: Project | None = None,
                wait: bool = False) -> dict[str, Any]:
    """A sweep as a table: one row per config, mean and 95% t-interval over seeds of ``metric``, best first."""
    sweep, trials = _load(ref, project, wait)
    metric, goal, guessed = _metric_and_goal(trials, metric, sweep)
    groups = _groups(trials, metric)
    bounds = _bounds(sweep, metric, groups)
    rows = [_summarise(r, bounds) for r in groups]
    sign = -1.0 if goal == "max" else 1.0
    rows.sort(key=lambda r: (r["mean"] is None, sign * r["mean"] if r["mean"] is not None else 0.0))
    for r in rows:
        r.pop("_values")
    return {"sweep": _public(sweep), "metric": metric, "goal": goal, "goal_guessed": guessed, "bounds": bounds,
            "counts": _counts(trials), "rows": rows, "best": rows[0] if rows and rows[0]["mean"] is not None else None}


def ablation_table(ref: str, *, metric: str | None = None, project: Project | None = None) -> dict[str, Any]:
    """Each variant against the full config: mean ± CI, the difference with its interval, and a verdict.

    Verdicts come from ``verdicts.compare_groups`` (Welch t) with Holm-adjusted p-values
    over all variants, so testing many components does not make one look significant by
    chance. Rows after the full config are sorted by harm: the variant whose removal
    costs most comes first.
    """
    from hunchlab.multiple_comparisons import holm  # lazy: loads numpy only when called
    from hunchlab.verdicts import compare_groups  # lazy: loads numpy only when called

    sweep, trials = _load(ref, project)
    if sweep["kind"] != "ablation":
        raise WrongState(f"{sweep['id']} is a sweep, not an ablation", fix=f"hunch sweep show {sweep['id']}")
    metric, goal, guessed = _metric_and_goal(trials, metric, sweep)
    groups = _groups(trials, metric)
    bounds = _bounds(sweep, metric, groups)
    rows = [_summarise(r, bounds) for r in groups]
    full, variants = rows[0], rows[1:]
    drafts = {r["label"]: compare_groups(full["_values"], r["_values"], metric or "", goal == "max",
                                         labels=("full", r["label"]), bounds=bounds)
              for r in variants if full["_values"] and r["_values"]}
    pvalues = {label: c.p for label, c in drafts.items() if c.p is not None}
    adjusted = dict(zip(pvalues, holm(list(pvalues.values())), strict=True)) if pvalues else {}
    for r in variants:
        c = drafts.get(r["label"])
        if c is not None and r["label"] in adjusted:
            c = compare_groups(full["_values"], r["_values"], metric or "", goal == "max", labels=("full", r["label"]),
                               p_adjusted=adjusted[r["label"]], bounds=bounds)
        r.update(delta=c.diff if c else None, delta_lo=c.lo if c else None, delta_hi=c.hi if c else None,
                 p=c.p if c else None, p_adjusted=c.p_adjusted if c else None,
                 verdict=c.verdict if c else "no finished runs on one side: nothing to compare")
    harm = 1.0 if goal == "max" else -1.0
    variants.sort(key=lambda r: (r["delta"] is None, harm * r["delta"] if r["delta"] is not None else 0.0))
    for r in rows:
        r.pop("_values")
    full.update(delta=None, delta_lo=None, delta_hi=None, p=None, p_adjusted=None, verdict="reference")
    return {"sweep": _public(sweep), "metric": metric, "goal": goal, "goal_guessed": guessed,
            "counts": _counts(trials), "rows": [full, *variants]}


def ablation_plot(ref: str, out: str | Path, *, metric: str | None = None, project: Project | None = None) -> Any:
    """The ablation table as a bar chart with 95% error bars (plus its CSV and script); the hook for `hunch plot`."""
    from hunchlab.plots import bar_chart  # lazy: loads numpy only when called

    table = ablation_table(ref, metric=metric, project=project)
    bars = [{"label": r["label"], "mean": r["mean"], "lo": r["lo"], "hi": r["hi"]} for r in table["rows"]
            if r["mean"] is not None]
    title = f"{table['sweep']['id']}: {table['sweep']['name']}"
    return bar_chart(bars, out, title=title, ylabel=f"{table['metric']} (mean ± 95% CI)")


def _public(sweep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sweep.items() if k not in ("spec", "code", "host", "pid", "pid_start")}
