"""``hunch compare``'s result as blocks (and CSV rows): the text the terminal, the dashboard, the MCP
tools and a report show, built once from the comparison's plain data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hunchlab.blocks import Block
from hunchlab.selectors import plural

if TYPE_CHECKING:
    from hunchlab.shapes import ComparisonRecord, PairedRecord

CELL_CHARS = 48


# ============================================================ compare as blocks


def compare_blocks(r: ComparisonRecord) -> list[Block]:
    """A comparison (``compare.compare``'s result) as blocks: sides, config, code, metrics, paired, flips."""
    labels = [s["label"] for s in r["sides"]]
    blocks: list[Block] = [("table", "sides", ["", "config", "group", "runs", "seeds", "status"],
                            [[s["label"], s["description"], s["group"] or "", str(s["n"]), seeds_text(s["seeds"]),
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


def _metric_blocks(r: ComparisonRecord, labels: list[str]) -> list[Block]:
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


def _paired_blocks(p: PairedRecord, alpha: float) -> list[Block]:
    a, b = p["labels"]
    only = [f"{n} only in {label}" for label, n in p["only"].items() if n]
    title = (f"paired (an example is the unit): {b} vs {a} on {p['n_shared']:,} shared examples"
             + (f" ({', '.join(only)})" if only else ""))
    rows, verdicts = [], []
    for key, t in (("accuracy", p.get("accuracy")), ("score", p.get("score"))):
        if t:
            sides = f"{fmt_num(t['a_mean'])} → {fmt_num(t['b_mean'])}"
            if t.get("a_interval"):
                sides = (f"{interval(t['a_mean'], *t['a_interval'])} → {interval(t['b_mean'], *t['b_interval'])}"
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
    for shown, n, arrow in ((flips["right_to_wrong"], flips["n_right_to_wrong"], "right→wrong"),
                            (flips["wrong_to_right"], flips["n_wrong_to_right"], "wrong→right")):
        if shown:
            more = f", first {len(shown)}" if n > len(shown) else ""
            blocks.append(("table", f"{arrow}: {plural(n, 'example')}{more}",
                           ["id", "input", "target", f"{a} output", f"{b} output"],
                           [[f["id"], _cell(f.get("input")), _cell(f.get("target")),
                             f"{_cell(f.get('a_output'))} ({f['a_right']}/{f['a_n']} right)",
                             f"{_cell(f.get('b_output'))} ({f['b_right']}/{f['b_n']} right)"] for f in shown]))
    return blocks


def csv_rows(r: ComparisonRecord) -> list[dict[str, Any]]:
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
        for key, t in (("accuracy", p.get("accuracy")), ("score", p.get("score")), ("mcnemar", p.get("mcnemar"))):
            if t:
                rows.append({"kind": "paired", "unit": "example", "name": key, "a": p["labels"][0],
                             "b": p["labels"][1], "a_n": t["n"], "a_mean": t.get("a_mean"), "b_n": t["n"],
                             "b_mean": t.get("b_mean"), "diff": t.get("mean_diff"), "diff_lo": t.get("lo"),
                             "diff_hi": t.get("hi"), "diff_level": t.get("confidence"), "p": t["p"],
                             "p_adjusted": t.get("p_adjusted"), "test": t["method"],
                             "detectable": (t.get("power") or {}).get("detectable"), "verdict": t["verdict"]})
    return rows


def seeds_text(seeds: Sequence[Any]) -> str:
    """``0–4`` for a run of consecutive seeds, else the list."""
    consecutive = all(isinstance(s, int) for s in seeds) and list(seeds) == list(range(seeds[0], seeds[-1] + 1))
    if len(seeds) > 2 and consecutive:
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def fmt_num(x: float | None, decimals: int | None = None) -> str:
    from hunchlab.verdicts import fmt  # lazy: loads numpy only when called

    return "" if x is None else fmt(x, decimals)


def interval(mean: float, lo: float | None, hi: float | None) -> str:
    """``mean [lo, hi]`` to the precision the interval's width supports."""
    from hunchlab.verdicts import decimals_for  # lazy: loads numpy only when called

    if lo is None or hi is None:
        return fmt_num(mean)
    d = decimals_for(hi - lo)
    return f"{fmt_num(mean, d)} [{fmt_num(lo, d)}, {fmt_num(hi, d)}]"


def _mean_cell(s: dict[str, Any]) -> str:
    return f"{interval(s['mean'], s['lo'], s['hi'])} ({s['n']})"


def _diff_cell(m: dict[str, Any]) -> str:
    """The difference with its interval, and the interval's level when the verdict's is not 95%."""
    from hunchlab.verdicts import interval_text  # lazy: loads numpy only when called

    if m["lo"] is None or m["hi"] is None:
        return f"{fmt_num(m['diff'])} (no interval)"
    return interval_text(m["diff"], m["lo"], m["hi"], m["confidence"], holm=m.get("p_adjusted") is not None)


def _p_cell(adjusted: float | None, p: float | None, alpha: float) -> str:
    from hunchlab.verdicts import fmt_p  # lazy: loads numpy only when called

    value = adjusted if adjusted is not None else p
    return "" if value is None else fmt_p(value, alpha).lstrip("=")


def _cell(value: Any) -> str:
    """A short one-line rendering of a user value (an example's input or a param)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"
