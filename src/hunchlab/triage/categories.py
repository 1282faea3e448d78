"""Categories counted largest first, with each one's estimated share of *all* failures and its interval.

"Categorize them and then focus on the largest category": ``hunch categories`` counts the tags of
a run's sample, and because the sample is a sample, states each category's share of every failure
with an interval (stratum weights and the finite population accounted for, in ``stratified``).
With ``--vs`` it also says how many of a category's examples another run gets right: did the fix
shrink the category it aimed at?
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab.errors import WrongState
from hunchlab.triage.examples import open_run, require_examples
from hunchlab.triage.stratified import CONFIDENCE, estimate_share

if TYPE_CHECKING:
    from hunchlab.figure_files import FigureFiles
    from hunchlab.project import Project


@dataclass(frozen=True)
class CategoryRow:
    """One category: its count, share of the counted tags, and estimated share of all failures."""

    category: str
    count: int
    share: float
    estimate: float
    low: float
    high: float
    vs_right: int | None = None  # with --vs: how many of these examples the other run gets right
    vs_wrong: int | None = None
    vs_missing: int | None = None  # not among the other run's examples


@dataclass(frozen=True)
class CategoryReport:
    """Category counts for a run, largest first (``hunch categories``)."""

    run_id: str
    failures: int  # failures the estimate is about (when the sample was drawn)
    sampled: int | None  # size of the sample; None when tags were given without one
    tagged: int
    untagged: int
    by: str | None
    outside: int  # tags on examples outside the sample: shown, not counted
    rows: list[CategoryRow]
    where: list[str] = field(default_factory=list)  # the filters the sample's failures matched
    vs: str | None = None
    confidence: float = CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def categories(ref: str, *, vs: str | None = None, project: Project | None = None) -> CategoryReport:
    """Counts per category, largest first, with shares and estimated shares of all failures.

    With a sample, the counted examples are the sample's tagged ones (tags elsewhere
    are reported as ``outside``, since they were not picked at random). Without one,
    every tagged example counts and is treated as a random sample of the failures.
    With ``vs``, each row also says how many of its examples the other run gets right:
    did the fix shrink the category it aimed at?
    """
    from hunchlab.store import triage as q  # lazy: loads sqlalchemy only when called

    store, run_id = open_run(ref, project)
    with store:
        other = store.resolve_run(vs) if vs else None
        with store.read() as conn:
            counts = require_examples(conn, run_id)
            stored = q.load_sample(conn, run_id)
            tags = {t["example_id"]: t["category"] for t in q.run_tags(conn, run_id) if t["category"]}
            if stored is not None:
                members = {i["example_id"]: i["stratum"] for i in stored["items"]}
                population = dict(stored["population"])
            else:
                members = {example_id: None for example_id in tags}
                population = {None: max(counts.get(False, 0), len(tags))}
            counted = {e: c for e, c in tags.items() if e in members}
            right = q.correct_of(conn, other, list(counted)) if other else {}
    read = Counter(members[e] for e in counted)
    rows = []
    for category, n in sorted(Counter(counted.values()).items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [e for e, c in counted.items() if c == category]
        hits = Counter(members[e] for e in mine)
        estimate, low, high = estimate_share(hits, read, population)
        vs_cols = {}
        if other:
            vs_cols = {"vs_right": sum(1 for e in mine if right.get(e) is True),
                       "vs_wrong": sum(1 for e in mine if right.get(e) is False),
                       "vs_missing": sum(1 for e in mine if e not in right)}
        rows.append(CategoryRow(category, n, n / len(counted), estimate, low, high, **vs_cols))
    return CategoryReport(run_id=run_id, failures=sum(population.values()),
                          sampled=len(members) if stored is not None else None, tagged=len(counted),
                          untagged=(len(members) if stored is not None else sum(population.values())) - len(counted),
                          by=stored["by"] if stored else None, outside=len(tags) - len(counted), rows=rows,
                          where=stored["where"] if stored else [], vs=other)


def plot_categories(report: CategoryReport, out: str | Path) -> FigureFiles:
    """The estimated share of failures per category as bars with their intervals, largest first."""
    from hunchlab.plots import bar_chart  # lazy: loads numpy only when called

    if not report.rows:
        raise WrongState(f"nothing tagged in run {report.run_id} to plot", fix=f"hunch failures {report.run_id} --sample 100")
    bars = [{"label": r.category, "mean": r.estimate, "lo": r.low, "hi": r.high} for r in report.rows]
    return bar_chart(bars, out, title=f"Failure categories of {report.run_id} ({report.tagged} tagged of "
                                      f"{report.failures} failures)",
                     ylabel=f"estimated share of failures ({report.confidence:.0%} CI)")
