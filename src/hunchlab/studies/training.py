"""A generic training loop that reports through a callback, and a cache of trained models.

Shared by every study area: a study's model code defines modules with
``forward(x, targets) -> (logits, loss)`` and trains them here, or with a loop of its
own when the objective does not fit (it still caches through ``cached``).

The loop knows nothing about hunchlab: it calls ``callback(iteration, loss)``
every ``log_every`` iterations and the caller decides where numbers go (the
study entries forward them to ``run.log``), as minGPT's Trainer does.

Trained weights are cached by a hash of everything that determines them, so a
second run with the same settings (another study over the same models, the
broken arm of a study, a re-run) skips training.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn as nn

from hunchlab.models.cache import cache_home

CACHE_VERSION = 1  # bump when a change to the code changes what a cached model would be

Callback = Callable[[int, float], None]
M = TypeVar("M", bound=nn.Module)


@dataclass
class TrainConfig:
    iters: int = 1500
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.01
    log_every: int = 50  # iterations between callbacks


def train(
    model: M,
    x: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    seed: int,
    callback: Callback | None = None,
) -> M:
    """Minibatch AdamW with cosine decay on (x, y); returns the model in eval mode.

    ``model`` is any module with ``forward(x, targets) -> (logits, loss)``.
    Weight decay applies to matrices only, as in nanoGPT.
    """
    g = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.iters, eta_min=config.lr / 10)
    model.train()
    for it in range(config.iters):
        idx = torch.randint(len(x), (config.batch_size,), generator=g)
        _, loss = model(x[idx], y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if callback is not None and (it % config.log_every == 0 or it == config.iters - 1):
            callback(it, loss.item())
    return model.eval()


def cache_root() -> Path:
    return cache_home() / "studies"


def cache_key(spec: dict[str, Any]) -> str:
    blob = json.dumps({"version": CACHE_VERSION, **spec}, sort_keys=True, default=_jsonable)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _jsonable(value: Any) -> Any:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else str(value)


def cached(area: str, name: str, spec: dict[str, Any], make: Callable[[], M],
           fit: Callable[[M], M]) -> tuple[M, bool]:
    """The model ``fit(make())`` would train for ``spec``, from the cache when it is there.

    Returns (model in eval mode, was_cached). ``spec`` must hold everything that
    determines the weights: data, seed, configs, and the spec of any model whose
    samples are the training data. ``area`` names the cache's subfolder (the study
    package, e.g. ``test_time_compute``).
    """
    path = cache_root() / area / f"{name}-{cache_key(spec)}.pt"
    model = make()
    if path.exists():
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval(), True
    model = fit(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # same folder, so os.replace is atomic
    os.close(fd)
    try:
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return model.eval(), False
