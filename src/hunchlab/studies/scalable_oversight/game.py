"""The debate game, played on every (test image, lie) pair at once.

Irving et al. 2018, sec. 3.1: two debaters see the image; the honest one has
precommitted to the true class, the liar to a wrong one. They take turns
revealing one pixel each to the judge, k in all; the judge then sees only the
revealed pixels and the two claims, and the claim with the higher logit wins.
The liar is given every wrong class in turn (nine games per image) and wins the
image if any lie wins, so a debater who only argues for the judge's runner-up
cannot make debate look better than it is.

A game's state is the judge's hidden pre-activation ``h`` (the revealed pixels'
rows of the judge's first layer, summed) and the legal moves (inked pixels not
yet revealed). The judge's verdict is the margin ``u · relu(h) + c`` with ``u``
the difference of the two claims' output rows: > 0 means the truth wins.
Revealing pixel p adds ``W[p]`` to h, so scoring every candidate move of every
game is one (games, candidates, hidden) add-ReLU-dot, and a ``plies``-deep
minimax (each debater maximising its own side of the margin, keeping its
``width`` best moves by one-step margin at each ply below the first) is the
same operation on ``width^(plies-1)`` times as many states.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from hunchlab.studies.scalable_oversight.judge import Judge

HONEST, LIAR = 1.0, -1.0  # a mover's sign: which side of the margin it maximises
ILLEGAL = -1e9
STATE_BUDGET = 2**22  # floats per search chunk (states x candidates x hidden): 16 MB, cache-friendly


@dataclass
class Games:
    """Every (image, lie) pair of a test set; ``lies`` consecutive rows per image."""

    candidates: torch.Tensor  # (G, C) pixel index of each possible move: the image's inked pixels, padded
    legal: torch.Tensor  # (G, C) bool: inked and not yet revealed
    hidden: torch.Tensor  # (G, H) judge pre-activation of the pixels revealed so far
    u: torch.Tensor  # (G, H) judge output row of the true class minus that of the lie
    c: torch.Tensor  # (G,) the same for the output bias
    truth: torch.Tensor  # (G,) the true class
    lie: torch.Tensor  # (G,) the liar's claim
    images: int
    lies: int

    def margin(self) -> torch.Tensor:
        """(G,) the judge's logit for the truth minus that for the lie, from the pixels revealed so far."""
        return (F.relu(self.hidden) * self.u).sum(-1) + self.c

    def honest_wins(self) -> torch.Tensor:
        """(images,) bool: the honest debater beat every lie."""
        return (self.margin() > 0).view(self.images, self.lies).all(dim=1)


def setup(judge: Judge, images: torch.Tensor, labels: torch.Tensor) -> Games:
    """One game per image and wrong class, nothing revealed yet."""
    n, classes = len(images), judge.config.n_classes
    wrong = [torch.cat([torch.arange(t), torch.arange(t + 1, classes)]) for t in labels.tolist()]
    lies = torch.stack(wrong)  # (n, classes - 1)
    per = classes - 1
    ink = images.repeat_interleave(per, dim=0)  # (G, P)
    counts = ink.sum(1).long()
    order = torch.sort(-ink, dim=1, stable=True).indices[:, : int(counts.max())]  # inked pixels first
    truth, lie = labels.repeat_interleave(per), lies.flatten()
    out = judge.out
    with torch.no_grad():
        return Games(
            candidates=order,
            legal=torch.arange(order.shape[1])[None] < counts[:, None],
            hidden=judge.first.bias.expand(len(truth), -1).clone(),
            u=out.weight[truth] - out.weight[lie],
            c=out.bias[truth] - out.bias[lie],
            truth=truth, lie=lie, images=n, lies=per,
        )


def search(w: torch.Tensor, candidates: torch.Tensor, hidden: torch.Tensor, u: torch.Tensor, c: torch.Tensor,
           legal: torch.Tensor, signs: list[float], width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimax over the next ``len(signs)`` moves; returns (margin after them, first move's slot), each (B,).

    ``signs[i]`` is the side whose move ply i is; each mover picks the move
    that maximises ``sign * margin`` given the best replies that follow. Below
    the first ply only the ``width`` moves best by one-step margin are tried.
    """
    after = (F.relu(hidden[:, None, :] + w[candidates]) * u[:, None, :]).sum(-1) + c[:, None]  # (B, C)
    own = torch.where(legal, signs[0] * after, torch.full_like(after, ILLEGAL))
    if len(signs) == 1:
        slot = own.argmax(dim=1)
        return after.gather(1, slot[:, None])[:, 0], slot
    B, m = len(hidden), min(width, legal.shape[1])
    kept = own.topk(m, dim=1).indices  # (B, m) slots worth looking deeper into
    rows = torch.arange(B).repeat_interleave(m)  # (B*m,) the state each branch came from
    slots = kept.flatten()
    deeper = legal[rows].clone()
    deeper[torch.arange(B * m), slots] = False
    sub, _ = search(w, candidates[rows], hidden[rows] + w[candidates[rows, slots]], u[rows], c[rows], deeper,
                    signs[1:], width)
    value = signs[0] * sub.view(B, m)  # (B, m) for the mover, after the best replies
    value = torch.where(legal.gather(1, kept), value, torch.full_like(value, ILLEGAL))
    best = value.argmax(dim=1)
    return sub.view(B, m)[torch.arange(B), best], kept[torch.arange(B), best]


@torch.no_grad()
def play(judge: Judge, games: Games, movers: list[float], plies: int, width: int,
         random_moves: torch.Generator | None = None) -> torch.Tensor:
    """Play the whole game in place; returns (G, k) the pixel revealed at each move.

    ``movers[i]`` is whose move i is. With ``random_moves`` every move is a
    uniformly random legal pixel instead, the same for all lies of an image
    (random debaters ignore the claims).
    """
    w = judge.first.weight.T  # (P, H): the row revealing each pixel adds to the hidden pre-activation
    G, C = games.legal.shape
    priority = None if random_moves is None else torch.rand(games.images, C, generator=random_moves)
    revealed = []
    for move in range(len(movers)):
        if priority is not None:
            shared = priority.repeat_interleave(games.lies, dim=0)  # (G, C) one draw per image, for all its lies
            scores = torch.where(games.legal, shared, torch.full((G, C), ILLEGAL))
            slot = scores.argmax(dim=1)
        else:
            slot = _searched(w, games, movers[move : move + plies], width)
        pixel = games.candidates[torch.arange(G), slot]
        games.legal[torch.arange(G), slot] = False
        games.hidden += w[pixel]
        revealed.append(pixel)
    return torch.stack(revealed, dim=1)


def _searched(w: torch.Tensor, games: Games, signs: list[float], width: int) -> torch.Tensor:
    """The searched move of every game, in chunks that keep the search's states within STATE_BUDGET floats."""
    G, C = games.legal.shape
    states = min(width, C) ** (len(signs) - 1) * C * w.shape[1]
    chunk = max(1, STATE_BUDGET // states)
    slots = []
    for i in range(0, G, chunk):
        part = slice(i, i + chunk)
        _, slot = search(w, games.candidates[part], games.hidden[part], games.u[part], games.c[part],
                         games.legal[part], signs, width)
        slots.append(slot)
    return torch.cat(slots)


def movers_for(order: str, k: int) -> list[float]:
    """Whose move each of the k reveals is: alternating from ``honest_first`` or ``liar_first``; or one side alone."""
    if order == "liar_alone":
        return [LIAR] * k
    if order == "honest_alone":
        return [HONEST] * k
    first, second = (HONEST, LIAR) if order == "honest_first" else (LIAR, HONEST)
    return [first if i % 2 == 0 else second for i in range(k)]
