"""Weak-to-strong generalisation (Burns et al. 2023) in a latent world, one seed at a time.

The world. A latent ``z`` in R^D (D=32) is what the strong model "knows" (its
pretrained representation). The label y is one binary feature of it: ``z = ±s·w
+ Σ_j ±s·d_j + ε``, with ε ~ N(0, I), the truth direction ``w`` and ``m``
distractor directions ``d_j`` (orthonormal), each sign drawn independently. So
the truth is *salient* in z (two clusters along w, s = ``separation``), but so
are m other binary features the label has nothing to do with: the weak labels
must say which feature is the task. (Without distractors a confidence loss can
find the truth with no labels at all; measured: on shuffled labels it then
lands on ±w in half the seeds, PGR -1.9 to +0.96.)

The weak supervisor sees ``P z + σ ξ``: a ``weak_dims``-dimensional projection
``P`` that holds a share ``weak_dims / D`` of the truth direction's norm² and
none of the distractors, plus fresh noise of size ``σ = weak_noise`` per
example. Its errors are therefore of two kinds, and the two knobs set the mix:

- *imitable*: the missing part of w. The weak's prediction is a function of
  ``P z``, which the strong student can compute exactly, so it can learn the
  weak's mistakes along with its successes.
- *not imitable*: the noise ξ, which the student never sees. A student that
  fits the weak labels' expectation given z averages it away.

The arms (each a ``Probe``: the same linear head on z, the same optimiser,
steps, batches and initial weights):

- weak: a probe on the view, trained on ground truth (split A);
- ceiling: the strong probe trained on ground truth (split A);
- naive student: the strong probe trained on the weak's soft labels for a
  separate transfer split B;
- confidence student: the same, with Burns et al.'s auxiliary confidence loss
  (sec. 4.3.2, eq. 1): the target is ``(1-α)·weak + α·hard(student)``, where
  ``hard`` thresholds the student's own probabilities at the batch quantile
  that matches the weak labels' base rate, and α ramps linearly from 0 to
  ``conf_weight`` over the first ``conf_warmup`` of training;
- control: a noise-free weak supervisor and its naive student. All of that
  supervisor's errors are imitable, so PGR must be about 0; more would mean the
  student learns the truth from somewhere other than its labels (a leak).

At ``conf_weight`` 0 the confidence student *is* the naive one, bit for bit:
the same seed gives both the same initial weights and batches.

PGR = (student - weak) / (ceiling - weak), per seed, on the same test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import torch

from hunchlab.studies.params import StudySettings
from hunchlab.studies.scalable_oversight.probe import Probe, ProbeConfig

WHERE = "weak-to-strong study"


@dataclass(frozen=True)
class Settings(StudySettings):
    """Every knob of the study; a spec's ``params`` override these defaults."""

    dims: int = 32  # size of the latent z the strong model sees
    separation: float = 1.5  # how salient the truth is: the classes sit at ±separation along w (Bayes acc 0.93)
    distractors: int = 4  # other binary features in z as salient as the truth, unrelated to the label
    weak_dims: int = 4  # imitability knob: the weak's projection size (it sees weak_dims/dims of the truth)
    weak_noise: float = 1.0  # imitability knob: sd of the fresh noise on the weak's view (0: all errors imitable)
    n_train: int = 2000  # ground-truth examples (weak, ceiling) = weak-labelled examples (students)
    n_test: int = 20000
    steps: int = 200  # optimiser steps for every probe (25 epochs of the transfer split)
    batch_size: int = 256
    lr: float = 0.01
    conf_weight: float = 0.75  # α_max of the confidence loss (Burns et al.'s value for their largest students)
    conf_warmup: float = 0.2  # share of training over which α ramps up from 0
    labels: str = "weak"  # "weak", or "shuffled": the broken arm (weak labels permuted across the transfer split)
    seeds: int = 10  # worlds and trainings per run (run.seed, run.seed + 1000, ...): the intervals are over these
    grid_dims: tuple[int, ...] = (2, 4, 8, 16)  # the imitability grid: weak_dims values...
    grid_noise: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)  # ...times weak_noise values (empty: no grid)
    grid_seeds: int = 5
    examples: int = 200  # test examples kept as per-example records (first seed)

    where: ClassVar[str] = WHERE

    def validated(self) -> Settings:
        for k in (self.weak_dims, *self.grid_dims):
            if not 1 <= k or k + 1 + self.distractors > self.dims:
                raise self.invalid(f"weak_dims {k} does not fit {self.dims} dims with {self.distractors} distractors",
                                   "keep 1 <= weak_dims and weak_dims + 1 + distractors <= dims "
                                   "(the truth needs a part the weak cannot see)")
        counts = (self.dims, self.n_train, self.n_test, self.steps, self.batch_size, self.seeds)
        if min(counts) < 1 or self.distractors < 0:
            raise self.invalid("a count param is below 1",
                               "dims, n_train, n_test, steps, batch_size, seeds must be >= 1")
        if self.grid_seeds < 1 and self.grid_dims and self.grid_noise:
            raise self.invalid("grid_seeds is below 1",
                               "use grid_seeds >= 1, or empty grid_dims / grid_noise for no grid")
        if self.separation <= 0 or self.lr <= 0 or self.weak_noise < 0 or any(v < 0 for v in self.grid_noise):
            raise self.invalid("separation, lr or a noise is out of range", "separation > 0, lr > 0, noises >= 0")
        if not 0 <= self.conf_weight <= 1 or not 0 < self.conf_warmup <= 1:
            raise self.invalid("conf_weight or conf_warmup out of range",
                               "conf_weight in [0, 1], conf_warmup in (0, 1]")
        if self.labels not in ("weak", "shuffled"):
            raise self.invalid(f"labels '{self.labels}'", "use 'weak' or 'shuffled'")
        return self


# ---------------------------------------------------------------------------
# The world


@dataclass
class World:
    truth: torch.Tensor  # (D,) unit vector w: the label's direction
    distractors: torch.Tensor  # (D, m) unit columns orthogonal to w and to each other
    projection: torch.Tensor  # (k, D) orthonormal rows: what the weak supervisor sees
    separation: float

    def sample(self, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, y): n latents (n, D) and their labels (n,) in {0, 1}."""
        D, m = self.distractors.shape
        y = torch.randint(0, 2, (n,), generator=g)
        signs = torch.randint(0, 2, (n, m), generator=g).float() * 2 - 1  # (n, m) the distractor features
        centre = (y.float() * 2 - 1)[:, None] * self.truth + signs @ self.distractors.T  # (n, D)
        return self.separation * centre + torch.randn(n, D, generator=g), y

    def weak_view(self, z: torch.Tensor, noise: float, g: torch.Generator) -> torch.Tensor:
        """The weak supervisor's view of each latent: (n, D) -> (n, k), with fresh noise."""
        return z @ self.projection.T + noise * torch.randn(len(z), len(self.projection), generator=g)


def make_world(s: Settings, seed: int) -> World:
    """A random orientation; the share of w inside the weak's view is exactly weak_dims / dims."""
    g = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(s.dims, s.dims, generator=g))  # (D, D) orthonormal columns
    k = s.weak_dims
    visible = math.sqrt(k / s.dims)
    truth = visible * basis[:, 0] + math.sqrt(1 - visible**2) * basis[:, k]  # part in view, part outside it
    return World(truth, basis[:, k + 1 : k + 1 + s.distractors], basis[:, :k].T, s.separation)


# ---------------------------------------------------------------------------
# Training: one loop for every arm, so that only the loss differs between students


def fit(x: torch.Tensor, targets: torch.Tensor, s: Settings, seed: int, conf_weight: float = 0.0) -> tuple[Probe, int]:
    """A probe trained on (x, soft targets) with Adam; returns it and the examples it saw.

    The initial weights and the batch order depend only on ``seed``, so two
    arms with the same seed differ only in their targets and loss. With
    ``conf_weight`` > 0 the targets are mixed with the probe's own hardened
    predictions (Burns et al.'s auxiliary confidence loss), α ramped up.
    """
    torch.manual_seed(seed)
    model = Probe(ProbeConfig(x.shape[1]))
    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr)
    g = torch.Generator().manual_seed(seed)
    batches = torch.randint(len(x), (s.steps, s.batch_size), generator=g)  # (steps, B)
    ramp = max(1.0, s.conf_warmup * s.steps)
    for step, idx in enumerate(batches):
        target = targets[idx]
        alpha = conf_weight * min(1.0, step / ramp)
        if alpha > 0:
            with torch.no_grad():
                own, _ = model(x[idx])  # the student's current opinion, a target rather than a path for gradients
            target = (1 - alpha) * target + alpha * hardened(own, target)
        _, loss = model(x[idx], target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval(), s.steps * s.batch_size


def hardened(logits: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
    """The student's predictions made hard at the weak labels' base rate: (B,) -> (B,) in {0, 1}.

    The threshold is the batch quantile that labels as many examples 1 as the
    weak soft labels do on average, so the loss cannot win by predicting one
    class everywhere (Burns et al. 2023, sec. 4.3.2).
    """
    p = torch.sigmoid(logits)
    threshold = torch.quantile(p, 1 - weak.mean().clamp(0, 1))
    return (p >= threshold).float()


@torch.no_grad()
def predict(model: Probe, x: torch.Tensor) -> torch.Tensor:
    """P(label 1) for each row: (n, F) -> (n,)."""
    logits, _ = model(x)
    return torch.sigmoid(logits)


def accuracy(p: torch.Tensor, y: torch.Tensor) -> float:
    return ((p > 0.5).long() == y).float().mean().item()


def pgr(student: float, weak: float, ceiling: float) -> float:
    """Performance gap recovered: 0 = no better than the supervisor, 1 = as good as ground truth."""
    return (student - weak) / (ceiling - weak) if ceiling != weak else math.nan


# ---------------------------------------------------------------------------
# One seed: the arms, the controls, the records


@dataclass
class Splits:
    """Three disjoint draws from one world: A trains the weak and the ceiling, B the students, T tests."""

    za: torch.Tensor  # (n_train, D)
    ya: torch.Tensor
    zb: torch.Tensor  # (n_train, D)
    yb: torch.Tensor
    zt: torch.Tensor  # (n_test, D)
    yt: torch.Tensor

    def overlap(self) -> int:
        """Transfer rows that also occur in the weak's training split (0 unless a split was reused)."""
        seen = {tuple(row) for row in self.za[:, :3].tolist()}
        return sum(tuple(row) in seen for row in self.zb[:, :3].tolist())


def weak_labels(world: World, sp: Splits, s: Settings, noise: float,
                seed: int) -> tuple[float, torch.Tensor, torch.Tensor]:
    """(weak test accuracy, its soft labels on the transfer split, its test predictions) at a view noise."""
    g = torch.Generator().manual_seed(seed + 7)
    weak, _ = fit(world.weak_view(sp.za, noise, g), sp.ya.float(), s, seed)
    soft = predict(weak, world.weak_view(sp.zb, noise, g))
    if s.labels == "shuffled":  # same soft labels, no relation to the examples
        soft = soft[torch.randperm(len(soft), generator=g)]
    test = predict(weak, world.weak_view(sp.zt, noise, g))
    return accuracy(test, sp.yt), soft, test


def one_seed(s: Settings, seed: int, controls: bool = True) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Every arm's test accuracy and PGR for one world and training seed, plus worked records."""
    world = make_world(s, seed)
    g = torch.Generator().manual_seed(seed + 1)
    sp = Splits(*world.sample(s.n_train, g), *world.sample(s.n_train, g), *world.sample(s.n_test, g))
    weak, soft, weak_test = weak_labels(world, sp, s, s.weak_noise, seed)
    student_seed = seed + 2  # every strong probe starts from the same weights and sees the same batches
    ceiling, ceiling_seen = fit(sp.za, sp.ya.float(), s, student_seed)
    naive, naive_seen = fit(sp.zb, soft, s, student_seed)
    conf, conf_seen = fit(sp.zb, soft, s, student_seed, s.conf_weight)
    acc = {"weak": weak, "ceiling": accuracy(predict(ceiling, sp.zt), sp.yt)}
    probs = {"naive": predict(naive, sp.zt), "conf": predict(conf, sp.zt)}
    acc |= {name: accuracy(p, sp.yt) for name, p in probs.items()}
    m = {f"acc/{name}": value for name, value in acc.items()}
    m |= {f"pgr/{name}": pgr(acc[name], weak, acc["ceiling"]) for name in ("naive", "conf")}
    m["gain/conf_minus_naive"] = m["pgr/conf"] - m["pgr/naive"]
    if not controls:
        return m, []
    m |= {"budget/ceiling": ceiling_seen, "budget/naive": naive_seen, "budget/conf": conf_seen,
          "data/transfer": len(sp.zb), "data/weak_train": len(sp.za), "data/overlap": sp.overlap()}
    clean_weak, clean_soft, _ = weak_labels(world, sp, s, 0.0, seed)
    clean_student, _ = fit(sp.zb, clean_soft, s, student_seed)
    m["pgr/naive_noise_free"] = pgr(accuracy(predict(clean_student, sp.zt), sp.yt), clean_weak, acc["ceiling"])
    return m, records(world, sp, weak_test, probs, s.examples)


def records(world: World, sp: Splits, weak: torch.Tensor, probs: dict[str, torch.Tensor],
            n: int) -> list[dict[str, Any]]:
    """Test examples with every arm's prediction: browse where the student overrules its supervisor."""
    along = (sp.zt[:n] @ world.truth) / world.separation  # +-1 at the class centres
    out = []
    for i in range(min(n, len(sp.zt))):
        label = int(sp.yt[i])
        conf = float(probs["conf"][i])
        out.append({
            "id": f"test-{i}", "input": f"position along the truth direction {float(along[i]):+.2f}",
            "output": int(conf > 0.5), "target": label, "correct": int(conf > 0.5) == label, "score": conf,
            "weak_p": round(float(weak[i]), 3), "naive_p": round(float(probs["naive"][i]), 3),
            "weak_correct": int(weak[i] > 0.5) == label, "naive_correct": int(probs["naive"][i] > 0.5) == label,
        })
    return out


def grid(s: Settings, seeds: list[int]) -> dict[str, list[float]]:
    """Naive and confidence PGR at each (weak_dims, weak_noise) of the grid, one value per seed."""
    out: dict[str, list[float]] = {}
    for k in s.grid_dims:
        for noise in s.grid_noise:
            cell = replace(s, weak_dims=k, weak_noise=noise)
            for seed in seeds:
                m, _ = one_seed(cell, seed, controls=False)
                for arm in ("naive", "conf"):
                    out.setdefault(f"grid/pgr_{arm}/dims{k}/noise{noise:g}", []).append(m[f"pgr/{arm}"])
    return out
