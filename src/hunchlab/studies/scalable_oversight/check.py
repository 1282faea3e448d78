"""Did a run reproduce the papers? One row per invariant and claim, from the runs' summary metrics.

Every number below is measured on this code (CPU, 1 torch thread); sd is the
spread of a run's value across seeds at the smoke budget, the budget the tests
use, so each threshold is about 3 sd: an effect of zero cannot pass by luck.

weak-to-strong (5 runs of the smoke budget, 8 seeds each; broken arms: 5 runs of 4 seeds)

  ceiling - weak accuracy        0.285 +- 0.002   threshold 0.10 (a gap to recover; it is set by the world)
  PGR, naive student             0.178 +- 0.013   threshold 0.04   (shuffled weak labels: -0.510 +- 0.096)
  PGR, confidence - naive        0.495 +- 0.030   threshold 0.09   (conf_weight 0: exactly 0)
  PGR of either student          at most 0.71;    flagged above 1.05 (beyond the ceiling: a leak)
  PGR, naive, noise-free weak    0.000 +- 0.000;  flagged above 0.05 (every error imitable: nothing to recover)

debate (5 seeds, k = 4 and 6, greedy debaters; a smoke run has one seed, so sd is per seed)

  gain over random pixels, liar first (honest last)   k=4 0.283 +- 0.023, k=6 0.226 +- 0.016   threshold 0.07
  gain over random pixels, honest first               k=4 0.244 +- 0.021, k=6 0.184 +- 0.021   threshold 0.07
  (random-pixel debaters: -0.006 +- 0.019 to +0.015 +- 0.011 over 3 seeds)
  honest win rate, worst order and k                  0.694 +- 0.021 (k=4, honest first)      threshold 0.5
  (roles swapped: 0.001 to 0.003)

With an odd k the first mover reveals one pixel more (k=3, one seed: honest
first 0.90, liar first 0.31), so the check requires equal reveals, as the
paper's k=4 and 6 give. The debate gains are claimed at every k the run has
(the worst k counts), and flagged above +0.5, beyond what the paper's MCTS
debaters gained (+0.37 at 4 pixels, +0.295 at 6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, evaluate, gap


BURNS_NAIVE = ("Burns et al. 2023, sec. 4.2 and Fig. 3: naively finetuned strong students beat their weak "
               "supervisors on NLP tasks, chess puzzles and reward modelling (positive PGR), far from the ceiling")
BURNS_CONF = ("Burns et al. 2023, sec. 4.3.2, eq. 1 and Fig. 5: the auxiliary confidence loss raises PGR on NLP "
              "tasks, to about 80% for the smallest supervisor with the largest student")
IRVING = ("Irving et al. 2018, sec. 3.1 (MNIST, MCTS debaters, 10,000 rollouts a move, precommitted claims, "
          "the liar wins if any of its nine lies wins): judge accuracy 48.2% -> 85.2% with debate at 4 pixels "
          "(+37.0), 59.4% -> 88.9% at 6 (+29.5)")
FAR_FROM_PAPER = "greedy debaters on generated glyphs; the gains are about two-thirds of the paper's"


def per_k(m: Summary, prefix: str) -> dict[int, float]:
    """``{k: m[f"{prefix}/k{k}"]}`` for every k the run has; KeyError (so "not measured") when it has none."""
    pattern = re.compile(rf"{re.escape(prefix)}/k(\d+)")
    found = {int(match.group(1)): float(v) for name, v in m.items() if (match := pattern.fullmatch(name))}
    if not found:
        raise KeyError(f"{prefix}/k*")
    return found


def worst(*prefixes: str) -> Callable[[Summary], float]:
    """The effect: the smallest value of these metrics over every k (a claim must hold at each k)."""
    return lambda m: min(v for prefix in prefixes for v in per_k(m, prefix).values())


WEAK_TO_STRONG = [
    Claim("the strong ceiling beats the weak supervisor: there is a gap to recover",
          gap("acc/ceiling", "acc/weak"), 0.10,
          "Burns et al. 2023, sec. 3: PGR is measured where the ceiling is well above the weak supervisor"),
    Claim("a naive strong student beats its weak supervisor: PGR > 0", lambda m: float(m["pgr/naive"]), 0.04,
          BURNS_NAIVE),
    Claim("the confidence loss recovers more of the gap than naive training",
          gap("pgr/conf", "pgr/naive"), 0.09, BURNS_CONF),
    Claim("neither student beats the strong ceiling (PGR at most 1.05)",
          lambda m: max(float(m["pgr/naive"]), float(m["pgr/conf"])), None,
          "PGR is at most 1 up to noise: a student above its ceiling learned from more than its labels",
          ceiling=1.05),
    Claim("a weak supervisor whose errors are all imitable is imitated: noise-free naive PGR about 0",
          lambda m: float(m["pgr/naive_noise_free"]), None,
          "Burns et al. 2023, sec. 5 and App. E: the more imitable the weak errors, the lower PGR "
          "(errors the student can compute exactly are learned, not corrected)", ceiling=0.05),
]

WEAK_TO_STRONG_FAIRNESS = [
    Invariant("every student and the ceiling trained on the same number of examples (steps x batch)",
              lambda m: m["budget/naive"] == m["budget/conf"] == m["budget/ceiling"]),
    Invariant("the ceiling had as many ground-truth labels as the students had weak labels",
              lambda m: m["data/weak_train"] == m["data/transfer"]),
    Invariant("the students learn on a split the weak supervisor never trained on",
              lambda m: m["data/overlap"] == 0),
]

DEBATE = [
    Claim("debate beats k random pixels with the liar moving first (the honest debater last, for even k)",
          worst("gain/liar_first"), 0.07, IRVING, ceiling=0.5, note=FAR_FROM_PAPER),
    Claim("debate beats k random pixels with the honest debater moving first",
          worst("gain/honest_first"), 0.07, IRVING, ceiling=0.5, note=FAR_FROM_PAPER),
    Claim("the honest debater wins more than half of its debates, in either order",
          worst("win/liar_first", "win/honest_first"), 0.5, IRVING),
]

DEBATE_FAIRNESS = [
    Invariant("every debate revealed exactly k different inked pixels",
              lambda m: all(v == k for prefix in ("pixels/revealed/liar_first", "pixels/revealed/honest_first")
                            for k, v in per_k(m, prefix).items())
              and not any(per_k(m, "pixels/uninked/liar_first").values())
              and not any(per_k(m, "pixels/uninked/honest_first").values())),
    Invariant("each debater revealed as many pixels as the other (k even)",
              lambda m: not any(v for prefix in ("pixels/liar_minus_honest/liar_first",
                                                 "pixels/liar_minus_honest/honest_first")
                                for v in per_k(m, prefix).values())),
    Invariant("the liar argued every wrong class (nine debates per glyph)",
              lambda m: all(v == m["classes"] - 1 for v in per_k(m, "lies_per_image").values())),
    Invariant("the liar is a real adversary: alone it fools the judge more often than random pixels do",
              lambda m: all(per_k(m, "win/liar_alone")[k] < acc for k, acc in per_k(m, "acc/random").items())),
]


def check_weak_to_strong(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The weak-to-strong study's invariants and claims over its runs' summaries."""
    return evaluate("weak-to-strong", WEAK_TO_STRONG, WEAK_TO_STRONG_FAIRNESS, summaries)


def check_debate(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The debate study's invariants and claims over its runs' summaries."""
    return evaluate("debate", DEBATE, DEBATE_FAIRNESS, summaries)
