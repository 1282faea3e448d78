"""Does a run reproduce the papers? Claims that fail both ways, and the invariants that make them fair.

``check_self_consistency`` and ``check_search_by_difficulty`` take the summary
metrics of one or more runs (seeds) of their study; ``check`` takes runs of
either and sorts them by study. Rows come from ``hunchlab.studies.checks``:
invariants first (equal compute counted by the study, no answer leaking to the
PRM), then one row per claim with the measured effect (mean over the runs), the
paper's number and where it is in the paper, and a verdict.

Thresholds come from 5 seeds at the smoke budget (500 test problems per K, one
training seed per run). Each is about 3 sd of the effect's run-to-run spread,
so an effect of zero cannot pass by luck, while the real effect sits 2.5 sd or
more above it; each ceiling sits about 4 sd above the real effect, where only a
break that raises the number (a leak, a bigger budget) lands. Measured effect,
mean +- sd over the 5 seeds, and the broken arms (5 seeds each unless said):

  maj - single, K=4, N=64             0.147 +- 0.012  > 0.04, ceiling 0.22   (random vote: -0.007)
  PRM - maj, K=4, N=64                0.233 +- 0.037  > 0.11, ceiling 0.38   (leaked PRM: 0.43;
                                                                              shuffled PRM: -0.43)
  PRM - ORM, K=4, N=4                 0.075 +- 0.012  > 0.035, ceiling 0.12  (leaked PRM: 0.13)
  PRM - ORM, K=4, N=64                0.516 +- 0.051  > 0.15, ceiling 0.70   (leaked PRM: 0.71)
  PRM - maj growth, N=4 -> 64, K=4    0.139 +- 0.026  > 0.07, ceiling 0.25   (leaked PRM: 0.28)
  leakage probe: PRM gain over a     -0.001 +- 0.006  invariant <= 0.03      (leaked PRM: 0.43; a 0.3 leak: 0.34)
    random pick when it reads
    another problem's chains, K=4
  beam - BoN, K=8, N=4                0.078 +- 0.018  > 0.03, ceiling 0.20   (lowest-keeping beam: -0.18;
                                                                              4x beam budget, 3 seeds: 0.25)
  min(beam - BoN at K=8, its excess   0.070 +- 0.016  > 0.03                 (lowest-keeping beam: -0.18;
    over K=2), N=4                                                            the old "excess over K=2" alone
                                                                              passed it at 0.25)
  beam - BoN at N=4 minus at N=64,   -0.066 +- 0.012  > 0 (Snell: positive)  a known deviation; with a weaker
    K=8                                                                       PRM (prm_data_frac=0.2, 3 seeds):
                                                                              +0.155 +- 0.041, reproduced (beam
                                                                              - BoN +0.034 at N=4, -0.12 at N=64)
  compute-optimal savings vs BoN@64   2.59  +- 0.18   > 2.0, ceiling 8       (lowest-keeping beam: 1.0;
                                                                              4x beam budget, 3 seeds: 10.4)
  beam@16 - single, K=8               0.332 +- 0.072  > 0.05                 (lowest-keeping beam: -0.07)
  leakage probe, K=8                 -0.004 +- 0.007  invariant <= 0.03      (leaked PRM: 0.54)

Budgets are counted where the compute is spent (``search.Budget``): every
sampled step and every step a verifier judges, per problem and per method. The
invariants hold them equal where the papers compare at equal compute; giving
beam search 4x the samples per step (``beam_budget=4``) raised its accuracy and
used to pass the check, and now fails it.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, equal_pairs, evaluate
from hunchlab.studies.checks import gap as _gap

LIGHTMAN_FIG3 = (
    "Lightman et al. 2023, Fig. 3: on 500 held-out MATH test problems, best-of-1860 "
    "solves 78.2% with the PRM vs 72.4% with the ORM vs 69.6% by majority voting"
)
EXPLOITED_ORM = (
    "the toy's ORM is exploited as N grows (K=4: 0.47 at N=4, 0.20 at N=64, below a single chain), so "
    "this gap is mostly the ORM collapsing, not the better credit assignment Lightman et al. measured "
    "(their ORM stays above majority); the N=4 row, before the exploitation, is the comparable one"
)
LEAK_LIMIT = 0.03  # ~5 sd of the probe's null spread (0.006); a PRM that sees the answers gains 0.34-0.54

SELF_CONSISTENCY = [
    Claim(
        "majority vote over 64 sampled chains beats a single chain (K=4)",
        _gap("acc/maj/k4/n64", "acc/single/k4"),
        0.04,
        "Wang et al. 2022, Table 2: PaLM-540B on GSM8K, chain-of-thought 56.5% -> "
        "74.4% with self-consistency over 40 sampled paths (+17.9)",
        ceiling=0.22,
    ),
    Claim(
        "PRM best-of-64 beats majority vote over 64 (K=4)",
        _gap("acc/prm/k4/n64", "acc/maj/k4/n64"),
        0.11,
        LIGHTMAN_FIG3 + " (PRM - majority = +8.6)",
        ceiling=0.38,
    ),
    Claim(
        "PRM best-of-4 beats ORM best-of-4, before the ORM is exploited (K=4)",
        _gap("acc/prm/k4/n4", "acc/orm/k4/n4"),
        0.035,
        LIGHTMAN_FIG3 + " (PRM - ORM = +5.8; the curves separate from small N on)",
        ceiling=0.12,
    ),
    Claim(
        "PRM best-of-64 beats ORM best-of-64 (K=4)",
        _gap("acc/prm/k4/n64", "acc/orm/k4/n64"),
        0.15,
        LIGHTMAN_FIG3 + " (PRM - ORM = +5.8)",
        ceiling=0.70,
        note=EXPLOITED_ORM,
    ),
    Claim(
        "PRM's lead over majority vote grows from N=4 to N=64 (K=4)",
        lambda m: m["acc/prm/k4/n64"] - m["acc/maj/k4/n64"] - (m["acc/prm/k4/n4"] - m["acc/maj/k4/n4"]),
        0.07,
        "Lightman et al. 2023, Fig. 3: the PRM's lead over majority voting widens as N grows "
        "(read off the curves; no single number reported)",
        ceiling=0.25,
    ),
]

SELF_CONSISTENCY_FAIR = [
    Invariant("majority vote, the ORM and the PRM pick among the same sampled chains (steps counted, every K, N)",
              lambda m: equal_pairs("budget/generated/prm/", "budget/generated/maj/")(m)
              and equal_pairs("budget/generated/orm/", "budget/generated/maj/")(m)),
    Invariant("the PRM and the ORM judge as many steps (counted, every K and N)",
              equal_pairs("budget/verified/prm/", "budget/verified/orm/")),
    Invariant(f"no answer leaks to the PRM: reading another problem's chains it gains at most {LEAK_LIMIT} over a "
              "random pick (K=4)", lambda m: float(m["leak/prm_gain_unrelated_chains/k4"]) <= LEAK_LIMIT),
]

SNELL_TAKEAWAY = (
    'Snell et al. 2024, sec. 5.3 takeaway: "beam-search is more effective on harder questions '
    "and at lower compute budgets, whereas best-of-N is more effective on easier questions and "
    'at higher budgets" (Fig. 3; qualitative, no single number)'
)


def _advantage(k: int, n: int) -> Any:
    return _gap(f"acc/beam/k{k}/n{n}", f"acc/bon/k{k}/n{n}")


SEARCH_BY_DIFFICULTY = [
    Claim(
        "PRM beam search beats best-of-N weighted on hard problems at a low budget (K=8, N=4)",
        _advantage(8, 4),
        0.03,
        SNELL_TAKEAWAY,
        ceiling=0.20,
    ),
    Claim(
        "beam search beats best-of-N on hard problems, and by more than on easy ones (K=8 vs K=2, N=4): "
        "the smaller of the two",
        lambda m: min(_advantage(8, 4)(m), _advantage(8, 4)(m) - _advantage(2, 4)(m)),
        0.03,
        SNELL_TAKEAWAY,
    ),
    Claim(
        "beam search's advantage over best-of-N is larger at a low budget than at a high one (K=8, N=4 vs N=64)",
        lambda m: _advantage(8, 4)(m) - _advantage(8, 64)(m),
        0.0,
        SNELL_TAKEAWAY,
        deviation="the toy's well-trained PRM is not exploited by beam search, so its advantage grows with N "
                  "(K=8: +0.07 at N=4, +0.13 at N=64); with a weaker PRM (prm_data_frac=0.2) the paper's "
                  "crossover appears: beam search wins at N=4 and best-of-N at N=64 (README: study 2)",
    ),
    Claim(
        "choosing the strategy per difficulty matches best-of-N at N=64 with several times less compute",
        lambda m: m["compute_optimal/savings"],
        2.0,  # at least 2x: the compute-optimal policy reaches it by N=32
        'Snell et al. 2024, sec. 5.3 takeaway (Fig. 4): "by selecting the best search setting for a '
        "given question difficulty and test-time compute budget, we can nearly outperform best-of-N "
        'using up to 4x less test-time compute"',
        ceiling=8.0,
        partly_below=4.0,
    ),
    Claim(
        "PRM beam search with N=16 beats a single sample on hard problems (K=8)",
        _gap("acc/beam/k8/n16", "acc/single/k8"),
        0.05,
        "unverified: Snell et al. 2024, Fig. 3 shows beam search above the N=1 accuracy at every budget "
        "(read off the figure)",
    ),
]

SEARCH_FAIR = [
    Invariant("beam search and best-of-N sample as many steps (counted, every K and N)",
              equal_pairs("budget/generated/beam/", "budget/generated/bon/")),
    Invariant("the PRM judges as many steps for beam search as for best-of-N (counted, every K and N)",
              equal_pairs("budget/verified/beam/", "budget/verified/bon/")),
    Invariant(f"no answer leaks to the PRM: reading another problem's chains it gains at most {LEAK_LIMIT} over a "
              "random pick (K=8)", lambda m: float(m["leak/prm_gain_unrelated_chains/k8"]) <= LEAK_LIMIT),
]


def check_self_consistency(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The self-consistency study's invariants and claims over its runs' summaries."""
    return evaluate("self-consistency", SELF_CONSISTENCY, SELF_CONSISTENCY_FAIR, summaries)


def check_search_by_difficulty(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The search-by-difficulty study's invariants and claims over its runs' summaries."""
    return evaluate("search-by-difficulty", SEARCH_BY_DIFFICULTY, SEARCH_FAIR, summaries)


# A metric only each study's runs have, to sort a mixed list of summaries.
STUDY_CHECKS = [
    ("acc/prm/k4/n64", check_self_consistency),
    ("compute_optimal/savings", check_search_by_difficulty),
]


def check(summaries: list[Summary]) -> list[dict[str, Any]]:
    """Every row of every study that has runs in ``summaries``, in study order."""
    rows = []
    for marker, study_check in STUDY_CHECKS:
        runs = [m for m in summaries if marker in m]
        if runs:
            rows += study_check(runs)
    return rows
