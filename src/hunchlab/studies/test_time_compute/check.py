"""Does a run reproduce the papers? One row per claim, from the runs' summary metrics.

``check_self_consistency`` and ``check_search_by_difficulty`` take the summary
metrics of one or more runs (seeds) of their study; ``check`` takes runs of
either and sorts them by study. For each claim they report the measured effect
(mean over the runs), the paper's number with where it is in the paper, a
verdict and whether it passed (the mean effect is above the threshold).

Thresholds come from 5 seeds at the smoke budget (500 test problems per K, one
training seed per run). Each is about 3 sd of the effect's run-to-run spread,
so an effect of zero cannot pass by luck, while the real effect sits 2.5 sd or
more above it. Measured effect, mean +- sd over the 5 seeds (broken arm):

  maj - single, K=4, N=64                  0.147 +- 0.012   threshold 0.04
  PRM - maj, K=4, N=64                     0.233 +- 0.037   threshold 0.11  (shuffled PRM: -0.43)
  PRM - ORM, K=4, N=64                     0.516 +- 0.051   threshold 0.15  (shuffled PRM: -0.14)
  PRM - maj growth, N=4 -> 64, K=4         0.139 +- 0.026   threshold 0.07  (shuffled PRM: -0.26)
  beam - BoN, K=8, N=4                     0.078 +- 0.018   threshold 0.03  (lowest-keeping beam: -0.18)
  (beam - BoN) K=8 minus K=2, N=4          0.070 +- 0.016   threshold 0.03
  compute-optimal savings vs BoN@64        2.59  +- 0.18    threshold 2.0   (lowest-keeping beam: 1.0)
  beam@16 - single, K=8                    0.332 +- 0.072   threshold 0.05  (lowest-keeping beam: -0.07)

The beam thresholds (0.03) are 3 sd of a beam-minus-best-of-N difference when
the two methods are the same, about 0.01 with 500 problems and 16 repeats; a
threshold of 3 sd of the real effect's spread would leave too little room.
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.checks import Claim, Summary, evaluate
from hunchlab.studies.checks import gap as _gap

LIGHTMAN_FIG3 = (
    "Lightman et al. 2023, Fig. 3: on 500 held-out MATH test problems, best-of-1860 "
    "solves 78.2% with the PRM vs 72.4% with the ORM vs 69.6% by majority voting"
)

SELF_CONSISTENCY = [
    Claim(
        "majority vote over 64 sampled chains beats a single chain (K=4)",
        _gap("acc/maj/k4/n64", "acc/single/k4"),
        0.04,
        "Wang et al. 2022, Table 2: PaLM-540B on GSM8K, chain-of-thought 56.5% -> "
        "74.4% with self-consistency over 40 sampled paths (+17.9)",
    ),
    Claim(
        "PRM best-of-64 beats majority vote over 64 (K=4)",
        _gap("acc/prm/k4/n64", "acc/maj/k4/n64"),
        0.11,
        LIGHTMAN_FIG3 + " (PRM - majority = +8.6)",
    ),
    Claim(
        "PRM best-of-64 beats ORM best-of-64 (K=4)",
        _gap("acc/prm/k4/n64", "acc/orm/k4/n64"),
        0.15,
        LIGHTMAN_FIG3 + " (PRM - ORM = +5.8)",
    ),
    Claim(
        "PRM's lead over majority vote grows from N=4 to N=64 (K=4)",
        lambda m: m["acc/prm/k4/n64"] - m["acc/maj/k4/n64"] - (m["acc/prm/k4/n4"] - m["acc/maj/k4/n4"]),
        0.07,
        "Lightman et al. 2023, Fig. 3: the PRM's lead over majority voting widens as N grows "
        "(read off the curves; no single number reported)",
    ),
]

SNELL_TAKEAWAY = (
    'Snell et al. 2024, sec. 5.3 takeaway: "beam-search is more effective on harder questions '
    "and at lower compute budgets, whereas best-of-N is more effective on easier questions and "
    'at higher budgets" (Fig. 3; qualitative, no single number)'
)

SEARCH_BY_DIFFICULTY = [
    Claim(
        "PRM beam search beats best-of-N weighted on hard problems at a low budget (K=8, N=4)",
        _gap("acc/beam/k8/n4", "acc/bon/k8/n4"),
        0.03,
        SNELL_TAKEAWAY,
    ),
    Claim(
        "beam search's advantage over best-of-N is larger on hard than on easy problems (K=8 vs K=2, N=4)",
        lambda m: m["acc/beam/k8/n4"] - m["acc/bon/k8/n4"] - (m["acc/beam/k2/n4"] - m["acc/bon/k2/n4"]),
        0.03,
        SNELL_TAKEAWAY,
    ),
    Claim(
        "choosing the strategy per difficulty matches best-of-N at N=64 with several times less compute",
        lambda m: m["compute_optimal/savings"],
        2.0,  # at least 2x: the compute-optimal policy reaches it by N=32
        'Snell et al. 2024, sec. 5.3 takeaway (Fig. 4): "by selecting the best search setting for a '
        "given question difficulty and test-time compute budget, we can nearly outperform best-of-N "
        'using up to 4x less test-time compute"',
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


def check_self_consistency(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The self-consistency study's claims over its runs' summaries."""
    return evaluate("self-consistency", SELF_CONSISTENCY, [], summaries)


def check_search_by_difficulty(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The search-by-difficulty study's claims over its runs' summaries."""
    return evaluate("search-by-difficulty", SEARCH_BY_DIFFICULTY, [], summaries)


# A metric only each study's runs have, to sort a mixed list of summaries.
STUDY_CHECKS = [
    ("acc/prm/k4/n64", check_self_consistency),
    ("compute_optimal/savings", check_search_by_difficulty),
]


def check(summaries: list[Summary]) -> list[dict[str, Any]]:
    """Every claim of every study that has runs in ``summaries``, in study order."""
    rows = []
    for marker, study_check in STUDY_CHECKS:
        runs = [m for m in summaries if marker in m]
        if runs:
            rows += study_check(runs)
    return rows
