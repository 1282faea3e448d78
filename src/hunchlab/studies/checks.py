"""Claims that fail both ways: the one mechanism every study's check is built from.

A study's check answers "did the paper's finding appear?" from the summary metrics
of the study's runs (one dict per seed). A lower bound alone cannot answer it: a
break that *raises* a number (answers leaked to a verifier, one arm given a bigger
budget) would pass. So a check is made of three kinds of rows:

- ``Claim``: an effect (a difference between arms) that must exceed ``threshold``
  (about 3 sd of its seed-to-seed spread, so zero cannot pass by luck) or, with
  ``at_most``, stay below a bound. An effect above ``ceiling`` (what the mechanism
  allows, or far beyond the paper) is *flagged*, not passed: "larger than the paper
  — check for leakage".
- ``Invariant``: what makes the comparison fair (equal budgets counted by the
  study, the same test problems, no answer leaking to a verifier). A violated
  invariant fails the check whatever the effects say, because the effects then mean
  nothing.

A claim the toy is known not to reproduce (its ``deviation`` says how and which
setting does reproduce it) is still measured and tested as stated; when it does not
hold, its row says "deviates from the paper" with that text instead of failing, so
a reader sees the deviation rather than a silent omission or a check that can never pass.

``evaluate(study, claims, invariants, summaries)`` turns them into rows that
``hunch study check`` prints and ``--json`` returns. Each row says what was
measured, the spread over runs, the bounds, the paper's number and a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Summary = dict[str, Any]

REPRODUCED = "reproduced"
PARTLY = "partly"
NOT_REPRODUCED = "not reproduced"
TOO_LARGE = "larger than the paper — check for leakage"
DEVIATES = "deviates from the paper"


@dataclass(frozen=True)
class Claim:
    """One finding of the paper, as an effect measured in each run."""

    claim: str  # what the paper found, in words
    effect: Callable[[Summary], float]  # the measured effect in one run's summary
    threshold: float | None  # passes when the mean effect is above this (None: no lower bound)
    paper: str  # the paper's number and where it is in the paper
    ceiling: float | None = None  # above this the effect is beyond the mechanism: flagged, fails
    at_most: float | None = None  # passes only when the mean effect is at most this (upper-bound claims)
    partly_below: float | None = None  # passes, but "partly", when the effect is below this
    note: str | None = None  # what the toy changes about this claim (e.g. a different mechanism)
    deviation: str | None = None  # a known deviation: when the claim does not hold, reported with this, not failed


@dataclass(frozen=True)
class Invariant:
    """A condition that makes the comparison fair; the check fails when it does not hold."""

    what: str  # e.g. "beam search and best-of-N drew the same number of samples"
    holds: Callable[[Summary], bool]  # true when the condition holds in one run


def gap(a: str, b: str) -> Callable[[Summary], float]:
    """The effect ``summary[a] - summary[b]``: most claims compare two arms."""
    return lambda m: float(m[a]) - float(m[b])


def equal(a: str, b: str, *, rel: float = 1e-9) -> Callable[[Summary], bool]:
    """An invariant's test: two counted quantities (budgets, problem counts) are equal."""
    return lambda m: math.isclose(float(m[a]), float(m[b]), rel_tol=rel, abs_tol=0.0)


def equal_pairs(a: str, b: str, *, rel: float = 1e-9) -> Callable[[Summary], bool]:
    """An invariant's test over many cells: every metric named ``a...`` equals its ``b...`` counterpart.

    E.g. ``equal_pairs("budget/generated/beam/", "budget/generated/bon/")`` holds when
    beam search and best-of-N spent the same at every difficulty and budget. No ``a...``
    metric at all (or a missing counterpart) is "not measured", never a pass.
    """
    def holds(m: Summary) -> bool:
        keys = [k for k in m if k.startswith(a)]
        if not keys:
            raise KeyError(f"{a}*")
        return all(math.isclose(float(m[k]), float(m[b + k[len(a):]]), rel_tol=rel, abs_tol=0.0) for k in keys)

    return holds


def evaluate(study: str, claims: Sequence[Claim], invariants: Sequence[Invariant],
             summaries: Sequence[Summary]) -> list[dict[str, Any]]:
    """One row per invariant, then one per claim; a row with ``passed`` False fails the check."""
    rows = [_invariant_row(study, inv, summaries) for inv in invariants]
    rows += [_claim_row(study, claim, summaries) for claim in claims]
    return rows


def _invariant_row(study: str, inv: Invariant, summaries: Sequence[Summary]) -> dict[str, Any]:
    try:
        broken = [i for i, m in enumerate(summaries) if not inv.holds(m)]
    except KeyError as missing:
        return {"study": study, "kind": "invariant", "claim": inv.what, "measured": None, "passed": False,
                "verdict": f"not measured (no metric {missing})", "runs": len(summaries)}
    verdict = "holds" if not broken else f"violated in {len(broken)} of {len(summaries)} run(s): the comparison is unfair"
    return {"study": study, "kind": "invariant", "claim": inv.what, "measured": None, "passed": not broken,
            "verdict": verdict, "runs": len(summaries)}


def _claim_row(study: str, claim: Claim, summaries: Sequence[Summary]) -> dict[str, Any]:
    row: dict[str, Any] = {"study": study, "kind": "claim", "claim": claim.claim, "paper": claim.paper,
                           "threshold": claim.threshold, "ceiling": claim.ceiling, "at_most": claim.at_most,
                           "runs": len(summaries)}
    if claim.note:
        row["note"] = claim.note
    try:
        values = [float(claim.effect(m)) for m in summaries]
    except KeyError as missing:
        return {**row, "measured": None, "sd": None, "verdict": f"not measured (no metric {missing})",
                "passed": False}
    if not values or any(math.isnan(v) for v in values):
        return {**row, "measured": None, "sd": None, "verdict": "not measured (no runs, or a NaN effect)",
                "passed": False}
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
    row.update(measured=mean, sd=sd)
    if claim.ceiling is not None and mean > claim.ceiling:
        return {**row, "verdict": TOO_LARGE, "passed": False}
    above = claim.threshold is None or mean > claim.threshold
    below = claim.at_most is None or mean <= claim.at_most
    if not (above and below):
        if claim.deviation:
            return {**row, "verdict": f"{DEVIATES}: {claim.deviation}", "passed": True, "deviation": True}
        return {**row, "verdict": NOT_REPRODUCED, "passed": False}
    partly = claim.partly_below is not None and mean < claim.partly_below
    return {**row, "verdict": PARTLY if partly else REPRODUCED, "passed": True}


def failed(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The claims (and invariants) a check did not pass: what tests assert on."""
    return [row["claim"] for row in rows if not row["passed"]]
