"""Does a run reproduce the papers? One row per invariant and claim, from the runs' summary metrics.

Thresholds come from 5 runs (run seeds 0-4) at the smoke budget. STaR: 3
rounds, 3 STaR seeds per run, 1,000 test problems per length. Reward
over-optimisation: one training seed per run, 1,000 test problems of 4 steps,
N up to 64. Each threshold is about 3 sd of the effect's run-to-run spread, and
above what a judge with no signal reaches by noise: a judge scoring at random,
on the same pools (5 seeds x 20 draws), gives a gold rise of 0.006 and a fall of
0.008 on average, 0.040 and 0.036 at worst, under the 0.05 thresholds. Measured
effect, mean +- sd over the 5 runs (broken arm):

STaR (broken arms: filter=none | filter=shuffled)
  step accuracy, last round - round 0        0.171 +- 0.013   threshold 0.04   (-0.093 | -0.084)
  held-out steps: share of the gap closed    0.379 +- 0.031   threshold 0.10   (0.012 | 0.015)
                                                              ceiling 1.0: above the label-smoothing cap
  answer accuracy, 4-step chains, gain       0.089 +- 0.011   threshold 0.035  (-0.013 | -0.012)
  taught steps, last round - round 0        -0.010 +- 0.003   threshold -0.03  (-0.218 | -0.199)

Reward over-optimisation (broken arm: pick=argmin)
  outcome judge: gold rise, peak - N=1       0.118 +- 0.014   threshold 0.05   (0.0)
  outcome judge: gold fall, peak - N=64      0.260 +- 0.005   threshold 0.05   (0.272: argmin falls from N=1)
  outcome judge: N of the gold peak          4.0   +- 0.0     threshold 1      (1)
  outcome judge: own score, N=64 - peak      0.244 +- 0.011   threshold 0.05   (-0.309)
  fit alpha                                  0.327 +- 0.030   threshold 0.10   (-0.336)
  fit beta                                   0.229 +- 0.012   threshold 0.05   (-0.099)
  fit R^2                                    0.995 +- 0.002   threshold 0.9    (0.968)
  fit's peak N                               3.35  +- 0.20    threshold 1      (none: beta < 0)
  process judge: gold, N=64 - outcome peak   0.175 +- 0.026   threshold 0.08   (-0.265)
  process judge: drop below its best         0.000 +- 0.000   at most 0.03     (0.265)
  process judge: share of pass@N's gain      0.650 +- 0.064   threshold 0.3    (-0.466); ceiling 0.95: an oracle
  self-judge: gold, N=64 - N=1               0.161 +- 0.012   threshold 0.05   (-0.267)
  self-judge: |gold at N=64 - greedy|        0.003 +- 0.002   at most 0.03     (0.427)
  process judge - self-judge, N=64           0.208 +- 0.035   threshold 0.10   (0.002)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, evaluate


def metric(name: str) -> Callable[[Summary], float]:
    """The effect is one summary metric (the science computes each difference itself)."""
    return lambda m: float(m[name])


ZELIKMAN_ARITHMETIC = (
    "Zelikman et al. 2022, sec. 5.1, Fig. 4: n-digit addition accuracy rises over STaR iterations "
    "(89.5% after 16 iterations, vs 76.3% for a model fine-tuned on answers directly)"
)
ZELIKMAN_TABLE1 = (
    "Zelikman et al. 2022, Table 1: CommonsenseQA, GPT-J, few-shot chain of thought 36.6% -> "
    "STaR without rationalization 68.8%"
)

STAR = [
    Claim(
        "step accuracy over the whole step table rises from round 0 to the last round",
        metric("gain/step_acc"),
        0.04,
        ZELIKMAN_ARITHMETIC,
    ),
    Claim(
        "the policy learns steps it was never taught: share of the gap to the cap closed on held-out steps",
        metric("gap_closed/step_acc_unseen"),
        0.10,
        ZELIKMAN_ARITHMETIC,
        ceiling=1.0,
        note="the cap is 0.91 (label smoothing keeps 10% off the right value); more than the whole gap means "
        "the policy learned from something other than its own kept chains",
    ),
    Claim(
        "answer accuracy on the longest test chains rises",
        metric("gain/answer_acc"),
        0.035,
        ZELIKMAN_TABLE1,
    ),
    Claim(
        "the steps it was taught are not lost (their accuracy falls by less than 0.03)",
        metric("gain/step_acc_seen"),
        -0.03,
        "Zelikman et al. 2022, sec. 3.1: each iteration fine-tunes the original model on the kept rationales",
    ),
]

STAR_INVARIANTS = [
    Invariant("the filter kept only chains whose final answer the checker marks right",
              lambda m: float(m["kept_wrong_answer"]) == 0),
    Invariant("every round kept chains to fine-tune on", lambda m: float(m["rounds_trained"]) == float(m["rounds"])),
]

GAO_FIG1 = (
    "Gao et al. 2022, Fig. 1a: with best-of-n, the gold reward model score rises then falls as KL grows, "
    "while the proxy reward model's score rises monotonically"
)
GAO_FORM = "Gao et al. 2022, sec. 3: R_bon(d) = d(alpha_bon - beta_bon d), d = sqrt(KL), fits best-of-n's gold score"
TOY_GOLD = "gold here is the chain's answer being right (accuracy), fitted as its gain over N=1"
HUANG_FIG1 = (
    "Huang et al. 2024, sec. 1 and Fig. 1: best-of-N with the model's own sequence log-probability as the "
    "self-reward sharpens it toward its most likely answers; it cannot add what the model does not know"
)

OVEROPTIMISATION = [
    Claim("best-of-N against the outcome judge first raises gold accuracy (peak minus N=1)",
          metric("outcome/rise"), 0.05, GAO_FIG1, note=TOY_GOLD),
    Claim("then lowers it (peak minus the largest N)", metric("outcome/fall"), 0.05, GAO_FIG1),
    Claim("N at which gold accuracy peaks (must be above 1)", metric("outcome/peak_n"), 1.0, GAO_FIG1,
          note="the measured value is the mean over runs of the best budget"),
    Claim("the outcome judge's own score keeps rising after gold has peaked (largest N minus the peak)",
          metric("outcome/proxy_rise_after_peak"), 0.05, GAO_FIG1),
    Claim("gold gain fits d(alpha - beta d): alpha (the rise at small KL)", metric("fit/alpha"), 0.10, GAO_FORM,
          note=TOY_GOLD),
    Claim("gold gain fits d(alpha - beta d): beta (the over-optimisation)", metric("fit/beta"), 0.05, GAO_FORM),
    Claim("the fit explains the gold curve (R^2)", metric("fit/r2"), 0.9, GAO_FORM),
    Claim("N at the fit's peak, d = alpha / (2 beta)", metric("fit/peak_n"), 1.0, GAO_FORM),
    Claim("a process-labelled judge keeps rising after the outcome judge's peak (largest N minus that N)",
          metric("process/rise_after_outcome_peak"), 0.08,
          "Gao et al. 2022, Fig. 1a and sec. 3: a better proxy over-optimises later; Lightman et al. 2023, Fig. 3: "
          "process supervision keeps improving best-of-N up to N=1860"),
    Claim("the process judge never falls more than 0.03 below its best", metric("process/drop_from_peak"), None,
          "Lightman et al. 2023, Fig. 3", at_most=0.03),
    Claim("the process judge is learned, not an oracle: its share of pass@N's gain at the largest N",
          metric("process/share_of_oracle_gain"), 0.3,
          "no paper number: a learned judge that reached pass@N would be an oracle, which means a leak",
          ceiling=0.95),
    Claim("self-judging by the policy's own likelihood gains over one sample (largest N minus N=1)",
          metric("self/gain"), 0.05, HUANG_FIG1),
    Claim("self-judging climbs only to the policy's own greedy answer: |gold at the largest N - greedy|",
          metric("self/abs_minus_greedy"), None, HUANG_FIG1, at_most=0.03,
          note="a step-by-step policy's most likely chain is close to its greedy chain, so the toy shows no lift "
          "over greedy decoding where Huang et al. find some"),
    Claim("a process judge from outside beats self-judging at the largest N", metric("process_minus_self"), 0.10,
          HUANG_FIG1),
]

OVEROPTIMISATION_INVARIANTS = [
    Invariant("the outcome judge learned from one label per chain (its answer's), never a step label",
              lambda m: float(m["outcome_labels_per_chain"]) == 1),
]


def check_star(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The STaR study's invariants and claims over its runs' summaries."""
    return evaluate("star", STAR, STAR_INVARIANTS, summaries)


def check_reward_overoptimisation(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The reward over-optimisation study's invariants and claims over its runs' summaries."""
    return evaluate("reward-overoptimisation", OVEROPTIMISATION, OVEROPTIMISATION_INVARIANTS, summaries)
