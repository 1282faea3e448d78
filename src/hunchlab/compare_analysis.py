"""The statistics of a comparison, on plain data: per metric each side's mean over seeds and
Welch's interval and test against the baseline, the paired tests on shared examples, and Holm
over every p-value of the comparison.

Pure (no store, no files), so it is tested and reused without a project; ``compare.py`` loads
its input. See ``compare.py`` for what a comparison holds and how its words are chosen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hunchlab.compare_code import code_summary
from hunchlab.compare_examples import PAIRED_TESTS, UNIT_NOTE, Retest, paired_sides
from hunchlab.compare_sides import config_diff
from hunchlab.errors import BadInput, NotFound, did_you_mean
from hunchlab.metric_info import MetricInfo, metric_info
from hunchlab.multiple_comparisons import holm
from hunchlab.paired import DEFAULT_RESAMPLES
from hunchlab.selectors import plural
from hunchlab.verdicts import Comparison, compare_groups, effective_alpha, paired_verdict

if TYPE_CHECKING:
    from hunchlab.readsql import Tallies
    from hunchlab.shapes import ComparisonRecord, PairedRecord, SideSummary


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
) -> ComparisonRecord:
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
    paired: list[PairedRecord] = []
    retests: list[Retest] = []
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
                raise BadInput(f"metric '{m}' is missing on {', '.join(lacking)}",
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
    raise BadInput(f"the sides have no metric in common: {per_side}",
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


def _metric_tests(samples: list[Sample], paired: list[PairedRecord], retests: list[Retest], confidence: float,
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


def _family_size(tests: list[dict[str, Any]], paired: list[PairedRecord]) -> int:
    """How many p-values were Holm-adjusted together (0: one test, nothing to adjust)."""
    n = sum(t["p"] is not None for t in tests) + sum(1 for p in paired for k in PAIRED_TESTS if p.get(k))
    return n if n > 1 else 0


def _side_summary(side: dict[str, Any]) -> SideSummary:
    runs = side["runs"]
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {"label": side["label"], "selector": side.get("selector"), "group": side.get("group"),
            "description": side.get("description"), "n": len(runs), "runs": [r["id"] for r in runs],
            "seeds": [r.get("seed") for r in runs], "statuses": statuses}
