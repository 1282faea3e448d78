"""Proof search at a counted expansion budget: breadth-first, or best-first by a guide's estimate.

A search starts at a theorem's left side and expands one term at a time
(generates all its one-step rewrites); it stops when a rewrite reaches the
right side (the goal is tested when a term is generated, so breadth-first
finds a shortest proof) or when it has expanded ``budget`` terms. The budget
is enforced and counted here, per theorem, and every outcome reports the
budget it ran under and how many expansions it used, so a study can assert
that its arms searched at equal budgets and that no search was cut short.

- breadth-first (``guide=None``): expand terms in the order they were found;
  it knows nothing about the goal but equality.
- best-first: expand the term the guide scores lowest (its estimated steps to
  the goal); ties go to the earlier term.

Many theorems are searched in lockstep, one expansion each per round, so the
guide scores all their new terms in one batched call.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hunchlab.studies.formal_reasoning.rewriting import Terms

# Scores (state, goal) pairs, lower = closer: given all new pairs of a round at once.
Guide = Callable[[list[int], list[int]], list[float]]


@dataclass
class Outcome:
    """One theorem's search: whether it reached the goal, the path it took, the expansions it used."""

    budget: int  # the expansions this search was allowed: what it enforced, not what a caller meant to give
    proved: bool
    path: list[int]  # term ids from the left side to the goal (proved) or to the last term expanded (not)
    expanded: list[int]  # the terms expanded, in order: len(expanded) is the expansions it used
    generated: int  # distinct terms generated

    @property
    def expansions(self) -> int:
        return len(self.expanded)


@dataclass
class _State:
    start: int
    goal: int
    guided: bool
    parent: dict[int, int] = field(default_factory=dict)
    queue: deque[int] = field(default_factory=deque)  # breadth-first frontier
    heap: list[tuple[float, int, int]] = field(default_factory=list)  # best-first: (score, order, term)
    expanded: list[int] = field(default_factory=list)
    proved: bool = False
    done: bool = False

    def path_to(self, end: int) -> list[int]:
        path = [end]
        while path[-1] != self.start:
            path.append(self.parent[path[-1]])
        return path[::-1]


def search(terms: Terms, theorems: Sequence[tuple[int, int]], budget: int, guide: Guide | None = None
           ) -> list[Outcome]:
    """Search every (left side, right side) pair within ``budget`` expansions each."""
    states = [_State(start, goal, guide is not None, {start: start}) for start, goal in theorems]
    for s in states:
        _push(s, [s.start], [0.0] if guide else None)
    order = 0
    while True:
        active = [s for s in states if not s.done]
        if not active:
            break
        new: list[tuple[_State, int]] = []
        for s in active:
            new += [(s, child) for child in _expand(terms, s, budget)]
        scores = guide([c for _, c in new], [s.goal for s, _ in new]) if guide and new else None
        by_state: dict[int, list[int]] = {}
        for i, (s, _) in enumerate(new):
            by_state.setdefault(id(s), []).append(i)
        for s in active:
            picked = by_state.get(id(s), [])
            order = _push(s, [new[i][1] for i in picked], [scores[i] for i in picked] if scores else None, order)
    return [Outcome(budget, s.proved, s.path_to(s.goal if s.proved else (s.expanded or [s.start])[-1]), s.expanded,
                    len(s.parent)) for s in states]


def _expand(terms: Terms, s: _State, budget: int) -> list[int]:
    """Expand the next term of one search; returns the new terms to queue (none when it has just ended)."""
    if len(s.expanded) >= budget or not (s.heap if s.guided else s.queue):
        s.done = True
        return []
    term = heapq.heappop(s.heap)[2] if s.guided else s.queue.popleft()
    s.expanded.append(term)
    fresh = []
    for child in terms.children(term):
        if child not in s.parent:
            s.parent[child] = term
            if child == s.goal:
                s.proved = s.done = True
                return []
            fresh.append(child)
    return fresh


def _push(s: _State, children: list[int], scores: list[float] | None, order: int = 0) -> int:
    """Queue new terms (in a heap by score when there are scores); returns the next tie-break number."""
    if scores is None:
        s.queue.extend(children)
        return order
    for child, score in zip(children, scores, strict=True):
        heapq.heappush(s.heap, (score, order, child))
        order += 1
    return order
