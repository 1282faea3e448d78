"""Figures and shareable pages: ``hunch plot``, ``hunch report``, and the text of ``hunch compare``.

Everything a page or the terminal shows is first built as *blocks* (a heading, a
paragraph, a list, a table of strings, a figure); one renderer turns blocks into
Markdown, another into a single self-contained HTML file, and the CLI prints the same
blocks with rich. So the terminal, ``--markdown`` and a report can never disagree.

Figures come from ``hunchlab.plots``, which writes the CSV of the numbers drawn and a
standalone script beside each figure; an HTML report embeds each figure as a base64
``data:`` URI (not inline ``<svg>``: matplotlib reuses element ids across figures, and
inline SVGs on one page would clip each other).
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.compare import compare_groups_of, config_diff, describe, labels_for, notes_of, value_of
from hunchlab.current import current_store
from hunchlab.errors import HunchError, NotFound, did_you_mean
from hunchlab.project import Project, find_project
from hunchlab.records import flatten
from hunchlab.selectors import Group, Selection, group_runs, plural, resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

Block = tuple[Any, ...]  # ("h", level, text) | ("p", text) | ("list", [text]) | ("table", title, columns, rows)
#                           | ("figure", FigureFiles, caption) | ("note", text)
X_BUILTIN = ("step", "time")
MAX_CURVE_PANELS = 3
CELL_CHARS = 48


# ============================================================ compare as blocks


def compare_blocks(r: dict[str, Any]) -> list[Block]:
    """A comparison (``compare.compare``'s result) as blocks: sides, config, code, metrics, paired, flips."""
    labels = [s["label"] for s in r["sides"]]
    blocks: list[Block] = [("table", "sides", ["", "config", "group", "runs", "seeds", "status"],
                            [[s["label"], s["description"], s["group"] or "", str(s["n"]), _seeds(s["seeds"]),
                              ", ".join(f"{n} {k}" for k, n in s["statuses"].items())] for s in r["sides"]])]
    if r["config"]:
        blocks.append(("table", "config (only keys that differ)", ["key", *labels],
                       [[row["key"], *(_cell(v) for v in row["values"])] for row in r["config"]]))
    else:
        blocks.append(("p", "config: identical"))
    blocks.append(("p", f"code: {r['code']['text']}"))
    if r["metrics"]:
        blocks += _metric_blocks(r, labels)
    for p in r["paired"]:
        blocks += _paired_blocks(p, r["alpha"])
    if not r["paired"]:
        blocks.append(("p", "paired: no per-example records shared by the sides (log them with run.example)"))
    blocks += [("note", n) for n in r["notes"]]
    return blocks


def _metric_blocks(r: dict[str, Any], labels: list[str]) -> list[Block]:
    """The seed-level table (a seed is the unit), its verdicts, and what is known of each metric's range."""
    base, many = labels[0], len(labels) > 2
    conf = f"{r['confidence']:.0%}"
    holm = f"; p Holm-adjusted over {r['holm_tests']} tests" if r["holm_tests"] else ""
    title = (f"metrics (a seed is the unit): mean [{conf} t-interval] over seeds, difference with Welch's "
             f"interval at the level of its verdict{holm}")
    rows = [[m["metric"], *([f"{m['labels'][1]} vs {base}"] if many else []), _mean_cell(m["a"]),
             _mean_cell(m["b"]), _diff_cell(m), _p_cell(m.get("p_adjusted"), m["p"], r["alpha"])]
            for m in r["metrics"]]
    other = "other" if many else labels[1]
    blocks: list[Block] = [("table", title, ["metric", *(["sides"] if many else []), f"{base} (n)", f"{other} (n)",
                                             f"{other}−{base}", "p"], rows),
                           ("list", [f"{m['metric']}{_versus(m, base) if many else ''}: {m['verdict']}"
                                     for m in r["metrics"]])]
    known = {m["metric"]: m for m in r["metrics"] if m.get("bounds") or m.get("goal")}
    if known:
        guessed = any(m.get(k) == "the name" for m in known.values() for k in ("bounds_from", "goal_from"))
        hint = " (a spec declares them: metrics: {acc: {range: [0, 1], goal: max}})" if guessed else ""
        blocks.append(("p", "metrics: " + "; ".join(_metric_facts(m) for m in known.values()) + hint))
    return blocks


def _metric_facts(m: dict[str, Any]) -> str:
    """``acc in [0, 1], intervals cut to it, higher is better (from the name)``."""
    parts = []
    if m.get("bounds"):
        lo, hi = m["bounds"]
        parts.append(f"in [{lo:g}, {hi:g}], intervals cut to it (from {m['bounds_from']})")
    if m.get("goal"):
        parts.append(f"{'higher' if m['goal'] == 'max' else 'lower'} is better (from {m['goal_from']})")
    return f"{m['metric']} " + ", ".join(parts)


def _versus(m: dict[str, Any], base: str) -> str:
    return f" ({m['labels'][1]} vs {base})"


def _paired_blocks(p: dict[str, Any], alpha: float) -> list[Block]:
    a, b = p["labels"]
    only = [f"{n} only in {label}" for label, n in p["only"].items() if n]
    title = (f"paired (an example is the unit): {b} vs {a} on {p['n_shared']:,} shared examples"
             + (f" ({', '.join(only)})" if only else ""))
    rows, verdicts = [], []
    for key in ("accuracy", "score"):
        if p.get(key):
            t = p[key]
            sides = f"{_fmt_num(t['a_mean'])} → {_fmt_num(t['b_mean'])}"
            if t.get("a_interval"):
                sides = (f"{_interval(t['a_mean'], *t['a_interval'])} → {_interval(t['b_mean'], *t['b_interval'])}"
                         f" ({t['side_interval']})")
            rows.append([key, sides, _diff_cell({**t, "diff": t["mean_diff"]}),
                         _p_cell(t.get("p_adjusted"), t["p"], alpha), t["method"]])
            verdicts.append(t["verdict"])
    if p.get("mcnemar"):
        t = p["mcnemar"]
        rows.append(["correct (McNemar)", f"{t['b10']} wrong→right", f"{t['b01']} right→wrong",
                     _p_cell(t.get("p_adjusted"), t["p"], alpha), t["method"]])
        verdicts.append(t["verdict"])
    blocks: list[Block] = [("table", title, ["test", f"{a} → {b}", f"{b}−{a} [CI]", "p", "method"], rows),
                           ("list", verdicts)]
    if p.get("right_rule"):
        blocks.append(("p", p["right_rule"]))
    flips = p["flips"]
    for kind, arrow in (("right_to_wrong", "right→wrong"), ("wrong_to_right", "wrong→right")):
        shown = flips[kind]
        if shown:
            more = f", first {len(shown)}" if flips[f"n_{kind}"] > len(shown) else ""
            blocks.append(("table", f"{arrow}: {plural(flips[f'n_{kind}'], 'example')}{more}",
                           ["id", "input", "target", f"{a} output", f"{b} output"],
                           [[f["id"], _cell(f.get("input")), _cell(f.get("target")),
                             f"{_cell(f.get('a_output'))} ({f['a_right']}/{f['a_n']} right)",
                             f"{_cell(f.get('b_output'))} ({f['b_right']}/{f['b_n']} right)"] for f in shown]))
    return blocks


def csv_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per test (metric or paired), for ``hunch compare --csv``."""
    rows = []
    for m in r["metrics"]:
        rows.append({"kind": "metric", "unit": "seed", "name": m["metric"], "a": m["labels"][0], "b": m["labels"][1],
                     "a_n": m["a"]["n"], "a_mean": m["a"]["mean"], "a_lo": m["a"]["lo"], "a_hi": m["a"]["hi"],
                     "b_n": m["b"]["n"], "b_mean": m["b"]["mean"], "b_lo": m["b"]["lo"], "b_hi": m["b"]["hi"],
                     "diff": m["diff"], "diff_lo": m["lo"], "diff_hi": m["hi"], "diff_level": m["confidence"],
                     "p": m["p"], "p_adjusted": m["p_adjusted"], "test": m["test"],
                     "detectable": (m.get("power") or {}).get("detectable"), "verdict": m["verdict"]})
    for p in r["paired"]:
        for key in ("accuracy", "score", "mcnemar"):
            t = p.get(key)
            if t:
                rows.append({"kind": "paired", "unit": "example", "name": key, "a": p["labels"][0],
                             "b": p["labels"][1], "a_n": t["n"], "a_mean": t.get("a_mean"), "b_n": t["n"],
                             "b_mean": t.get("b_mean"), "diff": t.get("mean_diff"), "diff_lo": t.get("lo"),
                             "diff_hi": t.get("hi"), "diff_level": t.get("confidence"), "p": t["p"],
                             "p_adjusted": t.get("p_adjusted"), "test": t["method"],
                             "detectable": (t.get("power") or {}).get("detectable"), "verdict": t["verdict"]})
    return rows


def _seeds(seeds: Sequence[Any]) -> str:
    """``0–4`` for a run of consecutive seeds, else the list."""
    consecutive = all(isinstance(s, int) for s in seeds) and list(seeds) == list(range(seeds[0], seeds[-1] + 1))
    if len(seeds) > 2 and consecutive:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def _fmt_num(x: float | None, decimals: int | None = None) -> str:
    from hunchlab.verdicts import fmt

    return "" if x is None else fmt(x, decimals)


def _interval(mean: float, lo: float | None, hi: float | None) -> str:
    """``mean [lo, hi]`` to the precision the interval's width supports."""
    from hunchlab.verdicts import decimals_for

    if lo is None or hi is None:
        return _fmt_num(mean)
    d = decimals_for(hi - lo)
    return f"{_fmt_num(mean, d)} [{_fmt_num(lo, d)}, {_fmt_num(hi, d)}]"


def _mean_cell(s: dict[str, Any]) -> str:
    return f"{_interval(s['mean'], s['lo'], s['hi'])} ({s['n']})"


def _diff_cell(m: dict[str, Any]) -> str:
    """The difference with its interval, and the interval's level when the verdict's is not 95%."""
    from hunchlab.verdicts import interval_text

    if m["lo"] is None or m["hi"] is None:
        return f"{_fmt_num(m['diff'])} (no interval)"
    return interval_text(m["diff"], m["lo"], m["hi"], m["confidence"], holm=m.get("p_adjusted") is not None)


def _p_cell(adjusted: float | None, p: float | None, alpha: float) -> str:
    from hunchlab.verdicts import fmt_p

    value = adjusted if adjusted is not None else p
    return "" if value is None else fmt_p(value, alpha).lstrip("=")


def _cell(value: Any) -> str:
    """A short one-line rendering of a user value (an example's input or a param)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"


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
    from hunchlab import readsql as q

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
        raise HunchError("name a metric to plot with --metric", fix=f"metrics: {_known(groups, last)}")
    logged = {k for g in groups for r in g.runs for k in last.get(r["id"], {})}
    summary = {k for g in groups for r in g.runs for k in r["summary"]}
    for m in metrics:
        if m not in logged | summary:
            raise NotFound(f"no metric '{m}'{did_you_mean(m, logged | summary)}",
                           fix=f"metrics: {_known(groups, last)}")
        if x in X_BUILTIN and m not in logged:
            raise HunchError(f"'{m}' is a summary metric (one value per run), not logged per step",
                             fix="plot it against a param (--x PARAM), or plot a logged metric: "
                                 + (", ".join(sorted(logged)) or "none"))


def _known(groups: Sequence[Group], last: dict[str, dict[str, float]]) -> str:
    logged = sorted({k for g in groups for r in g.runs for k in last.get(r["id"], {})})
    summary = sorted({k for g in groups for r in g.runs for k in r["summary"]})
    return f"logged per step: {', '.join(logged) or 'none'}; summary: {', '.join(summary) or 'none'}"


def _draw(pairs: list[tuple[str, Group]], metrics: Sequence[str], x: str, smooth: int, band: str, out: Path,
          history: dict[str, Any], last: dict[str, dict[str, float]]) -> list[dict[str, Path]]:
    from hunchlab import plots

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
        raise HunchError("the selected groups do not differ in any param: nothing to put on the x axis",
                         fix="select groups of a sweep, e.g. hunch plot spec=exp --x param --metric acc")
    raise HunchError(f"the groups differ in {len(varying)} params ({', '.join(varying[:6])}): which is the x axis?",
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
    from hunchlab import readsql as q

    out = Path(out)
    if out.suffix.lower() not in REPORT_FORMATS:
        raise HunchError(f"cannot write a report as '{out.suffix or out.name}'", where=str(out),
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
        result = compare_groups_of(conn, project, pairs, notes_of(selections), flips=flips) if len(pairs) > 1 else None
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
    from hunchlab.store.journal import get_node

    return get_node(conn, targets[0].strip()) if len(targets) == 1 and targets[0].strip() else None


def _context(conn: Connection, run_ids: list[str], question_ids: list[str]) -> dict[str, Any]:
    """The tree above each question, the runs' predictions and the journal entries linked to them."""
    from hunchlab.store.journal import get_node, list_entries
    from hunchlab.store.predictions import list_predictions

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
                   result: dict[str, Any] | None) -> list[str]:
    """Logged metrics worth a panel: those also compared first, then the rest, at most MAX_CURVE_PANELS."""
    logged = list(dict.fromkeys(k for _, g in pairs for r in g.runs for k in last.get(r["id"], {})))
    compared = [m["metric"] for m in result["metrics"]] if result else []
    return sorted(logged, key=lambda k: (k not in compared, k))[:MAX_CURVE_PANELS]


def _report_figures(pairs: Sequence[tuple[str, Group]], curves: list[str], history: dict[str, Any],
                    result: dict[str, Any] | None, folder: Path, suffix: str) -> list[dict[str, Any]]:
    from hunchlab import plots

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
    for m in (result or {}).get("metrics", []):
        by_metric.setdefault(m["metric"], []).append(m)
    names = {s["label"]: s["description"] for s in (result or {}).get("sides", [])}
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
                   result: dict[str, Any] | None, figures: list[dict[str, Any]], context: dict[str, Any],
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
                         {True: "held", False: "did not hold"}.get(p["outcome"], ""), _fmt_num(p["actual"])]
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
    from hunchlab.stats import mean_ci

    (text, group), = pairs
    metrics = list(dict.fromkeys(k for r in group.runs for k, v in r["summary"].items()
                                 if isinstance(v, (int, float)) and not isinstance(v, bool)))
    rows = []
    for m in metrics:
        values = _values(group, m, last)
        if values:
            ci = mean_ci(values)
            rows.append([m, _interval(ci.mean, ci.lo, ci.hi), str(ci.n), "" if ci.std is None else _fmt_num(ci.std)])
    runs = group.runs
    blocks: list[Block] = [("p", f"{text}: group {group.key}, {plural(len(runs), 'run')} "
                                 f"(seeds {_seeds([r['seed'] for r in runs])}): " + ", ".join(r["id"] for r in runs))]
    blocks.append(("table", "metrics: mean [95% t-interval] over seeds", ["metric", "mean [95% CI]", "n", "std"], rows))
    return blocks + [("note", n) for n in notes]


# ============================================================ renderers


def render_markdown(title: str, blocks: Sequence[Block], base: Path) -> str:
    """Markdown with figures linked relative to ``base`` (the report's folder), data and script beside each."""
    out = [f"# {title}"]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"{'#' * block[1]} {block[2]}")
        elif kind in ("p", "text"):
            out.append(block[1])
        elif kind == "note":
            out.append(f"> note: {block[1]}")
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            _, caption, columns, rows = block
            lines = [f"**{_md_cell(caption)}**", ""] if caption else []
            lines.append("| " + " | ".join(_md_cell(c) or " " for c in columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
        elif kind == "figure":
            f = block[1]
            rel = {k: Path(f[k]).resolve().relative_to(base.resolve()).as_posix() for k in ("figure", "data", "script")}
            out.append(f"![{block[2]}]({rel['figure']})\n\n"
                       f"{block[2]} · [data]({rel['data']}) · [script]({rel['script']})")
    return "\n\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


HTML_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:960px;margin:2em auto;padding:0 1em;
color:#1a1a1a}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.3em 0 1em;font-size:13px}.caption{font-weight:600;margin:1em 0 0;font-size:14px}
th,td{border-bottom:1px solid #e3e3e3;padding:.25em .7em;text-align:left;vertical-align:top}th{background:#f6f6f6}
td{font-variant-numeric:tabular-nums}.note{color:#8a5a00;background:#fff8e6;padding:.3em .6em;border-radius:4px}
figure{margin:1.2em 0}figure img{max-width:100%}figcaption{color:#555;font-size:13px}
pre.text{white-space:pre-wrap;font:inherit}
"""


def render_html(title: str, blocks: Sequence[Block]) -> str:
    """One self-contained HTML file: every user string escaped, figures and their data embedded."""
    e = html.escape
    out = [f"<!doctype html>\n<html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{HTML_STYLE}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "p":
            out.append(f"<p>{e(block[1])}</p>")
        elif kind == "text":
            out.append(f"<pre class='text'>{e(block[1])}</pre>")
        elif kind == "note":
            out.append(f"<p class='note'>note: {e(block[1])}</p>")
        elif kind == "list":
            out.append("<ul>" + "".join(f"<li>{e(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            _, caption, columns, rows = block
            # The title above, not a <caption>: a caption wraps to the table's width.
            out.append((f"<p class='caption'>{e(caption)}</p>" if caption else "") + "<table>"
                       + "<tr>" + "".join(f"<th>{e(c)}</th>" for c in columns) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                       + "</table>")
        elif kind == "figure":
            f = block[1]
            image = base64.b64encode(Path(f["figure"]).read_bytes()).decode()
            data = base64.b64encode(Path(f["data"]).read_bytes()).decode()
            script = base64.b64encode(Path(f["script"]).read_bytes()).decode()
            name = Path(f["figure"]).stem
            out.append(f"<figure><img alt='{e(block[2])}' src='data:image/svg+xml;base64,{image}'>"
                       f"<figcaption>{e(block[2])} · "
                       f"<a download='{e(name)}.csv' href='data:text/csv;base64,{data}'>data</a>"
                       f" · <a download='{e(name)}_plot.py' href='data:text/x-python;base64,{script}'>script</a>"
                       "</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
