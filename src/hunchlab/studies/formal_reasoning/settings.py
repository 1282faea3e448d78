"""The knobs of the two studies; a spec's ``params`` override these defaults (``hunch study run NAME key=value``).

Defaults are the full budget; each spec's ``smoke:`` block names the reduced one.
The budgets behind the defaults are measured and stated in ``check.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from hunchlab.studies.formal_reasoning.model import ValueConfig
from hunchlab.studies.params import StudySettings
from hunchlab.studies.training import TrainConfig

WHERE = "formal reasoning study"
MAX_DIFFICULTY = 12  # random walks longer than this get stuck often and make slow searches


@dataclass(frozen=True)
class GuideSettings(StudySettings):
    """What both studies share: the search budget and the value network and its training."""

    budget: int = 200  # expansions per theorem, the same for every arm
    value_iters: int = 600  # training steps of the value network
    batch_size: int = 64
    lr: float = 3e-3
    n_embd: int = 32  # width of a term's embedding
    n_hidden: int = 64

    where: ClassVar[str] = WHERE

    def value_config(self) -> ValueConfig:
        return ValueConfig(self.n_embd, self.n_hidden)

    def train_config(self) -> TrainConfig:
        return TrainConfig(iters=self.value_iters, batch_size=self.batch_size, lr=self.lr,
                           log_every=max(1, self.value_iters // 20))

    def check_difficulties(self, name: str, values: tuple[int, ...]) -> None:
        if not values or min(values) < 1 or max(values) > MAX_DIFFICULTY:
            raise self.invalid(f"{name} {list(values)} out of range", f"use difficulties from 1 to {MAX_DIFFICULTY}")

    def validated(self) -> Self:
        if min(self.budget, self.value_iters, self.batch_size, self.n_embd, self.n_hidden) < 1:
            raise self.invalid("a count param is below 1", "budget, value_iters, batch_size, n_embd, n_hidden are >= 1")
        if self.lr <= 0:
            raise self.invalid(f"lr {self.lr}", "use a learning rate above 0, e.g. 3e-3")
        return self


@dataclass(frozen=True)
class SearchSettings(GuideSettings):
    """Study 1 (proof-search): best-first with a learned value vs breadth-first, by difficulty."""

    difficulties: tuple[int, ...] = (2, 3, 4, 5, 6, 7)  # test difficulties (random rewrites per theorem)
    train_depth: int = 6  # steps of the value's training walks; deeper difficulties are held out
    theorems: int = 100  # test theorems per difficulty
    walks: int = 1500  # training walks for the value
    targets: str = "walk"  # "walk", or "shuffled": the broken arm (a value trained on permuted step counts)
    learned_budget_scale: float = 1.0  # broken arm: 2.0 gives the learned search twice the expansions

    def validated(self) -> Self:
        super().validated()
        self.check_difficulties("difficulties", self.difficulties)
        self.check_difficulties("train_depth", (self.train_depth,))
        if min(self.theorems, self.walks) < 1:
            raise self.invalid("theorems and walks must be at least 1", "e.g. theorems=100 walks=1500")
        if self.targets not in ("walk", "shuffled"):
            raise self.invalid(f"targets '{self.targets}'", "use 'walk' or 'shuffled'")
        if self.learned_budget_scale <= 0:
            raise self.invalid(f"learned_budget_scale {self.learned_budget_scale}", "use 1.0 (equal budgets)")
        return self

    @property
    def learned_budget(self) -> int:
        return max(1, round(self.budget * self.learned_budget_scale))


@dataclass(frozen=True)
class IterationSettings(GuideSettings):
    """Study 2 (expert-iteration): rounds of search and learning from verified proofs, mixed pool vs hard-only."""

    budget: int = 100
    value_iters: int = 400
    curriculum: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # difficulties of the mixed pool
    hard: tuple[int, ...] = (8, 9, 10)  # difficulties of the hard-only pool
    heldout: tuple[int, ...] = (9,)  # difficulties of the held-out theorems every round is scored on
    pool: int = 200  # theorems in each pool, spread evenly over its difficulties
    heldout_theorems: int = 60
    rounds: int = 4  # guided rounds after the first, blind one
    siblings: int = 8  # untaken rewrites of each proof term the guide learns from (steps away from the goal)
    warm_start: bool = True  # each round's guide continues from the last one's weights
    feedback: str = "verified"  # broken arms: "unverified" (attempts fed back unchecked), "none"

    def validated(self) -> Self:
        super().validated()
        for name in ("curriculum", "hard", "heldout"):
            self.check_difficulties(name, getattr(self, name))
        if min(self.pool, self.heldout_theorems, self.rounds) < 1:
            raise self.invalid("pool, heldout_theorems and rounds must be at least 1", "e.g. pool=200 rounds=4")
        if self.pool < max(len(self.curriculum), len(self.hard)):
            raise self.invalid(f"pool {self.pool} is smaller than the number of difficulties in a pool",
                       "use at least one theorem per difficulty")
        if self.siblings < 0:
            raise self.invalid(f"siblings {self.siblings}", "use 0 or more untaken rewrites per proof step, e.g. 8")
        if self.feedback not in ("verified", "unverified", "none"):
            raise self.invalid(f"feedback '{self.feedback}'", "use 'verified', or a broken arm: 'unverified' or 'none'")
        return self
