"""Linear probes: is a property linearly readable from an activation?

``fit_probe`` fits a classifier (multinomial logistic regression, for integer
labels) or a regressor (ridge, for float targets) on cached activations, full
batch and deterministic, on standardised features. ``Probe.score`` reports held-
out accuracy or R². Fit on one split and score on another: a probe on enough
dimensions fits random labels on its training set (Hewitt & Liang 2019, control
tasks), so only a held-out score says anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hunchlab.errors import BadInput
from hunchlab.interp.taps import Tensor

MAX_ITER = 200  # L-BFGS iterations; logistic fits on up to 10^4 x 10^3 converge in under 100


@dataclass(frozen=True)
class Probe:
    """A fitted linear probe: ``weight @ standardise(x) + bias``."""

    kind: str  # "classify" or "regress"
    weight: Tensor  # (classes, d) or (d,)
    bias: Tensor  # (classes,) or ()
    center: Tensor  # (d,): the training features' mean
    spread: Tensor  # (d,): their standard deviation (1 where constant)

    def direction(self) -> Tensor:
        """The probe's weights in the activation's own coordinates (undoing the standardisation)."""
        return self.weight / self.spread

    def predict(self, x: Tensor) -> Tensor:
        """Class ids (classify) or values (regress) for ``(N, d)`` activations."""
        xs = (x.float() - self.center) / self.spread
        out = xs @ (self.weight.T if self.weight.dim() == 2 else self.weight) + self.bias
        return out.argmax(-1) if self.kind == "classify" else out

    def score(self, x: Tensor, y: Tensor) -> float:
        """Accuracy (classify) or R² (regress) on ``(x, y)``; use held-out data."""
        _check(x, y)
        pred = self.predict(x)
        if self.kind == "classify":
            return (pred == y).float().mean().item()
        y = y.float()
        return 1.0 - ((pred - y) ** 2).sum().item() / ((y - y.mean()) ** 2).sum().clamp(min=1e-12).item()


def _check(x: Tensor, y: Tensor) -> None:
    if x.dim() != 2 or y.dim() != 1 or len(x) != len(y) or len(x) < 2:
        raise BadInput(f"features {tuple(x.shape)} and labels {tuple(y.shape)}", where="linear probe",
                       fix="pass (N, d) activations and (N,) labels, N >= 2 (flatten batch and position first)")
    if not torch.isfinite(x).all():
        raise BadInput("features hold NaN or inf", where="linear probe", fix="drop or fix those rows")


def fit_probe(x: Tensor, y: Tensor, l2: float = 1e-3) -> Probe:
    """A linear probe from ``(N, d)`` activations to ``(N,)`` labels (int: classes; float: values).

    ``l2`` is the ridge penalty per example on the standardised weights; the
    default barely regularises, raise it when d approaches N.
    """
    _check(x, y)
    x = x.detach().float()
    center, spread = x.mean(0), x.std(0)
    spread = torch.where(spread > 0, spread, torch.ones_like(spread))
    xs = (x - center) / spread
    if y.dtype.is_floating_point:
        return _ridge(xs, y.detach().float(), l2, center, spread)
    return _logistic(xs, y.detach().long(), l2, center, spread)


def _ridge(xs: Tensor, y: Tensor, l2: float, center: Tensor, spread: Tensor) -> Probe:
    n, d = xs.shape
    gram = xs.T @ xs + l2 * n * torch.eye(d)
    weight = torch.linalg.solve(gram, xs.T @ (y - y.mean()))
    return Probe("regress", weight, y.mean(), center, spread)


def _logistic(xs: Tensor, y: Tensor, l2: float, center: Tensor, spread: Tensor) -> Probe:
    classes = int(y.max().item()) + 1
    if y.min() < 0 or classes < 2:
        raise BadInput(f"class labels from {int(y.min())} to {classes - 1}", where="linear probe",
                       fix="use labels 0..C-1 with at least two classes, or float targets for regression")
    weight = torch.zeros(classes, xs.shape[1], requires_grad=True)
    bias = torch.zeros(classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=MAX_ITER, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ weight.T + bias, y) + l2 * weight.pow(2).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    return Probe("classify", weight.detach(), bias.detach(), center, spread)
