"""``hunch compare``: what differs between runs or seed groups, and whether it matters.

A comparison has four parts, each worded so it never claims more than the data holds:

- config: only the keys whose values differ;
- code: whether the sides ran the same code state (commit, uncommitted diff, untracked files);
- metrics: per summary metric, each side's mean over seeds with a t-interval, the
  difference with Welch's interval and test, and a verdict from ``stats.compare_groups``;
- paired: on examples both sides scored (same ids), a paired bootstrap of the accuracy
  (and score) difference, McNemar on per-example correctness, and the flips.

With more than two sides every side is compared with the first (the baseline). All
p-values of one comparison form one family and are Holm-adjusted when there is more than
one: ten metrics tested at p<0.05 show a "significant" one by chance 40% of the time.

``compare`` reads the store; ``analyse`` is the pure part, on plain data, so it can be
tested (and reused) without a project.
"""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.errors import HunchError, NotFound, did_you_mean
from hunchlab.project import Project, find_project
from hunchlab.records import flatten
from hunchlab.selectors import Group, Selection, plural, resolve

if TYPE_CHECKING:
    from sqlalchemy import Connection

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_RESAMPLES = 2000
# Metric-name words that say which direction is better; anything else gets no "better"/"worse".
LOWER_IS_BETTER = {"loss", "error", "err", "nll", "perplexity", "ppl", "mse", "mae", "rmse", "regret", "wer", "cer",
                   "latency", "time", "seconds"}
HIGHER_IS_BETTER = {"acc", "accuracy", "f1", "auc", "auroc", "reward", "return", "precision", "recall", "bleu",
                    "rouge", "em", "exact", "correct", "win", "winrate"}


def higher_is_better(metric: str) -> bool | None:
    """Guess a metric's direction from its name (``val_loss`` lower, ``test_acc`` higher); None if unsure."""
    words = set(re.split(r"[^a-z0-9]+", metric.lower()))
    lower, higher = bool(words & LOWER_IS_BETTER), bool(words & HIGHER_IS_BETTER)
    return None if lower == higher else higher


# ============================================================ reading the store


def compare(
    selectors: Sequence[str],
    *,
    metrics: Sequence[str] = (),
    flips: int = 5,
    confidence: float = 0.95,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    project: Project | None = None,
) -> dict[str, Any]:
    """Compare two or more runs or seed groups (see ``hunchlab.selectors``) as plain data."""
    from hunchlab.records import _store
    from hunchlab.store import compare as q

    project = project or find_project()
    with _store(project) as store, store.read() as conn:
        selections = resolve(selectors, q.all_runs(conn), store.resolve_run)
        return compare_groups_of(conn, project, pick_sides(selections), notes_of(selections), metrics=metrics,
                                 flips=flips, confidence=confidence, alpha=alpha, resamples=resamples)


def compare_groups_of(conn: Connection, project: Project, picked: Sequence[tuple[str, Group]], notes: list[str],
                      **options: Any) -> dict[str, Any]:
    """Load what ``analyse`` needs for the (selector, group) pairs and run it.

    One query per table for all runs (one per side for the examples, summed by the
    database), then one for the inputs and outputs of the few flips shown.
    """
    from hunchlab.store import compare as q

    sides = sides_from(picked)
    ids = [r["id"] for s in sides for r in s["runs"]]
    detail, last = q.runs_by_id(conn, ids), q.last_values(conn, ids)
    for side in sides:
        side["runs"] = [{**detail[r["id"]], "last": last.get(r["id"], {}),
                         "code_state": code_state(project, detail[r["id"]])} for r in side["runs"]]
    result = analyse(sides, [q.example_tallies(conn, [r["id"] for r in s["runs"]]) for s in sides], **options)
    result["notes"][:0] = notes
    shown = {f["id"] for p in result["paired"] for kind in FLIPS for f in p["flips"][kind]}
    firsts = [s["runs"][0]["id"] for s in sides]
    _add_flip_details(result, q.example_details(conn, firsts, sorted(shown)), firsts)
    return result


def notes_of(selections: Sequence[Selection]) -> list[str]:
    """Everything the selectors decided on the way (runs left out, runs still running)."""
    return [n for s in selections for n in s.all_notes()]


def pick_sides(selections: Sequence[Selection]) -> list[tuple[str, Group]]:
    """One side per selector (each must name one config), or one per group when a single selector names several."""
    if len(selections) == 1:
        picked = [(selections[0].selector, g) for g in selections[0].groups]
    else:
        picked = []
        for s in selections:
            if len(s.groups) > 1:
                differ = ", ".join(row["key"] for row in config_diff([g.runs[0] for g in s.groups])[:4])
                raise HunchError(
                    f"selector '{s.selector}' matches {len(s.groups)} groups with different configs ({differ})",
                    fix="add a filter on one of those keys, or name a group id: "
                        + ", ".join(f"{g.key} ({plural(len(g.runs), 'run')})" for g in s.groups[:4]))
            picked.append((s.selector, s.groups[0]))
    if len(picked) < 2:
        text, only = picked[0]
        raise HunchError(f"'{text}' names one group ({plural(len(only.runs), 'run')}): nothing to compare it with",
                         fix="name a second run, group or filter, e.g. hunch compare model.width=16 model.width=64")
    for i, (_, g) in enumerate(picked):
        for j in range(i):
            if {r["id"] for r in g.runs} == {r["id"] for r in picked[j][1].runs}:
                raise HunchError(f"{LABELS[j]} and {LABELS[i]} name the same runs",
                                 fix="compare different runs or groups")
    return picked


def sides_from(picked: Sequence[tuple[str, Group]]) -> list[dict[str, Any]]:
    """Lettered sides (A is the baseline) with a short description of each."""
    if len(picked) > len(LABELS):
        raise HunchError(f"{len(picked)} groups are more than can be compared at once ({len(LABELS)})",
                         fix="narrow the selectors")
    names = labels_for(picked)
    return [{"label": LABELS[i], "selector": text, "group": g.key, "description": names[i], "runs": g.runs}
            for i, (text, g) in enumerate(picked)]


def config_diff(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The config keys (flattened params, and the spec name) whose values differ across ``runs``."""
    flat = [{"spec": r.get("spec_name"), **flatten(r["params"])} for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    missing = object()
    rows = []
    for key in keys:
        values = [f.get(key, missing) for f in flat]
        if len({repr(v) for v in values}) > 1:
            rows.append({"key": key, "values": [None if v is missing else v for v in values]})
    return rows


def describe(groups: Sequence[Group], *, exclude: Sequence[str] = (), max_keys: int = 3) -> list[str]:
    """Per group, the config keys that tell it apart from the others (``model.width=64``); "" if none do."""
    diff = [r for r in config_diff([g.runs[0] for g in groups]) if r["key"] not in exclude]
    rows = [r for r in diff if r["key"] != "spec"] or diff
    return [" ".join(f"{r['key']}={_short(r['values'][i])}" for r in rows[:max_keys] if r["values"][i] is not None)
            for i in range(len(groups))]


def labels_for(picked: Sequence[tuple[str, Group]]) -> list[str]:
    """A name per (selector, group): what tells it apart, else its run id, else the selector."""
    return [name or (g.runs[0]["id"] if len(g.runs) == 1 else text)
            for name, (text, g) in zip(describe([g for _, g in picked]), picked, strict=True)]


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def code_state(project: Project, run: dict[str, Any]) -> dict[str, Any]:
    """A run's code state with a fingerprint: equal fingerprints mean byte-identical code."""
    code = run.get("code") or {}
    if not code.get("git"):
        return {"captured": False, "fingerprint": None}
    parts = [code.get("commit") or "no-commit"]
    for name in ("diff.patch", "untracked.tar"):
        path = project.run_dir(run["id"]) / "code" / name
        parts.append(hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "-")
    return {"captured": True, "commit": code.get("commit"), "dirty": bool(code.get("dirty")),
            "diff_bytes": code.get("diff_bytes", 0), "untracked": len(code.get("untracked") or []),
            "fingerprint": ":".join(parts)}


def code_diff(selectors: Sequence[str], *, project: Project | None = None) -> str:
    """The diff between the code states of the first run of the first two sides (git diff of the rebuilt trees)."""
    from hunchlab.capture import restore_code
    from hunchlab.records import _store
    from hunchlab.store import compare as q

    project = project or find_project()
    with _store(project) as store, store.read() as conn:
        picked = pick_sides(resolve(selectors, q.all_runs(conn), store.resolve_run))
        firsts = [g.runs[0]["id"] for _, g in picked[:2]]
        detail = q.runs_by_id(conn, firsts)
    runs = [detail[i] for i in firsts]
    states = [code_state(project, r) for r in runs]
    if not all(s["captured"] for s in states):
        raise HunchError("a side's code state was not captured (it did not run in a git repo)",
                         fix="only runs started inside a git work tree can be diffed")
    if states[0]["fingerprint"] == states[1]["fingerprint"]:
        return ""
    with tempfile.TemporaryDirectory(prefix="hunch-code-") as tmp:
        for label, run in zip("AB", runs, strict=True):
            restore_code(run["code"], project.run_dir(run["id"]) / "code", Path(tmp) / label)
        out = subprocess.run(["git", "diff", "--no-index", "--no-color", "--src-prefix=", "--dst-prefix=", "A", "B"],
                             cwd=tmp, capture_output=True, text=True)
    from hunchlab.outputs import drop_binary_sections

    return drop_binary_sections(out.stdout)  # checkpoints and other binary outputs are not code


# ============================================================ the analysis (pure)


def analyse(
    sides: Sequence[dict[str, Any]],
    tallies: Sequence[dict[str, list[float]]],
    *,
    metrics: Sequence[str] = (),
    flips: int = 5,
    confidence: float = 0.95,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, Any]:
    """Compare every side with the first, on plain data.

    ``sides``: ``[{"label", "description", "runs": [{"id", "seed", "status", "params",
    "spec_name", "summary", "last": {metric: value}, "code_state"}]}]``; ``tallies``:
    per side, per example id ``[correct sum, correct count, score sum, score count]``
    over the side's runs (``store.compare.example_tallies``).
    """
    notes: list[str] = []
    names = choose_metrics(sides, metrics, notes)
    base = sides[0]
    samples = [(m, _finite(base, m, notes), _finite(other, m, notes), (base["label"], other["label"]))
               for other in sides[1:] for m in names]
    samples = [s for s in samples if s[1] and s[2]]
    paired = [p for i in range(1, len(sides))
              if (p := _paired(tallies[0], tallies[i], sides[0], sides[i], flips, confidence, resamples)) is not None]
    tests = _metric_tests(samples, paired, confidence, alpha)
    return {
        "sides": [_side_summary(s) for s in sides],
        "config": config_diff([s["runs"][0] for s in sides]),
        "code": code_summary(sides),
        "metrics": tests,
        "paired": paired,
        "confidence": confidence,
        "alpha": alpha,
        "holm_tests": _family_size(tests, paired),
        "notes": notes,
    }


def value_of(run: dict[str, Any], metric: str) -> float | None:
    """The run's summary value, else the last value it logged (a running run has no summary yet)."""
    v = run["summary"].get(metric)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return run.get("last", {}).get(metric)


def choose_metrics(sides: Sequence[dict[str, Any]], wanted: Sequence[str], notes: list[str]) -> list[str]:
    """The metrics to compare: those asked for, else the summary metrics every side has (else logged ones)."""
    summary = [list(dict.fromkeys(k for r in s["runs"] for k, v in r["summary"].items()
                                  if isinstance(v, (int, float)) and not isinstance(v, bool))) for s in sides]
    logged = [list(dict.fromkeys(k for r in s["runs"] for k in r.get("last", {}))) for s in sides]
    known = list(dict.fromkeys([k for keys in summary + logged for k in keys]))
    has = [set(a) | set(b) for a, b in zip(summary, logged, strict=True)]
    if wanted:
        for m in wanted:
            if m not in known:
                raise NotFound(f"no metric '{m}'{did_you_mean(m, known)}", fix=f"metrics: {', '.join(known) or 'none'}")
            lacking = [s["label"] for s, h in zip(sides, has, strict=True) if m not in h]
            if lacking:
                raise HunchError(f"metric '{m}' is missing on {', '.join(lacking)}",
                                 fix=f"metrics every side has: {', '.join(_common(has, known)) or 'none'}")
        return list(dict.fromkeys(wanted))
    for keys in (summary, logged):
        candidates = list(dict.fromkeys(k for ks in keys for k in ks))
        common = [k for k in candidates if all(k in h for h in has)]
        if common:
            left = [k for k in candidates if k not in common]
            if left:
                notes.append(f"not compared (missing on a side): {', '.join(left)}")
            return common
    per_side = "; ".join(f"{s['label']} has {', '.join(dict.fromkeys(a + b)) or 'none'}"
                         for s, a, b in zip(sides, summary, logged, strict=True))
    raise HunchError(f"the sides have no metric in common: {per_side}",
                     fix="compare runs that log the same metrics (or name one with --metric)")


def _common(has: list[set[str]], known: list[str]) -> list[str]:
    return [k for k in known if all(k in h for h in has)]


def _finite(side: dict[str, Any], metric: str, notes: list[str]) -> list[float]:
    values = []
    for run in side["runs"]:
        v = value_of(run, metric)
        if v is None:
            continue
        if not math.isfinite(v):
            notes.append(f"{run['id']}: {metric} is {v}, left out")
            continue
        values.append(v)
    return values


def _metric_tests(samples: list[tuple[str, list[float], list[float], tuple[str, str]]], paired: list[dict[str, Any]],
                  confidence: float, alpha: float) -> list[dict[str, Any]]:
    """Welch per metric; then Holm over every p-value of the comparison, paired tests included.

    The verdicts are worded on the adjusted p-values, so "significant" means it
    survived the correction for the number of tests.
    """
    from hunchlab.stats import compare_groups, holm

    def run(m: str, a: list[float], b: list[float], labels: tuple[str, str], p_adj: float | None = None) -> Any:
        return compare_groups(a, b, m, higher_is_better(m), alpha=alpha, confidence=confidence, p_adjusted=p_adj,
                              labels=labels)

    first = [run(*s) for s in samples]
    pvalues = [c.p for c in first if c.p is not None]
    pvalues += [p[k]["p"] for p in paired for k in PAIRED_TESTS if p.get(k)]
    adjusted = iter(holm(pvalues) if len(pvalues) > 1 else [None] * len(pvalues))
    results = [c if c.p is None else run(*s, next(adjusted)) for s, c in zip(samples, first, strict=True)]
    for p in paired:
        for k in PAIRED_TESTS:
            if p.get(k):
                p[k]["p_adjusted"] = next(adjusted)
                p[k]["verdict"] = _paired_verdict(k, p[k], p["labels"], alpha)
    return [{**c.to_dict(), "labels": list(c.labels)} for c in results]


def _family_size(tests: list[dict[str, Any]], paired: list[dict[str, Any]]) -> int:
    """How many p-values were Holm-adjusted together (0: one test, nothing to adjust)."""
    n = sum(t["p"] is not None for t in tests) + sum(1 for p in paired for k in PAIRED_TESTS if p.get(k))
    return n if n > 1 else 0


# ------------------------------------------------------------ paired examples

PAIRED_TESTS = ("accuracy", "mcnemar", "score")
FLIPS = ("right_to_wrong", "wrong_to_right")


def _shared(ta: dict[str, list[float]], tb: dict[str, list[float]], count: int) -> list[str]:
    """Example ids both sides have a finite value for (``count``: the slot of the correct or score count)."""
    def ok(v: list[float] | None) -> bool:
        return v is not None and v[count] > 0 and math.isfinite(v[count - 1])

    return sorted(e for e, v in ta.items() if ok(v) and ok(tb.get(e)))


def _paired(ta: dict[str, list[float]], tb: dict[str, list[float]], sa: dict[str, Any], sb: dict[str, Any],
            flips: int, confidence: float, resamples: int) -> dict[str, Any] | None:
    """Paired tests on the examples both sides scored; None when fewer than two are shared.

    A side with several seeds is reduced to each example's mean over its seeds
    (accuracy, score) and, for McNemar and the flips, to "right": correct on more
    than half of its seeds. The interval then reflects which examples were drawn,
    not seed noise; the metrics table covers that.
    """
    import numpy as np

    from hunchlab.stats import mcnemar, paired_bootstrap

    by_correct, by_score = _shared(ta, tb, 1), _shared(ta, tb, 3)
    if len(by_correct) < 2 and len(by_score) < 2:
        return None
    out: dict[str, Any] = {"labels": [sa["label"], sb["label"]], "n_shared": len(ta.keys() & tb.keys()),
                           "only": {sa["label"]: len(ta.keys() - tb.keys()), sb["label"]: len(tb.keys() - ta.keys())}}
    if len(by_correct) >= 2:
        pa = np.array([ta[e][0] / ta[e][1] for e in by_correct])
        pb = np.array([tb[e][0] / tb[e][1] for e in by_correct])
        boot = paired_bootstrap(pa, pb, confidence=confidence, n_resamples=resamples)
        out["accuracy"] = {**boot.to_dict(), "a_mean": float(pa.mean()), "b_mean": float(pb.mean())}
        right_a, right_b = pa > 0.5, pb > 0.5
        out["mcnemar"] = mcnemar(right_a, right_b).to_dict()
        seeds = (len(sa["runs"]), len(sb["runs"]))
        out["right_rule"] = None if seeds == (1, 1) else "right = correct on more than half of a side's runs"
        out["flips"] = {}
        for kind, mask in (("right_to_wrong", right_a & ~right_b), ("wrong_to_right", ~right_a & right_b)):
            idx = sorted(np.flatnonzero(mask), key=lambda i: (-abs(pa[i] - pb[i]), by_correct[i]))
            out["flips"][f"n_{kind}"] = len(idx)
            out["flips"][kind] = [
                {"id": by_correct[i], "a_right": int(ta[by_correct[i]][0]), "a_n": int(ta[by_correct[i]][1]),
                 "b_right": int(tb[by_correct[i]][0]), "b_n": int(tb[by_correct[i]][1])} for i in idx[:flips]]
    if len(by_score) >= 2:
        sa_ = np.array([ta[e][2] / ta[e][3] for e in by_score])
        sb_ = np.array([tb[e][2] / tb[e][3] for e in by_score])
        boot = paired_bootstrap(sa_, sb_, confidence=confidence, n_resamples=resamples)
        out["score"] = {**boot.to_dict(), "a_mean": float(sa_.mean()), "b_mean": float(sb_.mean())}
    out.setdefault("flips", {"n_right_to_wrong": 0, "n_wrong_to_right": 0, "right_to_wrong": [], "wrong_to_right": []})
    return out


def _paired_verdict(kind: str, r: dict[str, Any], labels: Sequence[str], alpha: float) -> str:
    """One line per paired test, worded like ``stats.compare_groups``' verdicts."""
    from hunchlab.stats import _decimals_for, _fmt, _fmt_p  # one number format for every verdict

    adjusted = r.get("p_adjusted") is not None
    p = r["p_adjusted"] if adjusted else r["p"]
    p_text = f"p{_fmt_p(p, alpha)}{', Holm-adjusted' if adjusted else ''}"
    a, b = labels
    if kind == "mcnemar":
        counts = f"{r['b10']} wrong→right, {r['b01']} right→wrong"
        if r["b01"] + r["b10"] == 0:
            return f"no flips: {a} and {b} are right on the same examples"
        if p >= alpha:
            return f"flips balance within noise: {counts} (McNemar {r['method']}, {p_text})"
        more = "fixes more than it breaks" if r["b10"] > r["b01"] else "breaks more than it fixes"
        return f"{b} {more}: {counts}, McNemar {r['method']} {p_text}"
    decimals = _decimals_for(r["hi"] - r["lo"])
    over = f"over {r['n']} paired examples"
    if p >= alpha:
        interval = f"{_fmt(r['mean_diff'], decimals)} [{_fmt(r['lo'], decimals)}, {_fmt(r['hi'], decimals)}]"
        return f"{kind} difference within noise ({p_text}): {interval} {over}"
    sign = 1.0 if r["mean_diff"] > 0 else -1.0
    lo, hi = sorted((sign * r["lo"], sign * r["hi"]))
    interval = f"{_fmt(abs(r['mean_diff']), decimals)} [{_fmt(lo, decimals)}, {_fmt(hi, decimals)}]"
    return f"{b} {kind} {'higher' if sign > 0 else 'lower'} by {interval} {over}, paired bootstrap {p_text}"


def _add_flip_details(result: dict[str, Any], details: dict[tuple[str, str], dict[str, Any]],
                      firsts: list[str]) -> None:
    """Input, target and each side's output (from its first run) for the flips shown."""
    for p in result["paired"]:
        ia, ib = (LABELS.index(label) for label in p["labels"])
        for kind in FLIPS:
            for f in p["flips"][kind]:
                da, db = details.get((firsts[ia], f["id"]), {}), details.get((firsts[ib], f["id"]), {})
                f.update(input=da.get("input", db.get("input")), target=da.get("target", db.get("target")),
                         a_output=da.get("output"), b_output=db.get("output"))


# ------------------------------------------------------------ sides and code


def _side_summary(side: dict[str, Any]) -> dict[str, Any]:
    runs = side["runs"]
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {"label": side["label"], "selector": side.get("selector"), "group": side.get("group"),
            "description": side.get("description"), "n": len(runs), "runs": [r["id"] for r in runs],
            "seeds": [r.get("seed") for r in runs], "statuses": statuses}


def code_summary(sides: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Did the sides run the same code? One sentence, and the distinct states per side."""
    per_side = []
    for s in sides:
        distinct: dict[str | None, dict[str, Any]] = {}
        for r in s["runs"]:
            state = r.get("code_state") or {"captured": False, "fingerprint": None}
            distinct.setdefault(state["fingerprint"], state)
        per_side.append({"label": s["label"], "states": list(distinct.values())})
    if any(not st["captured"] for side in per_side for st in side["states"]):
        missing = [side["label"] for side in per_side if any(not st["captured"] for st in side["states"])]
        return {"same": None, "sides": per_side,
                "text": f"code state not captured on {', '.join(missing)} (not run in a git repo): cannot tell"}
    prints = {st["fingerprint"] for side in per_side for st in side["states"]}
    if len(prints) == 1:
        text = f"same code on every run: {_describe_state(per_side[0]['states'][0])}"
        return {"same": True, "sides": per_side, "text": text}
    parts = []
    for side in per_side:
        shown = "; ".join(_describe_state(st) for st in side["states"][:2])
        many = f" ({len(side['states'])} different states)" if len(side["states"]) > 1 else ""
        parts.append(f"{side['label']} {shown}{many}")
    return {"same": False, "sides": per_side, "text": f"code differs: {' | '.join(parts)} (--code shows the diff)"}


def _describe_state(st: dict[str, Any]) -> str:
    commit = (st.get("commit") or "no commit")[:10]
    if not st["dirty"]:
        return f"commit {commit}, clean"
    extra = [f"diff {_size(st['diff_bytes'])}"] if st["diff_bytes"] else []
    if st["untracked"]:
        extra.append(plural(st["untracked"], "untracked file"))
    return f"commit {commit} + uncommitted changes ({', '.join(extra)})"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB" if n < 1024 * 1024 else f"{n / 2**20:.1f} MB"

