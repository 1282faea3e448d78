"""The learned guide: a tree network that embeds terms bottom-up and estimates the steps from a term to a goal.

A term's embedding is built from its arguments' embeddings, as a recursive
neural network over the expression tree: an atom looks up its vector; a node
``op(l, r)`` is an MLP of ``[e(l), e(r), e(op)]``, layer-normalised so depth
does not blow it up. The value of a (term, goal) pair is an MLP of
``[e(s), e(g), e(s) * e(g), |e(s) - e(g)|]``: the estimated number of steps
from s to g, the "value" that orders a best-first search (Polu & Sutskever
2020 use a language model's estimate; this keeps the idea, not the scale).

Terms come from a hash-consing table (``rewriting.Terms``), where an argument
always has a smaller id than its parent. A ``Forest`` lists the distinct
nodes a batch needs, grouped by height, so every level is embedded in one
batched call; ``TermCache`` keeps the embedding of every term a search has
met, so a child that shares all but one path with its parent costs only the
new nodes on that path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hunchlab.studies.formal_reasoning.rewriting import ATOM, Columns, Terms
from hunchlab.studies.formal_reasoning.syntax import ATOMS, OPS


@dataclass
class ValueConfig:
    n_embd: int = 48  # width of a term's embedding
    n_hidden: int = 96  # hidden width of the node and value MLPs


@dataclass
class Forest:
    """The nodes of some terms in level order, as index tensors into the level-ordered embeddings."""

    atoms: torch.Tensor  # (A,) which atom each height-0 node is
    levels: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # per height >= 1: op, left, right, each (N_h,)
    roots: torch.Tensor  # (R,) position of each requested term in the level order


def forest(terms: Terms, ids: np.ndarray) -> Forest:
    """The forest of the terms ``ids`` (any shape is flattened; repeats are embedded once)."""
    columns = terms.columns()
    nodes = _subterms(columns, np.unique(ids))
    height = columns.height[nodes]
    order = np.lexsort((nodes, height))  # by height, then id
    nodes, height = nodes[order], height[order]
    place = np.empty(len(terms), dtype=np.int64)
    place[nodes] = np.arange(len(nodes))
    op, left, right = columns.op[nodes], columns.left[nodes], columns.right[nodes]
    bounds = np.searchsorted(height, np.arange(height[-1] + 2))
    levels = [
        (torch.from_numpy(op[a:b]), torch.from_numpy(place[left[a:b]]), torch.from_numpy(place[right[a:b]]))
        for a, b in itertools.pairwise(bounds[1:])
    ]
    return Forest(torch.from_numpy(nodes[: bounds[1]]), levels, torch.from_numpy(place[np.ravel(ids)]))


def _subterms(columns: Columns, roots: np.ndarray) -> np.ndarray:
    """Every distinct node under ``roots`` (inclusive), breadth-first over the table's argument links."""
    left, right = columns.left, columns.right
    seen, frontier = [roots], roots
    while len(frontier):
        inner = frontier[left[frontier] >= 0]
        frontier = np.unique(np.concatenate([left[inner], right[inner]]))
        seen.append(frontier)
    return np.unique(np.concatenate(seen))


class TreeValue(nn.Module):
    """Estimated steps from a term to a goal; ``forward(x, targets=None) -> (distance, loss)``."""

    def __init__(self, config: ValueConfig) -> None:
        super().__init__()
        C, H = config.n_embd, config.n_hidden
        self.config = config
        self.atom = nn.Embedding(len(ATOMS), C)
        self.op = nn.Embedding(len(OPS), C)
        self.combine = nn.Sequential(nn.Linear(3 * C, H), nn.GELU(), nn.Linear(H, C))
        self.norm = nn.LayerNorm(C)
        self.head = nn.Sequential(nn.Linear(4 * C, H), nn.GELU(), nn.Linear(H, 1))

    def node(self, op: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        """Embeddings of nodes from their arguments': (N,), (N, C), (N, C) -> (N, C)."""
        e: torch.Tensor = self.norm(self.combine(torch.cat([left, right, self.op(op)], dim=-1)))
        return e

    def embed(self, f: Forest) -> torch.Tensor:
        """Embeddings of every node of the forest in level order: (nodes, C)."""
        done: torch.Tensor = self.atom(f.atoms)  # (A, C)
        for op, left, right in f.levels:
            done = torch.cat([done, self.node(op, done[left], done[right])])  # (A + N_1 + ... + N_h, C)
        return done

    def value(self, state: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Estimated distance for embedded pairs: (B, C), (B, C) -> (B,)."""
        pair = torch.cat([state, goal, state * goal, (state - goal).abs()], dim=-1)  # (B, 4C)
        distance: torch.Tensor = self.head(pair).squeeze(-1)
        return distance

    def forward(self, x: Forest, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x.roots`` holds (state, goal) positions interleaved, (2B,); targets are distances (B,)."""
        e = self.embed(x)[x.roots].view(-1, 2, self.config.n_embd)  # (B, 2, C)
        distance = self.value(e[:, 0], e[:, 1])  # (B,)
        loss = None if targets is None else F.mse_loss(distance, targets)
        return distance, loss


class TermCache:
    """The embedding of every term in a ``Terms`` table, computed as the table grows (no gradients)."""

    def __init__(self, model: TreeValue, terms: Terms) -> None:
        self.model, self.terms = model, terms
        self.table = torch.empty(0, model.config.n_embd)
        self.done = 0  # ids below this are embedded

    @torch.no_grad()
    def embed_new(self) -> None:
        """Embed ids from ``done`` to the end of the table, one height at a time."""
        start, end = self.done, len(self.terms)
        if start == end:
            return
        if end > len(self.table):
            grown = torch.empty(max(end, 2 * len(self.table)), self.model.config.n_embd)
            grown[:start] = self.table[:start]
            self.table = grown
        ids = np.arange(start, end)
        height = np.asarray(self.terms.height[start:end])
        op = np.asarray(self.terms.op[start:end])
        left, right = np.asarray(self.terms.left[start:end]), np.asarray(self.terms.right[start:end])
        atoms = ids[op == ATOM]
        self.table[atoms] = self.model.atom(torch.from_numpy(atoms))
        for h in np.unique(height[op != ATOM]):
            at = height == h
            e = self.model.node(torch.from_numpy(op[at]), self.table[left[at]], self.table[right[at]])
            self.table[ids[at]] = e
        self.done = end

    @torch.no_grad()
    def values(self, states: list[int], goals: list[int]) -> list[float]:
        """Estimated distance from each state to its goal."""
        self.embed_new()
        s, g = torch.tensor(states), torch.tensor(goals)
        return self.model.value(self.table[s], self.table[g]).tolist()
