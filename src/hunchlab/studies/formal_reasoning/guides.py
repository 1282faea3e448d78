"""What a best-first search can follow: a learned value trained on walks or on proofs, or a hand-made heuristic.

The learned value (``model.TreeValue``) is trained by regression on
(term, goal, steps) triples:

- from random walks (study 1): walk ``depth`` reversible steps from a random
  goal; the term after i steps is at most i steps from the goal, the target;
- from verified proofs (study 2, expert iteration): the term after i steps of
  a k-step proof is at most k - i steps from its goal, and a rewrite of it
  that the proof did not take at most k - i + 1 (``expert_iteration.examples``).

The training terms are copied into a fresh, compact ``Terms`` table, so a
training batch only touches the few thousand nodes its terms are made of.

The hand-made heuristic is the size of the multiset difference between the
subterms of the term and of the goal: 0 exactly at the goal, and small when
the two share most of their parts. It is the reference arm of study 1, not a
baseline to beat: on this system it is as good a guide as the learned one.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from hunchlab.studies.formal_reasoning.model import Forest, TermCache, TreeValue, ValueConfig, forest
from hunchlab.studies.formal_reasoning.rewriting import LEAVES, Terms, random_expr, walk
from hunchlab.studies.formal_reasoning.search import Guide
from hunchlab.studies.formal_reasoning.syntax import Expr, show
from hunchlab.studies.training import Callback, TrainConfig, train


@dataclass
class Pairs:
    """Training triples for the value: (term, goal) id pairs in ``terms`` and the steps between them."""

    terms: Terms
    pairs: torch.Tensor  # (N, 2) long: term id, goal id
    steps: torch.Tensor  # (N,) float

    def digest(self) -> str:
        """A hash of the triples' content (not their ids): what a cached model trained on them depends on."""
        h = hashlib.sha256()
        for (state, goal), steps in zip(self.pairs.tolist(), self.steps.tolist(), strict=True):
            h.update(f"{show(self.terms.expr(state))}|{show(self.terms.expr(goal))}|{steps}\n".encode())
        return h.hexdigest()[:20]


def pairs_from(paths: Sequence[Sequence[Expr]], extra: Sequence[tuple[Expr, Expr, float]] = ()) -> Pairs:
    """Triples from paths of expressions whose last is the goal, (path[i], path[-1], len - 1 - i), and
    every (term, goal, steps) of ``extra`` as it is."""
    terms = Terms()
    pairs, steps = [], []
    for path in paths:
        ids = [terms.add(e) for e in path]
        for i, t in enumerate(ids):
            pairs.append((t, ids[-1]))
            steps.append(float(len(ids) - 1 - i))
    for term, goal, n in extra:
        pairs.append((terms.add(term), terms.add(goal)))
        steps.append(n)
    return Pairs(terms, torch.tensor(pairs, dtype=torch.long).view(-1, 2), torch.tensor(steps))


def walk_paths(count: int, depth: int, seed: int) -> list[list[Expr]]:
    """``count`` random walks of ``depth`` reversible steps, each listed from its last term back to its start."""
    rng = random.Random(f"walks/{seed}")
    scratch = Terms()  # walks generate every neighbour; only the walked terms are kept
    paths: list[list[Expr]] = []
    while len(paths) < count:
        path = walk(scratch, scratch.add(random_expr(rng, rng.randint(*LEAVES))), depth, rng)
        if path is not None:
            paths.append([scratch.expr(t) for t in reversed(path)])
    return paths


def shuffled(pairs: Pairs, seed: int) -> Pairs:
    """The broken arm: the same triples with their step counts permuted, so the targets say nothing."""
    g = torch.Generator().manual_seed(seed)
    return Pairs(pairs.terms, pairs.pairs, pairs.steps[torch.randperm(len(pairs.steps), generator=g)])


class _OnTable(nn.Module):
    """A value network reading (term id, goal id) rows of one table: the form ``training.train`` feeds."""

    def __init__(self, value: TreeValue, terms: Terms) -> None:
        super().__init__()
        self.value, self.terms = value, terms

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        f: Forest = forest(self.terms, x.numpy())  # x: (B, 2) -> roots interleaved state, goal
        out: tuple[torch.Tensor, torch.Tensor | None] = self.value(f, targets)
        return out


def fit_value(model: TreeValue, data: Pairs, config: TrainConfig, seed: int, callback: Callback | None) -> TreeValue:
    """Train ``model`` on the triples with the shared training loop (AdamW, cosine decay)."""
    train(_OnTable(model, data.terms), data.pairs, data.steps, config, seed, callback)
    return model.eval()


def new_value(config: ValueConfig, seed: int) -> TreeValue:
    torch.manual_seed(seed)
    return TreeValue(config)


def learned_guide(model: TreeValue, terms: Terms) -> Guide:
    """The value network's estimate of steps to the goal, with embeddings cached per term of ``terms``."""
    return TermCache(model, terms).values


def subterm_guide(terms: Terms) -> Guide:
    """The hand-made heuristic: how many subterm occurrences the term and the goal do not share."""
    memo: dict[int, Counter[int]] = {}

    def parts(t: int) -> Counter[int]:
        found = memo.get(t)
        if found is None:
            found = Counter({t: 1})
            if terms.left[t] >= 0:
                found.update(parts(terms.left[t]))
                found.update(parts(terms.right[t]))
            memo[t] = found
        return found

    def guide(states: list[int], goals: list[int]) -> list[float]:
        out = []
        for state, goal in zip(states, goals, strict=True):
            a, b = parts(state), parts(goal)
            out.append(float((a - b).total() + (b - a).total()))
        return out

    return guide
