"""Proving a list of theorems with one guide at one budget, every claimed proof judged by the checker.

This is the step both studies repeat: search (``search.py``) in a fresh term
table, turn each path into proof steps, and replay them in the independent
checker. An ``Attempt`` keeps what the studies report and learn from: whether
the search reached the goal, whether the checker accepted the steps, how many
expansions it used, the terms along the path, and the terms it expanded off
the path (the "not on a proof" examples expert iteration learns from).

Theorems are searched in chunks, each in its own table: a search at a budget
of 200 expansions adds about 30,000 terms to the table per theorem (measured
at difficulty 7), so one table for hundreds of theorems would hold millions.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hunchlab.studies.formal_reasoning.checker import check
from hunchlab.studies.formal_reasoning.rewriting import Terms, make_theorems
from hunchlab.studies.formal_reasoning.search import Guide, search
from hunchlab.studies.formal_reasoning.syntax import Expr, Step, Theorem

CHUNK = 25  # theorems searched together in one table (lockstep, one batched guide call per round)

GuideMaker = Callable[[Terms], Guide | None]  # the guide for a fresh table; None searches breadth-first


@dataclass
class Attempt:
    theorem: Theorem
    reached: bool  # the search reached the right side
    accepted: bool  # the checker accepted the steps as a proof of the theorem
    verdict: str  # the checker's reason
    steps: list[Step]  # the path's steps: a proof when accepted
    path: list[Expr]  # the terms along the path, from the left side
    off_path: list[Expr]  # a sample of the terms the search expanded off the path
    expansions: int
    budget: int  # the expansions the search was allowed (it enforced this; see ``search.Outcome``)

    @property
    def cut_short(self) -> bool:
        """A failed search that stopped before its budget: never so here (every term has rewrites left,
        so a frontier does not run dry within hundreds of expansions), so one means a crippled search."""
        return not self.reached and self.expansions < self.budget


def attempt(theorems: Sequence[Theorem], budget: int, make_guide: GuideMaker, off_path: int = 0,
            seed: int = 0) -> list[Attempt]:
    """Search each theorem within ``budget`` expansions and check what it found.

    ``off_path`` keeps that many expanded terms off the path per theorem (a
    random sample, by ``seed``), for a value to learn what is not on a proof.
    """
    rng = random.Random(f"off-path/{seed}")
    out: list[Attempt] = []
    for start in range(0, len(theorems), CHUNK):
        chunk = theorems[start:start + CHUNK]
        terms = Terms()
        ends = [(terms.add(t.lhs), terms.add(t.rhs)) for t in chunk]
        for theorem, outcome in zip(chunk, search(terms, ends, budget, make_guide(terms)), strict=True):
            steps = terms.proof(outcome.path)
            verdict = check(theorem, steps)
            on_path = set(outcome.path)
            others = [t for t in outcome.expanded if t not in on_path]
            kept = rng.sample(others, min(off_path, len(others)))
            out.append(Attempt(theorem, outcome.proved, verdict.accepted, verdict.reason, steps,
                               [terms.expr(t) for t in outcome.path], [terms.expr(t) for t in kept],
                               outcome.expansions, outcome.budget))
    return out


def theorem_set(difficulties: Sequence[int], per_difficulty: int, seed: int, purpose: str) -> list[Theorem]:
    """``per_difficulty`` theorems of each difficulty, from a seed and a purpose (so sets never share a stream)."""
    terms = Terms()
    return [g.theorem for d in difficulties for g in make_theorems(terms, d, per_difficulty, seed, purpose)]
