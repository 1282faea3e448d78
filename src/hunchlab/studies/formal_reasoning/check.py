"""Does a run reproduce the papers? One row per invariant and claim, from the runs' summary metrics.

THRESHOLDS_TBD
"""

from __future__ import annotations

from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, equal, evaluate, gap

ARMS = ("bfs", "learned", "heuristic")
POOLS = ("curriculum", "hard")

POLU_2020 = (
    "Polu & Sutskever 2020 (GPT-f), sec. 3-4: proof search is a best-first search ordered by the "
    "model's estimates, and a learned value makes it prove more at the same search budget; Lample et al. "
    "2022 (HyperTree Proof Search) likewise guide search with a learned critic (qualitative here: the "
    "papers' systems and budgets are not comparable)"
)
POLU_2022 = (
    "Polu et al. 2022 (Formal Mathematics Statement Curriculum Learning), abstract and sec. 5: applied to "
    "statements of sufficiently varied difficulty, expert iteration finds and solves a curriculum of "
    "increasingly difficult problems; statements too hard for the prover give it nothing to learn from "
    "(qualitative: read off their synthetic-inequality curves)"
)


PROOF_SEARCH_INVARIANTS = [
    Invariant("every arm's searches ran under the same expansion budget (as each search enforced it)",
              lambda m: equal("budget/learned", "budget/bfs")(m) and equal("budget/heuristic", "budget/bfs")(m)),
    Invariant("no search used more expansions than its budget (counted by the search)",
              lambda m: all(m[f"expansions/{arm}/max"] <= m[f"budget/{arm}"] for arm in ARMS)),
    Invariant("no failed search stopped before its budget (no arm was cut short)",
              lambda m: all(m[f"cut_short/{arm}"] == 0 for arm in ARMS)),
    Invariant("every arm searched the same theorems",
              lambda m: equal("theorems/learned", "theorems/bfs")(m) and equal("theorems/heuristic", "theorems/bfs")(m)),
    Invariant("the checker accepted every proof a search claimed",
              lambda m: all(m[f"rejected/{arm}"] == 0 for arm in ARMS)),
    Invariant("no proof is shorter than breadth-first's on the same theorem (it finds shortest proofs)",
              lambda m: all(m[f"shorter_than_bfs/{arm}"] == 0 for arm in ARMS)),
    Invariant("no test theorem is in the value's training data", lambda m: m["overlap/test_in_training"] == 0),
]

HEURISTIC_NOTE = (
    "a hand-made heuristic (subterms the term and the goal do not share) proves as much "
    "(gap/heuristic_minus_learned): the claim is learned guidance against blind search, not learning "
    "against a heuristic"
)

PROOF_SEARCH_CLAIMS = [
    Claim(
        "best-first search with the learned value proves far more than breadth-first at the same budget "
        "(deepest trained difficulty)",
        gap("proved/learned/deepest_trained", "proved/bfs/deepest_trained"), 0.3, POLU_2020,
        note=HEURISTIC_NOTE,
    ),
    Claim(
        "... and on theorems deeper than any walk the value was trained on",
        gap("proved/learned/deepest_heldout", "proved/bfs/deepest_heldout"), 0.3, POLU_2020,
    ),
]

EXPERT_ITERATION_INVARIANTS = [
    Invariant("every proof fed back into training passes the checker",
              lambda m: all(m[f"fed_rejected/{pool}"] == 0 for pool in POOLS)),
    Invariant("both pools searched at the same budget, and no search used more (counted by the search)",
              lambda m: m["budget/curriculum"] == m["budget/hard"]
              and all(m[f"expansions/{pool}/max"] <= m[f"budget/{pool}"] for pool in POOLS)),
    Invariant("both pools hold as many theorems and are scored on the same held-out theorems",
              lambda m: m["pool_size/curriculum"] == m["pool_size/hard"]
              and m["heldout_size/curriculum"] == m["heldout_size/hard"]),
]

EXPERT_ITERATION_CLAIMS = [
    Claim("with a pool of mixed difficulty, the share of held-out hard theorems proved climbs over the rounds",
          lambda m: m["climb/curriculum"], 0.2, POLU_2022),
    Claim("the mixed pool is ahead of the hard-only pool after the first round of learning",
          lambda m: m["lead/r1"], 0.2, POLU_2022),
    Claim("the hard-only pool stalls at first: learning from its first proofs barely helps",
          lambda m: m["first_gain/hard"], None, POLU_2022, at_most=0.2),
]


def check_proof_search(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The proof-search study's invariants and claims over its runs' summaries."""
    return evaluate("proof-search", PROOF_SEARCH_CLAIMS, PROOF_SEARCH_INVARIANTS, summaries)


def check_expert_iteration(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The expert-iteration study's invariants and claims over its runs' summaries."""
    return evaluate("expert-iteration", EXPERT_ITERATION_CLAIMS, EXPERT_ITERATION_INVARIANTS, summaries)
