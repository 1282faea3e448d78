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

This module reads the store (``compare``, and ``code_diff`` for ``--code``); the parts of
a comparison live apart, one job each: ``compare_sides`` (which runs form each side, and
their names), ``compare_analysis`` (the statistics: pure, on plain data, so tested and
reused without a project), ``compare_code`` (code states and whether they match) and
``compare_examples`` (the paired tests on shared examples).
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hunchlab import readsql as q
from hunchlab.capture import restore_code
from hunchlab.compare_analysis import analyse
from hunchlab.compare_code import code_state
from hunchlab.compare_examples import add_flip_details, shown_flip_ids
from hunchlab.compare_sides import notes_of, pick_sides, sides_from
from hunchlab.current import current_store
from hunchlab.errors import BadInput, WrongState
from hunchlab.outputs import drop_binary_sections
from hunchlab.paired import DEFAULT_RESAMPLES
from hunchlab.project import Project, find_project
from hunchlab.selectors import Group, resolve, run_resolver

if TYPE_CHECKING:
    from hunchlab.shapes import ComparisonRecord


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
) -> ComparisonRecord:
    """Compare two or more runs or seed groups (see ``hunchlab.selectors``) as plain data.

    ``detect``: a difference worth detecting; each test then says how many seeds per
    side (or paired examples) would detect it with 80% power.
    """
    if detect is not None and not (math.isfinite(detect) and detect > 0):
        raise BadInput(f"--detect {detect} must be a positive difference", fix="e.g. --detect 0.02")
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
    direct = q.connect_current(project)
    if direct is not None:
        with closing(direct):
            yield direct
        return

    with current_store(project) as store, store.read() as conn:
        yield conn


def compare_groups_of(conn: Any, project: Project, picked: Sequence[tuple[str, Group]], notes: list[str],
                      **options: Any) -> ComparisonRecord:
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


def code_diff(selectors: Sequence[str], *, project: Project | None = None) -> str:
    """The diff between the code states of the first run of the first two sides (git diff of the rebuilt trees)."""
    project = project or find_project()
    with reading(project) as conn:
        picked = pick_sides(resolve(selectors, (runs := q.all_runs(conn)), run_resolver(runs)))
        firsts = [g.runs[0]["id"] for _, g in picked[:2]]
        detail = q.runs_by_id(conn, firsts)
    runs = [detail[i] for i in firsts]
    states = [code_state(project, r) for r in runs]
    if not all(s["captured"] for s in states):
        raise WrongState("a side's code state was not captured (it did not run in a git repo)",
                         fix="only runs started inside a git work tree can be diffed")
    if states[0]["fingerprint"] == states[1]["fingerprint"]:
        return ""
    with tempfile.TemporaryDirectory(prefix="hunch-code-") as tmp:
        for label, run in zip("AB", runs, strict=True):
            restore_code(run["code"], project.run_dir(run["id"]) / "code", Path(tmp) / label)
        out = subprocess.run(["git", "diff", "--no-index", "--no-color", "--src-prefix=", "--dst-prefix=", "A", "B"],
                             cwd=tmp, capture_output=True, text=True)

    return drop_binary_sections(out.stdout)  # checkpoints and other binary outputs are not code
