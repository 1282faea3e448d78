"""The paired half of ``hunch compare``: the examples both sides scored (same ids).

Per side, the store sums each example's ``correct`` and ``score`` over the side's runs
(``readsql.example_tallies``: sorted id columns); here the two sides are
aligned by id with one ``np.intersect1d`` and every test runs on whole arrays:

- accuracy and score: the sign-flip test of the mean per-example difference
  (``hunchlab.paired``: exact for few examples, never a p below what they allow),
  with the interval that inverts it, cut to [-1, 1] for accuracy;
- correct: McNemar's test on "right" (correct on more than half of a side's runs);
- the flips, right→wrong and wrong→right, largest change first.

The unit is an example, with each side's seeds averaged first, so these tests ask
whether B's runs beat A's *on these examples*; they say nothing of seed-to-seed noise,
which the metrics table (a seed is the unit) covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import numpy as np

from hunchlab.calibration import wilson_interval
from hunchlab.paired import paired_test
from hunchlab.significance import mcnemar
from hunchlab.verdicts import paired_power

if TYPE_CHECKING:
    from hunchlab.readsql import Tallies
    from hunchlab.shapes import Flips, PairedRecord

PAIRED_TESTS: Final[tuple[Literal["accuracy"], Literal["mcnemar"], Literal["score"]]] = ("accuracy", "mcnemar",
                                                                                         "score")
FLIPS: Final[tuple[Literal["right_to_wrong"], Literal["wrong_to_right"]]] = ("right_to_wrong", "wrong_to_right")
ACCURACY_DIFF_RANGE = (-1.0, 1.0)  # a per-example accuracy is in [0, 1], so its difference is in [-1, 1]
UNIT_NOTE = ("units: the metrics table counts a seed (a run) as one sample and asks whether the config helps "
             "beyond seed-to-seed noise; the paired tests count an example as one sample, each side's seeds "
             "averaged, and ask whether B's runs beat A's on these examples — a small paired p with a seed-level "
             "\"within noise\" means the runs differ on these examples but not reliably across seeds")


@dataclass
class Retest:
    """A paired test to redo at the level Holm leaves it (same data and seed: same p, new interval)."""

    result: dict[str, Any]
    run: Callable[[float], dict[str, Any]]


def paired_sides(ta: Tallies, tb: Tallies, labels: tuple[str, str], runs: tuple[int, int], *, flips: int,
                 alpha: float, resamples: int, detect: float | None) -> tuple[PairedRecord | None, list[Retest]]:
    """Paired tests on the examples two sides share; None when fewer than two are shared."""
    shared, ia, ib = np.intersect1d(ta.ids, tb.ids, assume_unique=True, return_indices=True)
    with_correct = (ta.correct_n[ia] > 0) & (tb.correct_n[ib] > 0)
    # A NaN score (PostgreSQL keeps one; SQLite stores NULL) leaves that example out of the score test.
    with_score = (ta.score_n[ia] > 0) & (tb.score_n[ib] > 0) & np.isfinite(ta.score_sum[ia] + tb.score_sum[ib])
    if with_correct.sum() < 2 and with_score.sum() < 2:
        return None, []
    a, b = labels
    out: dict[str, Any] = {"labels": [a, b], "n_shared": int(shared.size), "unit": "example",
                           "only": {a: int(ta.ids.size - shared.size), b: int(tb.ids.size - shared.size)}}
    retests = []
    if with_correct.sum() >= 2:
        ja, jb = ia[with_correct], ib[with_correct]
        pa, pb = ta.correct_sum[ja] / ta.correct_n[ja], tb.correct_sum[jb] / tb.correct_n[jb]
        retests.append(_add_test(out, "accuracy", pa, pb, ACCURACY_DIFF_RANGE, alpha, resamples, detect))
        out["accuracy"].update(_wilson_sides(ta, tb, ja, jb, pa, pb))
        right_a, right_b = pa > 0.5, pb > 0.5
        out["mcnemar"] = mcnemar(right_a, right_b).to_dict()
        out["right_rule"] = None if runs == (1, 1) else "right = correct on more than half of a side's runs"
        out["flips"] = _flips(shared[with_correct], pa, pb, right_a, right_b, (ta, ja), (tb, jb), flips)
    if with_score.sum() >= 2:
        ja, jb = ia[with_score], ib[with_score]
        sa, sb = ta.score_sum[ja] / ta.score_n[ja], tb.score_sum[jb] / tb.score_n[jb]
        retests.append(_add_test(out, "score", sa, sb, None, alpha, resamples, detect))
    out.setdefault("flips", {"n_right_to_wrong": 0, "n_wrong_to_right": 0, "right_to_wrong": [], "wrong_to_right": []})
    # Built key by key so that --json keeps its key order (flips after the correctness tests, before score).
    return cast("PairedRecord", out), retests


def _add_test(out: dict[str, Any], kind: str, x: np.ndarray, y: np.ndarray, bounds: tuple[float, float] | None,
              alpha: float, resamples: int, detect: float | None) -> Retest:
    sd = float(np.std(y - x, ddof=1))

    def run(level: float) -> dict[str, Any]:
        test = paired_test(x, y, confidence=1.0 - level, resamples=resamples, bounds=bounds).to_dict()
        return {**test, "power": vars(paired_power(sd, test["n"], test["min_p"], level, detect)),
                "a_mean": float(x.mean()), "b_mean": float(y.mean())}

    out[kind] = run(alpha)
    return Retest(out[kind], run)


def _wilson_sides(ta: Tallies, tb: Tallies, ja: np.ndarray, jb: np.ndarray, pa: np.ndarray,
                  pb: np.ndarray) -> dict[str, Any]:
    """Each side's accuracy over the shared examples with a Wilson interval, when each example is one record.

    With several runs a side's records of one example are not independent draws, so
    no per-side interval is given there: the metrics table has the seed-level ones.
    """
    if not ((ta.correct_n[ja] == 1).all() and (tb.correct_n[jb] == 1).all()):
        return {"a_interval": None, "b_interval": None, "side_interval": None}
    return {"a_interval": list(wilson_interval(float(pa.sum()), pa.size, 0.95)),
            "b_interval": list(wilson_interval(float(pb.sum()), pb.size, 0.95)), "side_interval": "95% Wilson"}


def _flips(ids: np.ndarray, pa: np.ndarray, pb: np.ndarray, right_a: np.ndarray, right_b: np.ndarray,
           side_a: tuple[Tallies, np.ndarray], side_b: tuple[Tallies, np.ndarray], shown: int) -> Flips:
    """Counts of both kinds of flip, and the first ``shown`` of each: largest change first, then by id."""
    (ta, ja), (tb, jb) = side_a, side_b
    out: dict[str, Any] = {}
    for kind, mask in (("right_to_wrong", right_a & ~right_b), ("wrong_to_right", ~right_a & right_b)):
        idx = np.flatnonzero(mask)
        idx = idx[np.lexsort((ids[idx], -np.abs(pa[idx] - pb[idx])))][:shown]
        out[f"n_{kind}"] = int(mask.sum())
        out[kind] = [{"id": str(ids[i]), "a_right": int(ta.correct_sum[ja[i]]), "a_n": int(ta.correct_n[ja[i]]),
                      "b_right": int(tb.correct_sum[jb[i]]), "b_n": int(tb.correct_n[jb[i]])} for i in idx]
    return cast("Flips", out)  # both kinds: n_KIND and KIND


def shown_flip_ids(paired: Sequence[PairedRecord]) -> list[str]:
    """The ids of every flip shown, whose inputs and outputs are read afterwards."""
    return sorted({f["id"] for p in paired for kind in FLIPS for f in p["flips"][kind]})


def add_flip_details(paired: Sequence[PairedRecord], details: dict[tuple[str, str], dict[str, Any]],
                     firsts: dict[str, str]) -> None:
    """Input, target and each side's output (from its first run, ``firsts[label]``) for the flips shown."""
    for p in paired:
        ra, rb = (firsts[label] for label in p["labels"])
        for kind in FLIPS:
            for f in p["flips"][kind]:
                da, db = details.get((ra, f["id"]), {}), details.get((rb, f["id"]), {})
                f.update({"input": da.get("input", db.get("input")), "target": da.get("target", db.get("target")),
                          "a_output": da.get("output"), "b_output": db.get("output")})
