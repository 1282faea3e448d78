"""The sparse-pixel judge: a classifier that sees only which pixels were revealed.

Only inked pixels are ever revealed, so a revealed pixel carries one bit of
news, "there is ink here", and the judge's input is the reveal mask alone
(B, P) with P = size*size. It is an MLP with one hidden layer, trained on masks
of exactly k random inked pixels, as Irving et al. 2018 trained theirs on
random sparse masks (their judge is a small CNN on MNIST).

One hidden layer is what makes deep debate search affordable: revealing pixel
p adds the row ``first.weight[:, p]`` to the hidden pre-activation, so the
game engine keeps that (B, hidden) vector per game and scores every candidate
move with one add, a ReLU and a dot product (see ``debate.search``).

Contract: ``forward(mask, targets=None) -> (logits, loss)`` with mask (B, P)
of 0/1 and targets (B,) class indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class JudgeConfig:
    n_pixels: int  # size * size
    n_hidden: int = 128
    n_classes: int = 10


class Judge(nn.Module):
    def __init__(self, config: JudgeConfig) -> None:
        super().__init__()
        self.config = config
        self.first = nn.Linear(config.n_pixels, config.n_hidden)
        self.out = nn.Linear(config.n_hidden, config.n_classes)

    def hidden(self, mask: torch.Tensor) -> torch.Tensor:
        """The pre-activation the game engine updates one reveal at a time: (B, P) -> (B, H)."""
        pre: torch.Tensor = self.first(mask)  # (B, H)
        return pre

    def forward(self, mask: torch.Tensor,
                targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self.out(F.relu(self.hidden(mask)))  # (B, classes)
        loss = None if targets is None else F.cross_entropy(logits, targets)
        return logits, loss
