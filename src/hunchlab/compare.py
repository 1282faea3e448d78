"""``hunch compare``: what differs between runs or seed groups, and whether it matters.

A comparison has four parts, each worded so it never claims more than the data holds:

- config: only the keys whose values differ;
- code: whether the sides ran the same code state (commit, uncommitted diff, untracked files);
- metrics: per summary metric, each side's mean over seeds with a t-interval (cut to the
  metric's range when it has one, ``hunchlab.metric_info``), the difference with Welch's
  interval and test, and a verdict from ``verdicts.compare_groups``: a seed is the unit;
- paired: on examples both sides scored (same ids), a sign-flip test of the accuracy
  (and score) difference, McNemar on per-example correctness, and the flips
  (``hunchlab.compare_examples``): an example is the unit.

With more than two sides every side is compared with the first (the baseline). All
p-values of one comparison form one family and are Holm-adjusted when there is more than
one: ten metrics tested at p<0.05 show a "significant" one by chance 40% of the time.
Degenerate comparisons (n=1 on a side, zero variance on both) have no p and stay out
of the family. Every "within noise" states what the comparison could have detected;
``detect`` asks how many seeds (and examples) a given difference would need.

``compare`` reads the store; ``analyse`` is the pure part, on plain data, so it can be
tested (and reused) without a project.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab import readsql as q
from hunchlab.compare_examples import PAIRED_TESTS, UNIT_NOTE, Retest, add_flip_details, paired_sides, shown_flip_ids
from hunchlab.current import current_store
from hunchlab.errors import HunchError, NotFound, did_you_mean
from hunchlab.identity import same_text
from hunchlab.metric_info import MetricInfo, metric_info
from hunchlab.multiple_comparisons import holm
from hunchlab.project import Project, find_project
from hunchlab.records import flatten
from hunchlab.selectors import Group, Selection, plural, resolve, run_resolver
from hunchlab.verdicts import Comparison, compare_groups, effective_alpha, paired_verdict

if TYPE_CHECKING:
    from hunchlab.readsql import Tallies

LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_RESAMPLES = 10_000  # sign patterns of the paired test when it is neither exact nor normal (docs in paired.py)


# ============================================================ reading the store


def compare(
    selectors: Sequence[str],
    *,
    metrics: Sequence[str] = (),
    flips: int = 5,
    confidence: float = 0.95,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    detect: float | None = None,
    project: Project | None = None,
) -> dict[str, Any]:
    """Compare two or more runs or seed groups (see ``hunchlab.selectors``) as plain data.

    ``detect``: a difference worth detecting; each test then says how many seeds per
    side (or paired examples) would detect it with 80% power.
    """
    if detect is not None and not (math.isfinite(detect) and detect > 0):
        raise HunchError(f"--detect {detect} must be a positive difference", fix="e.g. --detect 0.02")
    options = {"metrics": metrics, "flips": flips, "confidence": confidence, "alpha": alpha, "resamples": resamples,
               "detect": detect}
    project = project or find_project()
    with reading(project) as conn:
        selections = resolve(selectors, (runs := q.all_runs(conn)), run_resolver(runs))
        return compare_groups_of(conn, project, pick_sides(selections), notes_of(selections), **options)


@contextmanager
def reading(project: Project) -> Iterator[Any]:
    """A connection to read the runs: sqlite3 straight to the file when nothing needs the store
    (``readsql.connect_current``: no SQLAlchemy to import), else the store's, after folding."""
    from hunchlab.readsql import connect_current

    direct = connect_current(project)
    if direct is not None:
        with closing(direct):
            yield direct
        return

    with current_store(project) as store, store.read() as conn:
        yield conn


def compare_groups_of(conn: Any, project: Project, picked: Sequence[tuple[str, Group]], notes: list[str],
                      **options: Any) -> dict[str, Any]:
    """Load what ``analyse`` needs for the (selector, group) pairs and run it.

    One query per table for all runs (one per side for the examples, summed by the
    database), then one for the inputs and outputs of the few flips shown.
    """
    sides = sides_from(picked)
    ids = [r["id"] for s in sides for r in s["runs"]]
    detail, last = q.runs_by_id(conn, ids), q.last_values(conn, ids)
    for side in sides:
        side["runs"] = [{**detail[r["id"]], "last": last.get(r["id"], {}),
                         "code_state": code_state(project, detail[r["id"]])} for r in side["runs"]]
    result = analyse(sides, [q.example_tallies(conn, [r["id"] for r in s["runs"]]) for s in sides], **options)
    result["notes"][:0] = notes
    firsts = {s["label"]: s["runs"][0]["id"] for s in sides}
    details = q.example_details(conn, list(firsts.values()), shown_flip_ids(result["paired"]))
    add_flip_details(result["paired"], details, firsts)
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
        if len({same_text(v) for v in values}) > 1:
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

    project = project or find_project()
    with reading(project) as conn:
        picked = pick_sides(resolve(selectors, (runs := q.all_runs(conn)), run_resolver(runs)))
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
    tallies: Sequence[Tallies],
    *,
    metrics: Sequence[str] = (),
    flips: int = 5,
    confidence: float = 0.95,
    alpha: float = 0.05,
    resamples: int = DEFAULT_RESAMPLES,
    detect: float | None = None,
) -> dict[str, Any]:
    """Compare every side with the first, on plain data.

    ``sides``: ``[{"label", "description", "runs": [{"id", "seed", "status", "params",
    "spec_name", "summary", "last": {metric: value}, "code_state", "metric_specs"}]}]``;
    ``tallies``: per side, its examples' sums (``readsql.example_tallies``).
    """
    notes: list[str] = []
    names = choose_metrics(sides, metrics, notes)
    base = sides[0]
    samples = []
    for other in sides[1:]:
        for m in names:
            a, b = _finite(base, m, notes), _finite(other, m, notes)
            if a and b:
                info = metric_info(m, [r.get("metric_specs") for s in (base, other) for r in s["runs"]], a + b)
                samples.append(Sample(m, a, b, (base["label"], other["label"]), info))
    paired, retests = [], []
    for i in range(1, len(sides)):
        found, redo = paired_sides(tallies[0], tallies[i], (base["label"], sides[i]["label"]),
                                   (len(base["runs"]), len(sides[i]["runs"])), flips=flips, alpha=alpha,
                                   resamples=resamples, detect=detect)
        if found is not None:
            paired.append(found)
            retests += redo
    tests = _metric_tests(samples, paired, retests, confidence, alpha, detect)
    if tests and paired:
        notes.append(UNIT_NOTE)
    return {
        "sides": [_side_summary(s) for s in sides],
        "config": config_diff([s["runs"][0] for s in sides]),
        "code": code_summary(sides),
        "metrics": tests,
        "paired": paired,
        "confidence": confidence,
        "alpha": alpha,
        "detect": detect,
        "holm_tests": _family_size(tests, paired),
        "notes": notes,
    }


@dataclass(frozen=True)
class Sample:
    """One metric's per-seed values on two sides, and what is known about the metric."""

    metric: str
    a: list[float]
    b: list[float]
    labels: tuple[str, str]
    info: MetricInfo


def value_of(run: dict[str, Any], metric: str) -> float | None:
    """The run's summary value, else the last value it logged (a running run has no summary yet)."""
    v = run["summary"].get(metric)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    last: float | None = run.get("last", {}).get(metric)
    return last


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
    """The side's finite values of ``metric``; runs without one (or with NaN) are named in a note."""
    values, missing = [], []
    for run in side["runs"]:
        v = value_of(run, metric)
        if v is None:
            missing.append(run["id"])
        elif not math.isfinite(v):
            notes.append(f"{run['id']}: {metric} is {v}, left out")
        else:
            values.append(v)
    if missing:
        note = (f"{metric}: {plural(len(missing), 'run')} of {side['label']} {'has' if len(missing) == 1 else 'have'} "
                f"no value, left out ({', '.join(missing[:5])}{', …' if len(missing) > 5 else ''}); "
                f"{side['label']} is compared on {len(values)} of {len(side['runs'])}")
        if note not in notes:
            notes.append(note)
    return values


def _metric_tests(samples: list[Sample], paired: list[dict[str, Any]], retests: list[Retest], confidence: float,
                  alpha: float, detect: float | None) -> list[dict[str, Any]]:
    """Welch per metric; then Holm over every p-value of the comparison, paired tests included.

    The verdicts are worded on the adjusted p-values, so "significant" means it
    survived the correction for the number of tests, and every interval is redone at
    the level the adjusted verdict used, so the two cannot disagree. Comparisons
    without a p (n=1, zero variance) are not part of the family.
    """
    def run(s: Sample, p_adj: float | None = None) -> Comparison:
        return compare_groups(s.a, s.b, s.metric, s.info.higher_is_better, alpha=alpha, confidence=confidence,
                              p_adjusted=p_adj, labels=s.labels, bounds=s.info.bounds, detect=detect)

    first = [run(s) for s in samples]
    pvalues = [c.p for c in first if c.p is not None] + [p[k]["p"] for p in paired for k in PAIRED_TESTS if p.get(k)]
    adjusted = iter(holm(pvalues) if len(pvalues) > 1 else [None] * len(pvalues))
    results = [c if c.p is None else run(s, next(adjusted)) for s, c in zip(samples, first, strict=True)]
    redo = {id(r.result): r for r in retests}
    for p in paired:
        for k in PAIRED_TESTS:
            if p.get(k):
                p_adj = next(adjusted)
                if p_adj is not None and k in ("accuracy", "score"):
                    p[k].update(redo[id(p[k])].run(effective_alpha(alpha, p[k]["p"], p_adj, len(pvalues))))
                p[k]["p_adjusted"] = p_adj
                p[k]["verdict"] = paired_verdict(k, p[k], p["labels"], alpha)
    return [_metric_row(c, s.info) for c, s in zip(results, samples, strict=True)]


def _metric_row(c: Comparison, info: MetricInfo) -> dict[str, Any]:
    """A comparison as JSON, with where the metric's range and goal came from."""
    return {**c.to_dict(), "labels": list(c.labels), "bounds": list(c.bounds) if c.bounds else None,
            "bounds_from": info.bounds_from, "goal": info.goal, "goal_from": info.goal_from}


def _family_size(tests: list[dict[str, Any]], paired: list[dict[str, Any]]) -> int:
    """How many p-values were Holm-adjusted together (0: one test, nothing to adjust)."""
    n = sum(t["p"] is not None for t in tests) + sum(1 for p in paired for k in PAIRED_TESTS if p.get(k))
    return n if n > 1 else 0


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

