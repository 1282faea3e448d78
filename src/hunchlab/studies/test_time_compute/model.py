"""The generator and the verifiers: small networks over the steps of a chain.

A "token" here is a whole step, given as a few categorical features (see
``world.step_features``) whose embeddings are summed.

- ``Generator`` reads one step (previous value, operation) and gives logits for
  the resulting value. Arithmetic is Markov, so it needs no history, and
  sampling costs one call per step. Label smoothing caps its confidence, so
  its sampled chains stay diverse however long it trains.
- ``Verifier`` judges every step with an MLP, pools those judgements over the
  steps so far (a running max, so one bad step anywhere can dominate), and
  gives at every step the logit that a label is true. The process reward model
  (PRM) and the outcome reward model (ORM) are both this network and differ
  only in their labels: "this step is correct" versus "the final answer is
  correct", the comparison of Lightman et al. 2023. The pooling is what lets
  an ORM, at the last step, see an error made earlier; it must discover which
  step was wrong from one label per chain, where the PRM is told.

Both follow one contract: ``forward(x, targets=None) -> (logits, loss)`` with
x (B, T, F) and targets (B, T), where a target of -1 is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GeneratorConfig:
    feature_sizes: tuple[int, ...]  # vocabulary size of each per-step feature: (values, operations)
    n_out: int = 10  # logits over the resulting value
    n_embd: int = 32
    n_hidden: int = 128
    label_smoothing: float = 0.1  # never quite sure of a step (at most 91%), as a language model is not


@dataclass
class VerifierConfig:
    feature_sizes: tuple[int, ...]  # vocabulary size of each per-step feature: (values, ops, values, steps left)
    n_embd: int = 32  # width of a step's embedding and of its judgement vector
    n_hidden: int = 64


class StepEmbedding(nn.Module):
    """Sum of one embedding per categorical feature: (B, T, F) long -> (B, T, C)."""

    def __init__(self, feature_sizes: tuple[int, ...], n_embd: int) -> None:
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(size, n_embd) for size in feature_sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embedded: torch.Tensor = sum(table(x[..., i]) for i, table in enumerate(self.tables))  # (B, T, C)
        return embedded


def mlp(n_in: int, n_hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.GELU(), nn.Linear(n_hidden, n_out))


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy (logits (B, T, V)) or binary cross-entropy (logits (B, T)) over targets >= 0."""
    mask = targets >= 0  # (B, T)
    if logits.dim() == targets.dim():
        return F.binary_cross_entropy_with_logits(logits[mask], targets[mask].float())
    return F.cross_entropy(logits[mask], targets[mask], label_smoothing=label_smoothing)


def running_max(x: torch.Tensor) -> torch.Tensor:
    """Max over positions 0..t at every t, (B, T, C) -> (B, T, C).

    Same as ``torch.cummax(x, 1).values``, which is about 8x slower on a CPU
    for chains this short.
    """
    out = [x[:, 0]]
    for t in range(1, x.shape[1]):
        out.append(torch.maximum(out[-1], x[:, t]))
    return torch.stack(out, dim=1)


class Generator(nn.Module):
    """The next value of each step, independently per position."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = StepEmbedding(config.feature_sizes, config.n_embd)
        self.head = mlp(config.n_embd, config.n_hidden, config.n_out)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits = self.head(F.gelu(self.embed(x)))  # (B, T, 10)
        return logits, None if targets is None else masked_loss(logits, targets, self.config.label_smoothing)


class Verifier(nn.Module):
    """Reads steps 0..t and gives the logit that step t's label is true, at every position.

    A PRM's label at step t is "step t is correct"; an ORM's is "the final
    answer is correct" at every step (as in Cobbe et al. 2021), and it is read
    at the last step.
    """

    def __init__(self, config: VerifierConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = StepEmbedding(config.feature_sizes, config.n_embd)
        self.judge = mlp(config.n_embd, config.n_hidden, config.n_embd)  # one judgement vector per step
        self.head = mlp(2 * config.n_embd, config.n_hidden, 1)  # (this step, all steps so far) -> logit

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        step = self.judge(F.gelu(self.embed(x)))  # (B, T, C)
        so_far = running_max(step)  # (B, T, C): max over steps 0..t, so step t sees no later step
        logits = self.head(torch.cat([step, so_far], dim=-1))[..., 0]  # (B, T)
        return logits, None if targets is None else masked_loss(logits, targets)

    def extend(self, x: torch.Tensor, so_far: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The logit for one more step, given the running max of the judgements before it.

        x: (B, F), one step's features; so_far: (B, C), or None at the first
        step. Returns the logit (B,), equal to ``forward``'s at that position,
        and the new running max (B, C). Beam search grows chains a step at a
        time, and this scores each new step without re-reading the prefix.
        """
        step = self.judge(F.gelu(self.embed(x)))  # (B, C)
        so_far = step if so_far is None else torch.maximum(so_far, step)
        return self.head(torch.cat([step, so_far], dim=-1))[..., 0], so_far
