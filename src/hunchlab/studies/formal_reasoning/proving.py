"""Proving a list of theorems with one guide at one budget, every claimed proof judged by the checker.

This is the step both studies repeat: search (``search.py``) in a fresh term
table, turn each path into proof steps, and replay them in the independent
checker. An ``Attempt`` keeps what the studies report and learn from: whether
the search reached the goal, whether the checker accepted the steps, how many
expansions it used, the terms along the path, and rewrites of those terms
that the path did not take (the steps away from the goal that expert
iteration learns from).

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
    siblings: list[tuple[int, Expr]]  # (i, a rewrite of path[i] other than path[i + 1]): a sample per step
    expansions: int
    budget: int  # the expansions the search was allowed (it enforced this; see ``search.Outcome``)

    @property
    def cut_short(self) -> bool:
        """A failed search that stopped before its budget: never so here (every term has rewrites left,
        so a frontier does not run dry within hundreds of expansions), so one means a crippled search."""
        return not self.reached and self.expansions < self.budget


def attempt(theorems: Sequence[Theorem], budget: int, make_guide: GuideMaker, siblings: int = 0,
            seed: int = 0) -> list[Attempt]:
    """Search each theorem within ``budget`` expansions and check what it found.

    ``siblings`` keeps that many rewrites of each term on the path that the path
    did not take (a random sample, by ``seed``), for a value to learn which
    steps lead away from the goal.
    """
    rng = random.Random(f"siblings/{seed}")
    out: list[Attempt] = []
    for start in range(0, len(theorems), CHUNK):
        chunk = theorems[start:start + CHUNK]
        terms = Terms()
        ends = [(terms.add(t.lhs), terms.add(t.rhs)) for t in chunk]
        outcomes = search(terms, ends, budget, make_guide(terms))
        for theorem, (_, goal), outcome in zip(chunk, ends, outcomes, strict=True):
            steps = terms.proof(outcome.path)
            verdict = check(theorem, steps)
            others = untaken(terms, outcome.path, goal, siblings, rng) if siblings else []
            out.append(Attempt(theorem, outcome.proved, verdict.accepted, verdict.reason, steps,
                               [terms.expr(t) for t in outcome.path], [(i, terms.expr(t)) for i, t in others],
                               outcome.expansions, outcome.budget))
    return out


def untaken(terms: Terms, path: list[int], goal: int, count: int, rng: random.Random) -> list[tuple[int, int]]:
    """Up to ``count`` rewrites of each term on ``path`` (but the goal) other than the next one on it."""
    out: list[tuple[int, int]] = []
    for i, t in enumerate(path):
        if t != goal:
            taken = path[i + 1] if i + 1 < len(path) else goal
            others = [c for c in terms.children(t) if c != taken]
            out += [(i, c) for c in rng.sample(others, min(count, len(others)))]
    return out


def theorem_set(difficulties: Sequence[int], per_difficulty: int, seed: int, purpose: str) -> list[Theorem]:
    """``per_difficulty`` theorems of each difficulty, from a seed and a purpose (so sets never share a stream)."""
    terms = Terms()
    return [g.theorem for d in difficulties for g in make_theorems(terms, d, per_difficulty, seed, purpose)]
