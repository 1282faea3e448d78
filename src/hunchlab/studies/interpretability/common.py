"""What the three interpretability studies share: checking counts, seeds, and averaging over seeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hunchlab.errors import SpecError

if TYPE_CHECKING:
    import torch

    from hunchlab.studies.training import Callback

M = TypeVar("M", bound="torch.nn.Module")
LOG_EVERY = 200  # steps between training-loss callbacks

SEED_STRIDE = 1000  # a run's training seeds are run.seed + 1000 i: runs with seeds 0, 1, 2 never share one


def check_positive(where: str, **values: float) -> None:
    """A HunchError naming the first count or rate that is not above zero."""
    for name, value in values.items():
        if value <= 0:
            raise SpecError(f"{name} is {value}", where=where, fix=f"use a {name} above 0")


def training_seeds(run_seed: int, n: int) -> list[int]:
    return [run_seed + SEED_STRIDE * i for i in range(n)]


def mean_metrics(per_seed: Sequence[dict[str, float]]) -> dict[str, float]:
    """Each metric averaged over the run's training seeds."""
    return {name: sum(m[name] for m in per_seed) / len(per_seed) for name in per_seed[0]}


def fit_on_draws(model: M, draw: Callable[[int, torch.Generator], torch.Tensor], target: Any, steps: int,
                 batch_size: int, lr: float, seed: int, log: Callback) -> M:
    """Adam on a fresh batch from ``draw(n, generator)`` each step, for models whose data is generated.

    ``model(x, target)`` returns ``(output, loss)``; every instance batched in
    the model sees the same batches. ``training.train`` samples a fixed data
    set instead, and decays its learning rate; these studies follow their
    papers' plain Adam on an unlimited stream.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        _, loss = model(draw(batch_size, g), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % LOG_EVERY == 0 or step == steps - 1:
            log(step, loss.item())
    return model.eval()
