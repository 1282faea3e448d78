"""Figures and shareable pages: ``hunch plot`` and ``hunch report``.

A report is a list of blocks (``hunchlab.blocks``) rendered to Markdown or one self-contained
HTML page, with ``hunch compare``'s own blocks (``hunchlab.compare_text``) in it, so the terminal
and a report never disagree. Figures come from ``hunchlab.plots``, which writes the CSV of the
numbers drawn and a standalone script beside each figure.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab import plots
from hunchlab.blocks import Block, render_html, render_markdown
from hunchlab.compare import compare_groups_of
from hunchlab.compare_analysis import value_of
from hunchlab.compare_sides import config_diff, describe, labels_for, notes_of
from hunchlab.compare_text import compare_blocks, fmt_num, interval, seeds_text
from hunchlab.current import current_store
from hunchlab.errors import BadInput, NotFound, did_you_mean
from hunchlab.intervals import mean_ci
from hunchlab.project import Project, find_project
from hunchlab.run_records import flatten
from hunchlab.selectors import Group, Selection, group_runs, plural, resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from hunchlab.shapes import ComparisonRecord

X_BUILTIN = ("step", "time")
MAX_CURVE_PANELS = 3


# ============================================================ plot


def plot(
    selectors: Sequence[str],
    *,
    metrics: Sequence[str],
    x: str = "step",
    smooth: int = 0,
    band: str = "ci",
    outs: Sequence[str | Path] = (),
    project: Project | None = None,
) -> dict[str, Any]:
    """Draw the selected groups: learning curves (x = step or time) or a metric against a param.

    Returns ``{"files": [{"figure", "data", "script"}], "notes": [...]}``.
    """
    from hunchlab import readsql as q  # local: the name is bound differently elsewhere in this module

    project = project or find_project()
    with current_store(project) as store, store.read() as conn:
        selections = resolve(selectors, q.all_runs(conn), store.resolve_run)
        pairs = _unique_groups(selections)
        ids = [r["id"] for _, g in pairs for r in g.runs]
        last = q.last_values(conn, ids)
        _check_metrics(metrics, [g for _, g in pairs], last, x)
        history = q.histories(conn, ids, list(metrics)) if x in X_BUILTIN else {}
    notes = notes_of(selections)
    paths = [Path(o) for o in outs] or [default_figure(metrics, x)]
    files = [_draw(pairs, metrics, x, smooth, band, out, history, last) for out in paths]
    return {"files": [{k: str(v) for k, v in f.items()} for fs in files for f in fs], "notes": notes}


def default_figure(metrics: Sequence[str], x: str) -> Path:
    """Where ``hunch plot`` draws when no ``--out`` is given: ``figures/<metrics>-by-<x>.png``."""
    return Path("figures") / f"{_slug('-'.join(metrics))}-by-{_slug(x)}.png"


def _unique_groups(selections: Sequence[Selection]) -> list[tuple[str, Group]]:
    """Every group the selectors name, once, in the order named."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for s in selections:
        for g in s.groups:
            key = tuple(r["id"] for r in g.runs)
            if key not in seen:
                seen.add(key)
                out.append((s.selector, g))
    return out


def _check_metrics(metrics: Sequence[str], groups: Sequence[Group], last: dict[str, dict[str, float]], x: str) -> None:
    """A metric must exist, and curves need a logged one (a summary metric has one value per run)."""
    if not metrics:
        raise BadInput("name a metric to plot with --metric", fix=f"metrics: {_known(groups, last)}")
    logged = {k for g in groups for r in g.runs for k in last.get(r["id"], {})}
    summary = {k for g in groups for r in g.runs for k in r["summary"]}
    for m in metrics:
        if m not in logged | summary:
            raise NotFound(f"no metric '{m}'{did_you_mean(m, logged | summary)}",
                           fix=f"metrics: {_known(groups, last)}")
        if x in X_BUILTIN and m not in logged:
            raise BadInput(f"'{m}' is a summary metric (one value per run), not logged per step",
                           fix="plot it against a param (--x PARAM), or plot a logged metric: "
                               + (", ".join(sorted(logged)) or "none"))


def _known(groups: Sequence[Group], last: dict[str, dict[str, float]]) -> str:
    logged = sorted({k for g in groups for r in g.runs for k in last.get(r["id"], {})})
    summary = sorted({k for g in groups for r in g.runs for k in r["summary"]})
    return f"logged per step: {', '.join(logged) or 'none'}; summary: {', '.join(summary) or 'none'}"


def _draw(pairs: list[tuple[str, Group]], metrics: Sequence[str], x: str, smooth: int, band: str, out: Path,
          history: dict[str, Any], last: dict[str, dict[str, float]]) -> list[dict[str, Path]]:
    groups = [g for _, g in pairs]
    labels = labels_for(pairs)
    if x in X_BUILTIN:
        series = [{"label": label, "runs": [_curves(r, metrics, x, history) for r in g.runs]}
                  for label, g in zip(labels, groups, strict=True)]
        files = plots.learning_curves(series, metrics, out, x_label="time (s)" if x == "time" else "step",
                                      smooth=smooth, band=band)
        return [vars(files)]
    key = _param_axis(groups, x)
    lines = describe(groups, exclude=[key])
    out_files = []
    for m in metrics:
        points = [{"line": line or None, "x": flatten(g.runs[0]["params"]).get(key), "values": _values(g, m, last)}
                  for g, line in zip(groups, lines, strict=True)]
        target = out if len(metrics) == 1 else out.with_name(f"{out.stem}-{_slug(m)}{out.suffix}")
        out_files.append(vars(plots.param_curve(points, key, m, target)))
    return out_files


def _values(group: Group, metric: str, last: dict[str, dict[str, float]]) -> list[float]:
    """A group's per-run values of a metric (the summary, else the last logged value), finite ones only."""
    values = (value_of({**r, "last": last.get(r["id"], {})}, metric) for r in group.runs)
    return [v for v in values if v is not None and math.isfinite(v)]


def _curves(run: dict[str, Any], metrics: Sequence[str], x: str, history: dict[str, Any]) -> dict[str, Any]:
    points = history.get(run["id"], {})
    start = run["created_at"]
    return {"run_id": run["id"], "metrics": {
        m: [(step if x == "step" else t - start, v) for step, t, v in points.get(m, ()) if x == "step" or t is not None]
        for m in metrics}}


def _param_axis(groups: Sequence[Group], x: str) -> str:
    """The param on the x axis: ``--x lr``, or for ``--x param`` the one param the groups differ in."""
    varying: list[str] = [r["key"] for r in config_diff([g.runs[0] for g in groups]) if r["key"] != "spec"]
    if x != "param":
        params = {k for g in groups for r in g.runs for k in flatten(r["params"])}
        if x not in params:
            raise NotFound(f"no param '{x}'{did_you_mean(x, params)}",
                           fix=f"--x is step, time, param or a param: {', '.join(sorted(params)) or 'none'}")
        return x
    if len(varying) == 1:
        return varying[0]
    if not varying:
        raise BadInput("the selected groups do not differ in any param: nothing to put on the x axis",
                       fix="select groups of a sweep, e.g. hunch plot spec=exp --x param --metric acc")
    raise BadInput(f"the groups differ in {len(varying)} params ({', '.join(varying[:6])}): which is the x axis?",
                   fix=f"name it: --x {varying[0]}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "figure"


# ============================================================ report

REPORT_FORMATS = (".html", ".htm", ".md")


def report(
    targets: Sequence[str],
    *,
    out: str | Path = "report.html",
    flips: int = 5,
    project: Project | None = None,
) -> dict[str, Any]:
    """Write a shareable page about a question (its id) or selected runs: why, comparison, figures,
    predictions and how they scored, journal entries. ``.md`` puts the figures in a folder beside it;
    ``.html`` is one self-contained file. Returns ``{"path", "figures", "notes"}``."""
    from hunchlab import readsql as q  # local: the name is bound differently elsewhere in this module

    out = Path(out)
    if out.suffix.lower() not in REPORT_FORMATS:
        raise BadInput(f"cannot write a report as '{out.suffix or out.name}'", where=str(out),
                       fix="name it report.html (one self-contained file) or report.md (figures beside it)")
    project = project or find_project()
    with current_store(project) as store, store.read() as conn:
        runs = q.all_runs(conn)
        question = _question(conn, targets)
        if question:
            groups, notes = group_runs([r for r in runs if r["question"] == question["id"]])
            if not groups:
                why = f" ({'; '.join(notes)})" if notes else ""
                raise NotFound(f"question {question['id']} has no finished runs yet{why}",
                               fix=f"run one for it: a spec with `question: {question['id']}`")
            selections = [Selection(question["id"], "question", groups, notes)]
        else:
            selections = resolve(targets, runs, store.resolve_run)
        pairs = _unique_groups(selections)
        ids = [r["id"] for _, g in pairs for r in g.runs]
        last = q.last_values(conn, ids)
        result = compare_groups_of(conn, project, pairs, notes_of(selections),
                                   flips=flips) if len(pairs) > 1 else None
        curves = _curve_metrics(pairs, last, result)
        history = q.histories(conn, ids, curves)
        context = _context(conn, ids, [question["id"]] if question else
                           list(dict.fromkeys(r["question"] for _, g in pairs for r in g.runs if r["question"])))
    notes = result["notes"] if result else notes_of(selections)
    with tempfile.TemporaryDirectory(prefix="hunch-report-") as tmp:
        html_page = out.suffix.lower() != ".md"
        folder = Path(tmp) if html_page else out.with_name(f"{out.stem}_files")
        figures = _report_figures(pairs, curves, history, result, folder, ".svg" if html_page else ".png")
        title = question["title"] if question else "Report: " + " vs ".join(labels_for(pairs))
        blocks = _report_blocks(targets, pairs, last, result, figures, context, notes)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = render_html(title, blocks) if html_page else render_markdown(title, blocks, out.parent)
        out.write_text(text, encoding="utf-8")
    return {"path": str(out), "figures": [] if html_page else [str(f["figure"]) for f in figures], "notes": notes}


def _question(conn: Connection, targets: Sequence[str]) -> dict[str, Any] | None:
    """The question node a single target names, if it names one."""
    from hunchlab.store.journal import get_node  # lazy: loads sqlalchemy only when called

    return get_node(conn, targets[0].strip()) if len(targets) == 1 and targets[0].strip() else None


def _context(conn: Connection, run_ids: list[str], question_ids: list[str]) -> dict[str, Any]:
    """The tree above each question, the runs' predictions and the journal entries linked to them."""
    from hunchlab.store.journal import get_node, list_entries  # lazy: loads sqlalchemy only when called
    from hunchlab.store.predictions import list_predictions  # lazy: loads sqlalchemy only when called

    chains = []
    for qid in question_ids:
        chain: list[dict[str, Any]] = []
        node_id: str | None = qid
        while node_id and (node := get_node(conn, node_id)) is not None and node not in chain:
            chain.insert(0, node)
            node_id = node["parent_id"]
        chains.append({"id": qid, "chain": chain})
    entries = {e["id"]: e for e in list_entries(conn, run_ids=run_ids)}
    for qid in question_ids:
        entries.update({e["id"]: e for e in list_entries(conn, question_id=qid)})
    return {"questions": chains, "predictions": list_predictions(conn, kind="run", run_ids=run_ids),
            "journal": sorted(entries.values(), key=lambda e: e["created_at"])}


def _curve_metrics(pairs: Sequence[tuple[str, Group]], last: dict[str, dict[str, float]],
                   result: ComparisonRecord | None) -> list[str]:
    """Logged metrics worth a panel: those also compared first, then the rest, at most MAX_CURVE_PANELS."""
    logged = list(dict.fromkeys(k for _, g in pairs for r in g.runs for k in last.get(r["id"], {})))
    compared = [m["metric"] for m in result["metrics"]] if result else []
    return sorted(logged, key=lambda k: (k not in compared, k))[:MAX_CURVE_PANELS]


def _report_figures(pairs: Sequence[tuple[str, Group]], curves: list[str], history: dict[str, Any],
                    result: ComparisonRecord | None, folder: Path, suffix: str) -> list[dict[str, Any]]:
    figures = []
    if curves and history:
        labels = labels_for(pairs)
        series = [{"label": label, "runs": [_curves(r, curves, "step", history) for r in g.runs]}
                  for label, (_, g) in zip(labels, pairs, strict=True)]
        files = plots.learning_curves(series, curves, folder / f"curves{suffix}")
        caption = (f"learning curves ({', '.join(curves)}): each group's mean over its seeds, with a 95% t-band "
                   f"from {plots.BAND_FROM} seeds on and every seed's own curve below that")
        figures.append({**vars(files), "caption": caption})
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for m in result["metrics"] if result else []:
        by_metric.setdefault(m["metric"], []).append(m)
    names = {s["label"]: s["description"] for s in (result["sides"] if result else [])}
    for metric, rows in list(by_metric.items())[:2]:
        sides = [(rows[0]["labels"][0], rows[0]["a"])] + [(r["labels"][1], r["b"]) for r in rows]
        # Below BAND_FROM seeds a t-interval mostly shows the t quantile (as in the curves): no error bar then.
        bars = [{"label": f"{names[label]} (n={st['n']})", "mean": st["mean"],
                 **({"lo": st["lo"], "hi": st["hi"]} if st["n"] >= plots.BAND_FROM else {"lo": None, "hi": None})}
                for label, st in sides]
        files = plots.bar_chart(bars, folder / f"{_slug(metric)}{suffix}", title=metric,
                                ylabel=f"{metric} (mean, 95% CI from {plots.BAND_FROM} seeds)")
        figures.append({**vars(files), "caption": f"{metric}: mean over seeds, with its 95% t-interval where a side "
                                                  f"has {plots.BAND_FROM} seeds or more"})
    return figures


def _report_blocks(targets: Sequence[str], pairs: Sequence[tuple[str, Group]], last: dict[str, dict[str, float]],
                   result: ComparisonRecord | None, figures: list[dict[str, Any]], context: dict[str, Any],
                   notes: list[str]) -> list[Block]:
    blocks: list[Block] = [("p", f"{time.strftime('%Y-%m-%d %H:%M')} · rebuilt by `hunch report {' '.join(targets)}`")]
    blocks += [("h", 2, "Question")] + _question_blocks(context["questions"])
    blocks.append(("h", 2, "Runs and comparison"))
    blocks += compare_blocks(result) if result else _group_blocks(pairs, last, notes)
    if figures:
        blocks.append(("h", 2, "Figures"))
        blocks += [("figure", f, f["caption"]) for f in figures]
    blocks.append(("h", 2, "Predictions"))
    preds = context["predictions"]
    if preds:
        blocks.append(("table", None, ["run", "prediction", "stated", "status", "outcome", "actual"],
                       [[_prediction_subject(p), p["text"], f"{p['probability']:.0%}", p["status"],
                         {True: "held", False: "did not hold"}.get(p["outcome"], ""), fmt_num(p["actual"])]
                        for p in preds]))
    else:
        blocks.append(("p", "No predictions were recorded for these runs (`hunch run --predict` records one)."))
    blocks.append(("h", 2, "Journal"))
    if context["journal"]:
        for e in context["journal"]:
            when = time.strftime("%Y-%m-%d", time.localtime(e["created_at"]))
            blocks += [("h", 3, f"{e['kind']}: {e['title']}"),
                       ("p", f"{when}" + (f" · run {e['run_id']}" if e["run_id"] else "")
                        + (f" · question {e['question_id']}" if e["question_id"] else "")),
                       ("text", e["body"])]
    else:
        blocks.append(("p", "No journal entries are linked to these runs."))
    return blocks


def _prediction_subject(p: dict[str, Any]) -> str:
    """The run a prediction is about, or the seed group it is about (recorded on the group's first run)."""
    size = p.get("group_size") or 1
    return f"{size} seeds from {p['run_id']}" if size > 1 else p["run_id"] or ""


def _question_blocks(questions: list[dict[str, Any]]) -> list[Block]:
    if not questions:
        return [("p", "No question is recorded for these runs (a spec's `question:` names the one a run serves).")]
    blocks: list[Block] = []
    for q in questions:
        if not q["chain"]:
            blocks.append(("p", f"{q['id']} (not in the question tree yet)"))
            continue
        items = []
        for node in q["chain"]:
            why = f" — why: {node['why']}" if node.get("why") else ""
            answer = f" — answer: {node['answer']}" if node.get("answer") else ""
            items.append(f"{node['kind']} {node['id']}: {node['title']}{why}{answer} ({node['status']})")
        blocks.append(("list", items))
    return blocks


def _group_blocks(pairs: Sequence[tuple[str, Group]], last: dict[str, dict[str, float]],
                  notes: list[str]) -> list[Block]:
    """One group, nothing to compare with: each metric's mean and interval over its seeds."""
    (text, group), = pairs
    metrics = list(dict.fromkeys(k for r in group.runs for k, v in r["summary"].items()
                                 if isinstance(v, (int, float)) and not isinstance(v, bool)))
    rows = []
    for m in metrics:
        values = _values(group, m, last)
        if values:
            ci = mean_ci(values)
            rows.append([m, interval(ci.mean, ci.lo, ci.hi), str(ci.n), "" if ci.std is None else fmt_num(ci.std)])
    runs = group.runs
    blocks: list[Block] = [("p", f"{text}: group {group.key}, {plural(len(runs), 'run')} "
                                 f"(seeds {seeds_text([r['seed'] for r in runs])}): " + ", ".join(r["id"] for r in runs))]
    blocks.append(("table", "metrics: mean [95% t-interval] over seeds", ["metric", "mean [95% CI]", "n", "std"], rows))
    return blocks + [("note", n) for n in notes]


