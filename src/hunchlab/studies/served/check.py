"""Does self-consistency appear on the served model? The claim, and what makes it fair.

A served model's effect size is not known in advance (the toy study's thresholds are
3 sd of its own seeds' spread; a real model has no such history), so the claim is
statistical rather than a fixed margin: the 95% interval of (vote over N samples - one
sample) over problems, from ``hunch compare``'s paired sign-flip test, must lie above 0. The invariants
make the check fail the other way too, when a number is raised by a broken method:

- every vote at budget n used exactly n samples, and every budget (and the single-sample
  baseline) drew on the same pool of N samples per problem, each sample once;
- every vote picked the most common answer of its group (an answer key leaking into the
  vote picks a rarer correct answer, and shows here);
- the vote is no better than the oracle that picks a correct sample whenever one exists.

Measured on the toy endpoint (``toy_endpoint``, the toy study's generator) at the smoke
budget and T = 1.0, 5 seeds, mean +- sd (README.md has the table):

  gain (vote of 16 - one sample)          +0.089 +- 0.020
  its 95% lower bound (the claim, > 0)    +0.042 +- 0.017, lowest +0.024   (vote=random: -0.064 +- 0.039)
  non-plurality votes (must be 0)         0                                (vote=oracle: 83 +- 9)

"""

from __future__ import annotations

import re
from typing import Any

from hunchlab.studies.checks import Claim, Invariant, Summary, evaluate

WANG_TABLE2 = ("Wang et al. 2022, Table 2: PaLM-540B on GSM8K, chain-of-thought 56.5% -> 74.4% with "
               "self-consistency over 40 sampled paths (+17.9)")


def _budgets(m: Summary) -> list[int]:
    return [int(b) for key in m for b in re.findall(r"^samples/per_vote/maj/n(\d+)$", key)]


def _equal_budgets(m: Summary) -> bool:
    pool = m["samples/asked"]
    return bool(_budgets(m)) and m["samples/used/single"] == pool and all(
        m[f"samples/per_vote/maj/n{n}"] == n and m[f"samples/used/maj/n{n}"] == pool for n in _budgets(m))


CLAIMS = [
    Claim("majority vote over N samples beats one sample (95% interval of the gain above 0)",
          lambda m: m["gap/maj_minus_single/lo"], 0.0, WANG_TABLE2,
          note="the measured number is the interval's lower bound; the gain itself is gap/maj_minus_single"),
]
INVARIANTS = [
    Invariant("each vote at budget n used n samples, all budgets and the single-sample baseline one pool",
              _equal_budgets),
    Invariant("every vote picked its group's most common answer (no answer key in the vote)",
              lambda m: m["vote/non_plurality"] == 0),
    Invariant("the vote is no better than an oracle picking any correct sample", lambda m: m["acc/maj"] <= m["acc/pass"]),
]


def check_self_consistency_served(summaries: list[Summary]) -> list[dict[str, Any]]:
    """The claim and invariants over the study's runs' summaries."""
    return evaluate("self-consistency-served", CLAIMS, INVARIANTS, summaries)
