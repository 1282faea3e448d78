"""The weak supervisor and the strong student: one logistic-regression head each.

The strong model's "pretrained representation" is the latent ``z`` itself, so
fine-tuning it is fitting a linear head on ``z`` (as linear probing on frozen
features is, in Burns et al. 2023). The weak supervisor is the same head on a
smaller, noisier view. What makes one strong and the other weak is what they
see, not their size: the paper's GPT-2-vs-GPT-4 gap becomes an information gap.

Contract: ``forward(x, targets=None) -> (logits, loss)`` with x (B, n_in) and
targets (B,) probabilities in [0, 1] (soft labels; hard labels are 0.0 / 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class ProbeConfig:
    n_in: int  # features read: the latent size for the strong model, the view size for the weak one


class Probe(nn.Module):
    def __init__(self, config: ProbeConfig) -> None:
        super().__init__()
        self.config = config
        self.head = nn.Linear(config.n_in, 1)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self.head(x).squeeze(-1)  # (B, 1) -> (B,): the log-odds of label 1
        loss = None if targets is None else F.binary_cross_entropy_with_logits(logits, targets)
        return logits, loss
