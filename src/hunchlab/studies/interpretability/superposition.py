"""Toy Models of Superposition (Elhage et al. 2022): the model, its data, training and measures.

Each of ``n`` features is active with probability 1 - S (then uniform on [0, 1],
else 0) and has importance ``decay**i``. A model squeezes ``x`` through ``m < n``
dimensions and back: ``x' = ReLU(W^T W x + b)``, trained on importance-weighted
squared error. Elhage et al. find that with dense features it keeps the ``m``
most important ones (one dimension each), while with sparse features the ReLU
lets it store more features than dimensions, at the cost of interference
(superposition); a linear model ``W^T W x + b`` cannot, at any sparsity.

Every sparsity and both arms (ReLU, and the linear baseline) are trained at
once, as one batched tensor ``W (arms, sparsities, m, n)``, on the same batches:
the arms see identical data and steps. Nothing here knows about hunchlab runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn as nn

from hunchlab.errors import SpecError
from hunchlab.studies.interpretability.common import check_positive, fit_on_draws
from hunchlab.studies.training import Callback, cached

AREA = "interpretability"  # the model cache's subfolder
ARMS = ("relu", "linear")  # the model, and the baseline that cannot superpose


@dataclass(frozen=True)
class SuperpositionSettings:
    """Every knob of the superposition study; a spec's ``params`` override these defaults."""

    n_features: int = 20
    n_hidden: int = 5
    importance_decay: float = 0.7  # feature i has importance decay**i
    sparsities: tuple[float, ...] = (0.0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999)  # S: chance a feature is 0
    steps: int = 4000
    batch_size: int = 1024
    lr: float = 1e-3
    relu: bool = True  # the broken arm: false trains the "ReLU" arm without its ReLU
    represented_norm: float = 0.5  # a feature counts as represented when its column's norm exceeds this
    seeds: int = 1  # training seeds in one run: run.seed, run.seed + 1000, ...

    def validated(self) -> SuperpositionSettings:
        where = "superposition study"
        check_positive(where, n_features=self.n_features, n_hidden=self.n_hidden, steps=self.steps,
                       batch_size=self.batch_size, lr=self.lr, seeds=self.seeds)
        if self.n_hidden >= self.n_features:
            raise SpecError(f"n_hidden {self.n_hidden} is not below n_features {self.n_features}", where=where,
                            fix="superposition needs fewer dimensions than features, e.g. n_features 20, n_hidden 5")
        if not self.sparsities or not all(0 <= s < 1 for s in self.sparsities):
            raise SpecError(f"sparsities {list(self.sparsities)}", where=where,
                            fix="give sparsities S in [0, 1), e.g. [0, 0.9, 0.99]")
        if not 0 < self.importance_decay <= 1:
            raise SpecError(f"importance_decay {self.importance_decay}", where=where, fix="use a value in (0, 1]")
        return replace(self, sparsities=tuple(sorted(self.sparsities)))  # densest first


@dataclass
class ToyConfig:
    n_features: int
    n_hidden: int
    n_sparsities: int
    relu: bool  # whether the first arm has its ReLU (the second never does)


class ToyModels(nn.Module):
    """Both arms at every sparsity: ``x' = act(W^T W x + b)``, one W per (arm, sparsity)."""

    def __init__(self, config: ToyConfig) -> None:
        super().__init__()
        self.config = config
        shape = (len(ARMS), config.n_sparsities, config.n_hidden, config.n_features)
        self.W = nn.Parameter(nn.init.xavier_normal_(torch.empty(shape)))  # (arms, S, m, n)
        self.b = nn.Parameter(torch.zeros(len(ARMS), config.n_sparsities, config.n_features))  # (arms, S, n)

    def forward(self, x: torch.Tensor, importance: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` is (B, S, n), one batch per sparsity, fed to both arms; returns (B, arms, S, n)."""
        h = torch.einsum("asmn,bsn->basm", self.W, x)  # (B, arms, S, m)
        out = torch.einsum("asmn,basm->basn", self.W, h) + self.b  # (B, arms, S, n)
        if self.config.relu:
            out = torch.cat([torch.relu(out[:, :1]), out[:, 1:]], dim=1)  # ReLU on the first arm only
        loss = None
        if importance is not None:  # importance-weighted squared error, each (arm, S) its own model
            loss = (importance * (x[:, None] - out) ** 2).sum(-1).mean(0).sum()
        return out, loss


def importance(s: SuperpositionSettings) -> torch.Tensor:
    return s.importance_decay ** torch.arange(s.n_features, dtype=torch.float32)  # (n,)


def sample(s: SuperpositionSettings, batch: int, g: torch.Generator) -> torch.Tensor:
    """A batch per sparsity: (B, S, n), each feature U[0, 1] with probability 1 - S, else 0."""
    shape = (batch, len(s.sparsities), s.n_features)
    active = torch.rand(shape, generator=g) < (1 - torch.tensor(s.sparsities))[:, None]
    return torch.rand(shape, generator=g) * active


def train_models(s: SuperpositionSettings, seed: int, log: Callback) -> ToyModels:
    """Both arms at every sparsity, trained (or loaded from the cache) with Adam on the same batches."""
    config = ToyConfig(s.n_features, s.n_hidden, len(s.sparsities), s.relu)
    spec = {"config": config, "decay": s.importance_decay, "sparsities": s.sparsities, "steps": s.steps,
            "batch": s.batch_size, "lr": s.lr, "seed": seed}

    torch.manual_seed(seed)
    model, _ = cached(AREA, "superposition", spec, lambda: ToyModels(config),
                      lambda model: fit_on_draws(model, lambda n, g: sample(s, n, g), importance(s), s.steps,
                                                 s.batch_size, s.lr, seed, log))
    return model


@dataclass
class Measures:
    """Per arm and sparsity: what the trained W says about each feature."""

    norms: torch.Tensor  # (arms, S, n): ||W_i||
    superposition: torch.Tensor  # (arms, S, n): sum over j != i of (W_i_hat . W_j)^2
    represented: torch.Tensor  # (arms, S): features with ||W_i|| > represented_norm
    dims_per_feature: torch.Tensor  # (arms, S): m / ||W||_F^2 (Elhage et al.'s D*)
    wtw: torch.Tensor  # (arms, S, n, n)


def measure(model: ToyModels, s: SuperpositionSettings) -> Measures:
    W = model.W.detach()  # (arms, S, m, n)
    norms = W.norm(dim=2)  # (arms, S, n)
    unit = W / norms.clamp(min=1e-8)[:, :, None, :]
    overlap = torch.einsum("asmi,asmj->asij", unit, W) ** 2  # (arms, S, n, n)
    superposition = overlap.sum(-1) - torch.diagonal(overlap, dim1=-2, dim2=-1)
    return Measures(norms, superposition, (norms > s.represented_norm).sum(-1),
                    s.n_hidden / W.pow(2).sum((2, 3)), torch.einsum("asmi,asmj->asij", W, W))


def metrics(m: Measures, s: SuperpositionSettings) -> dict[str, float]:
    """The summary metrics the check reads, by stable names (``represented/relu/S0.99``)."""
    out: dict[str, float] = {"n_hidden": s.n_hidden, "n_features": s.n_features}
    ends = {"dense": 0, "sparse": len(s.sparsities) - 1}
    for a, arm in enumerate(ARMS):
        for i, sparsity in enumerate(s.sparsities):
            out[f"represented/{arm}/S{sparsity:g}"] = float(m.represented[a, i])
            out[f"dims_per_feature/{arm}/S{sparsity:g}"] = float(m.dims_per_feature[a, i])
        for end, i in ends.items():
            out[f"represented/{arm}/{end}"] = float(m.represented[a, i])
            out[f"dims_per_feature/{arm}/{end}"] = float(m.dims_per_feature[a, i])
        out[f"represented/{arm}/max"] = float(m.represented[a].max())
        out[f"dims_per_feature/{arm}/min"] = float(m.dims_per_feature[a].min())
        out[f"steps/{arm}"] = s.steps  # counted: both arms are trained in the same loop
        out[f"examples/{arm}"] = s.steps * s.batch_size
    return out


def records(m: Measures, s: SuperpositionSettings) -> list[dict[str, Any]]:
    """One record per (sparsity, feature) of the ReLU arm: is it represented, and how superposed."""
    weights = importance(s)
    return [
        {"id": f"S{sparsity:g}/f{i:02d}", "input": {"sparsity": sparsity, "feature": i,
                                                    "importance": round(float(weights[i]), 4)},
         "output": round(float(m.norms[0, k, i]), 4), "target": f"||W_i|| > {s.represented_norm}",
         "correct": bool(m.norms[0, k, i] > s.represented_norm), "score": float(m.superposition[0, k, i])}
        for k, sparsity in enumerate(s.sparsities) for i in range(s.n_features)
    ]
