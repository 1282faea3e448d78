"""The toy world: modular arithmetic chains with a checker.

A problem is a start digit and K operations applied mod 10, e.g. ``3 +7 -2 +9``;
its solution is the chain of K intermediate values ``0 8 7`` (3+7=0, 0-2=8,
8+9=7), and its answer is the last value. Because every step can be recomputed,
a checker labels each step of any sampled chain as correct or not (process
labels) and the whole chain by its answer (outcome labels) for free: the role
human step labels play in Lightman et al. 2023 and automatic ones in Snell et
al. 2024.

Encoding (every tensor is ``torch.long``):

- a value is a digit 0..9;
- an operation is one token 0..19: ``0..9`` mean ``+0..+9``, ``10..19`` mean
  ``-0..-9``; so ``apply(v, op) = (v + op) % 10`` for ``op < 10`` and
  ``(v - (op - 10)) % 10`` otherwise;
- ``Problems.start`` is ``(P,)``, ``Problems.ops`` is ``(P, K)``, a chain is
  ``(..., K)`` values, where ``chain[..., i]`` is the value after operation i.

The generator is meant to be wrong in a structured way, as a language model is
on the skills it never learned: ``seen_table`` marks which (value, operation)
steps it may see in training; it never sees the rest. Every split is drawn
from its own fixed seed, so test problems never change between runs or seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

N_VALUES = 10  # digits, arithmetic is mod 10
N_OPS = 20  # +0..+9 then -0..-9
MAX_STEPS = 8  # longest chain any model is built for (positions 0..7)


@dataclass(frozen=True)
class Problems:
    """A batch of P problems of the same length K."""

    start: torch.Tensor  # (P,) start digit
    ops: torch.Tensor  # (P, K) operation tokens

    def __len__(self) -> int:
        return self.start.shape[0]

    @property
    def k(self) -> int:
        return self.ops.shape[1]

    def __getitem__(self, index: slice) -> Problems:
        return Problems(self.start[index], self.ops[index])

    def expand(self, n: int) -> Problems:
        """Each problem repeated n times in a row: ``[p0]*n + [p1]*n + ...``."""
        return Problems(self.start.repeat_interleave(n), self.ops.repeat_interleave(n, dim=0))

    def describe(self, i: int) -> str:
        """``"3 +7 -2 +9"``: problem i as text, for per-example records."""
        return " ".join([str(int(self.start[i]))] + [op_text(int(op)) for op in self.ops[i]])


def op_text(op: int) -> str:
    return f"+{op}" if op < 10 else f"-{op - 10}"


def apply(value: torch.Tensor, op: torch.Tensor) -> torch.Tensor:
    """One step of arithmetic mod 10, elementwise."""
    operand = op % 10
    return torch.where(op < 10, value + operand, value - operand) % N_VALUES


def solve(problems: Problems) -> torch.Tensor:
    """The correct chain, (P, K)."""
    values, value = [], problems.start
    for i in range(problems.k):
        value = apply(value, problems.ops[:, i])
        values.append(value)
    return torch.stack(values, dim=1)


def previous_values(problems: Problems, chains: torch.Tensor) -> torch.Tensor:
    """The value each step starts from: start digit, then the chain shifted right. (P, K)."""
    return torch.cat([problems.start[:, None], chains[:, :-1]], dim=1)


def step_correct(problems: Problems, chains: torch.Tensor) -> torch.Tensor:
    """Process labels, (P, K) bool: is step i a correct operation on the chain's own previous value?

    A step after an error is judged on its own terms (locally), which is what a
    human marking each line of working does.
    """
    return chains == apply(previous_values(problems, chains), problems.ops)


def answer_correct(problems: Problems, chains: torch.Tensor) -> torch.Tensor:
    """Outcome labels, (P,) bool: is the final value the right answer?"""
    return chains[:, -1] == solve(problems)[:, -1]


def seen_table(holdout_frac: float, seed: int) -> torch.Tensor:
    """Which (value, operation) steps the generator may train on, (10, 20) bool.

    A fraction ``holdout_frac`` of the 200 steps, drawn at random, is held out.
    """
    g = torch.Generator().manual_seed(seed)
    return torch.rand(N_VALUES, N_OPS, generator=g) >= holdout_frac


def random_problems(n: int, k: int, seed: int) -> Problems:
    """n problems with uniform start digits and operations (the test distribution)."""
    g = torch.Generator().manual_seed(seed)
    return Problems(torch.randint(N_VALUES, (n,), generator=g), torch.randint(N_OPS, (n, k), generator=g))


@dataclass(frozen=True)
class Split:
    """Fixed problem sets for one chain length K."""

    train: Problems  # problems the verifiers' training chains are sampled on
    dev: Problems  # for choosing a strategy per difficulty (Snell et al.'s compute-optimal)
    test: Problems  # what every reported number is measured on


def make_split(k: int, n_train: int, n_dev: int, n_test: int, data_seed: int) -> Split:
    """Disjoint seeds per (K, split), so changing one size never changes another split."""
    base = 1000 * data_seed + 10 * k
    return Split(
        train=random_problems(n_train, k, base + 1),
        dev=random_problems(n_dev, k, base + 2),
        test=random_problems(n_test, k, base + 3),
    )


def step_features(problems: Problems, chains: torch.Tensor, *, verifier: bool) -> torch.Tensor:
    """Per-step categorical features for the models, (P, t, F) long.

    Generator, F = 2: (previous value, operation), what it needs to predict the
    next value. ``chains`` then holds the values so far plus one placeholder,
    since the features of step i read only values before i.

    Verifier, F = 4: (previous value, operation, resulting value, steps left
    until the answer). The first three are the step to judge; steps left lets
    one model serve every K, so the outcome model knows when it sees the answer.
    ``chains`` may be a prefix of length t <= K (beam search scores prefixes).
    """
    t = chains.shape[1]
    cols = [previous_values(problems, chains), problems.ops[:, :t]]  # each (P, t)
    if verifier:
        steps_left = (problems.k - 1 - torch.arange(t)).expand(len(problems), t)
        cols += [chains, steps_left]
    return torch.stack(cols, dim=2)


GENERATOR_FEATURES = (N_VALUES, N_OPS)  # vocabulary size of each generator feature
VERIFIER_FEATURES = (N_VALUES, N_OPS, N_VALUES, MAX_STEPS)  # ... and of each verifier feature
