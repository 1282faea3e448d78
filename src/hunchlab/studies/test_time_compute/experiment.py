"""The science: train the models, run every search method, return the result tables as plain dicts.

Nothing here knows about hunchlab runs; ``entries.py`` turns these tables into
logged metrics, records and figures. A result table maps stable metric names
(``acc/maj/k4/n64``) to numbers, so a test can check the finding directly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, ClassVar

import torch

from hunchlab.errors import SpecError
from hunchlab.studies.params import StudySettings, from_params
from hunchlab.studies.test_time_compute import search
from hunchlab.studies.test_time_compute.model import Generator, GeneratorConfig, Verifier, VerifierConfig
from hunchlab.studies.test_time_compute.world import (
    GENERATOR_FEATURES,
    MAX_STEPS,
    VERIFIER_FEATURES,
    Problems,
    Split,
    answer_correct,
    apply,
    make_split,
    seen_table,
    solve,
    step_correct,
    step_features,
)
from hunchlab.studies.training import Callback, TrainConfig, cached, train

AREA = "test_time_compute"  # the model cache's subfolder


@dataclass(frozen=True)
class Settings(StudySettings):
    """Every knob of both studies; a spec's ``params`` override these defaults."""

    k_values: tuple[int, ...] = (2, 4, 8)  # chain lengths; K is the difficulty
    n_values: tuple[int, ...] = (1, 4, 16, 64)  # test-time budgets: chains (best-of-N) or samples per step (beam)
    n_test: int = 500  # test problems per K
    n_dev: int = 300  # dev problems per K, for choosing a strategy per difficulty
    data_seed: int = 0  # fixes the problem splits and which steps the generator never sees
    holdout_frac: float = 0.15  # share of the 200 (value, operation) steps held out of the generator's training
    temperature: float = 1.0  # sampling temperature of the generator
    generator_iters: int = 600
    verifier_problems: int = 1000  # training problems per K for the verifiers
    verifier_samples: int = 8  # generator chains sampled per verifier training problem
    verifier_iters: int = 1500
    prm_labels: str = "correct"  # "correct", or "shuffled": the broken arm of the self-consistency study
    prm_label_noise: float = 0.0  # chance each PRM step label is flipped (weaker-PRM knob)
    prm_data_frac: float = 1.0  # share of the verifier training chains the PRM gets (weaker-PRM knob)
    beam_width: int = 4  # continuations sampled per kept prefix; N / width prefixes are kept
    beam_keep: search.Keep = "highest"  # "highest", or "lowest": the broken arm of the search study
    beam_budget: int = 1  # broken arm when > 1: beam search samples this many times N per step (unequal compute)
    vote: str = "majority"  # "majority", or "random": the broken arm of the vote (a uniformly random pick)
    prm_leak: float = 0.0  # broken arm when > 0: this share of the PRM's score is whether the answer is right
    examples_per_cell: int = 3  # per-example records kept per (K, method, N)
    seeds: int = 1  # training seeds in one run (run.seed, run.seed + 1000, ...); figures get error bars when > 1

    where: ClassVar[str] = "test_time_compute study"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Settings from a run's params, failing with a SpecError on unknown names or bad values."""
        s = from_params(cls, config, where=cls.where)
        return replace(s, k_values=tuple(sorted(s.k_values)), n_values=tuple(sorted(s.n_values))).validated()

    def validated(self) -> Settings:
        def bad(what: str, fix: str) -> SpecError:
            return SpecError(what, where="test_time_compute study", fix=fix)

        if not self.k_values or any(k < 1 or k > MAX_STEPS for k in self.k_values):
            raise bad(f"k_values {list(self.k_values)} out of range", f"use chain lengths from 1 to {MAX_STEPS}")
        for n in self.n_values:
            keep = max(1, n // self.beam_width)
            if n < 1 or max(self.n_values) % n:
                raise bad(
                    f"budget n={n} does not divide the largest budget {max(self.n_values)}",
                    "use budgets that divide the largest one, e.g. powers of 2",
                )
            if n % keep:
                raise bad(
                    f"budget n={n} does not split into beams of width {self.beam_width}",
                    "use budgets that are multiples of n // beam_width, e.g. powers of 2 with beam_width 4",
                )
        if self.prm_labels not in ("correct", "shuffled"):
            raise bad(f"prm_labels '{self.prm_labels}'", "use 'correct' or 'shuffled'")
        if self.beam_keep not in ("highest", "lowest"):
            raise bad(f"beam_keep '{self.beam_keep}'", "use 'highest' or 'lowest'")
        if self.vote not in ("majority", "random"):
            raise bad(f"vote '{self.vote}'", "use 'majority' or 'random'")
        if not 0 <= self.prm_leak <= 1 or self.beam_budget < 1:
            raise bad("a broken-arm knob is out of range", "prm_leak in [0, 1], beam_budget >= 1")
        if min(self.seeds, self.n_test, self.n_dev, self.beam_width, self.verifier_problems, self.verifier_samples) < 1:
            raise bad("a count param is below 1", "seeds, n_test, n_dev, beam_width and verifier sizes must be >= 1")
        if self.temperature <= 0:
            raise bad(f"temperature {self.temperature}", "use a temperature above 0")
        if not 0 < self.prm_data_frac <= 1 or not 0 <= self.prm_label_noise <= 0.5:
            raise bad("weaker-PRM knob out of range", "prm_data_frac in (0, 1], prm_label_noise in [0, 0.5]")
        return self


@dataclass
class Models:
    generator: Generator
    prm: Verifier
    orm: Verifier


def build_models(s: Settings, seed: int, log: Callable[[str], Callback] | None = None) -> Models:
    """The generator and both verifiers, trained or taken from the cache.

    ``log(name)`` gives the callback for model ``name``'s training loss (it is
    not called for cached models). The generator learns the seen part of the
    step table. The verifiers learn from the generator's own samples on
    training problems, labelled by the checker: per step for the PRM, by the
    final answer (at every step) for the ORM.
    """
    generator, gen_spec = build_generator(s.holdout_frac, s.data_seed, s.generator_iters, seed, _cb(log, "generator"))
    x, prm_y, orm_y = verifier_data(generator, s, seed)
    orm_spec = {
        "model": VerifierConfig(VERIFIER_FEATURES),
        "train": TrainConfig(iters=s.verifier_iters),
        "data": {
            "generator": gen_spec,
            "k_values": s.k_values,
            "problems": s.verifier_problems,
            "samples": s.verifier_samples,
            "temperature": s.temperature,
        },
        "seed": seed,
    }
    prm_spec = {**orm_spec, "labels": s.prm_labels, "label_noise": s.prm_label_noise, "data_frac": s.prm_data_frac}
    prm_y = corrupt_labels(prm_y, s, seed)

    def verifier(name: str, spec: dict[str, Any], y: torch.Tensor) -> Verifier:
        def fit(model: Verifier) -> Verifier:
            return train(model, x[: len(y)], y, spec["train"], seed + 1, _cb(log, name))

        torch.manual_seed(seed + 1)  # both verifiers start from the same weights
        model, _ = cached(AREA, name, spec, lambda: Verifier(spec["model"]), fit)
        return model

    return Models(generator, verifier("prm", prm_spec, prm_y), verifier("orm", orm_spec, orm_y))


def build_generator(
    holdout_frac: float, data_seed: int, iters: int, seed: int, callback: Callback | None = None
) -> tuple[Generator, dict[str, Any]]:
    """The generator trained on the seen part of the step table, or from the cache, and its cache spec.

    The spec goes into the spec of every model trained on the generator's samples.
    """
    spec: dict[str, Any] = {
        "model": GeneratorConfig(GENERATOR_FEATURES),
        "train": TrainConfig(iters=iters),
        "holdout_frac": holdout_frac,
        "data_seed": data_seed,
        "seed": seed,
    }

    def fit(model: Generator) -> Generator:
        x, y = seen_steps(holdout_frac, data_seed)
        return train(model, x, y, spec["train"], seed, callback)

    torch.manual_seed(seed)
    generator, _ = cached(AREA, "generator", spec, lambda: Generator(spec["model"]), fit)
    return generator, spec


def seen_steps(holdout_frac: float, data_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The generator's training set: every seen (value, operation) step and its result, (S, 1, 2) and (S, 1)."""
    seen = seen_table(holdout_frac, data_seed)  # (10, 20)
    value, op = seen.nonzero(as_tuple=True)  # (S,), (S,)
    return torch.stack([value, op], dim=1)[:, None, :], apply(value, op)[:, None]


def _cb(log: Callable[[str], Callback] | None, name: str) -> Callback | None:
    return None if log is None else log(name)


def verifier_data(generator: Generator, s: Settings, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Generator samples on the training problems of every K, with process and outcome labels.

    Returns features (M, 8, 4) and targets (M, 8) for the PRM and the ORM, padded
    to 8 steps with -1 (ignored). PRM targets stop after the first wrong step,
    as in Lightman et al. 2023, so the PRM learns to find the first error and
    gets no extra information from later steps.
    """
    g = torch.Generator().manual_seed(seed + 2)
    xs, prm_ys, orm_ys = [], [], []
    for k in s.k_values:
        problems = make_split(k, s.verifier_problems, 0, 0, s.data_seed).train
        chains = search.sample_chains(generator, problems, s.verifier_samples, s.temperature, g)
        flat = problems.expand(s.verifier_samples)
        chains = chains.view(len(flat), k)  # (M_k, K)
        step_ok = step_correct(flat, chains)  # (M_k, K)
        before_error = torch.cumprod(step_ok.long(), dim=1)  # 1 up to (not incl.) the first error
        first_error_or_before = torch.cat([torch.ones_like(step_ok[:, :1]), before_error[:, :-1]], dim=1).bool()
        prm_y = torch.where(first_error_or_before, step_ok.long(), -1)
        orm_y = answer_correct(flat, chains).long()[:, None].expand(-1, k)
        pad = MAX_STEPS - k
        xs.append(torch.nn.functional.pad(step_features(flat, chains, verifier=True), (0, 0, 0, pad)))
        prm_ys.append(torch.nn.functional.pad(prm_y, (0, pad), value=-1))
        orm_ys.append(torch.nn.functional.pad(orm_y, (0, pad), value=-1))
    perm = torch.randperm(sum(len(x) for x in xs), generator=g)  # shuffled: prm_data_frac keeps a random share
    return torch.cat(xs)[perm], torch.cat(prm_ys)[perm], torch.cat(orm_ys)[perm]


def corrupt_labels(y: torch.Tensor, s: Settings, seed: int) -> torch.Tensor:
    """The PRM's labels after the weaker-PRM knobs and the shuffled-labels broken arm."""
    g = torch.Generator().manual_seed(seed + 3)
    y = y[: max(1, int(len(y) * s.prm_data_frac))].clone()
    valid = y >= 0
    if s.prm_label_noise > 0:
        flip = (torch.rand(y.shape, generator=g) < s.prm_label_noise) & valid
        y[flip] = 1 - y[flip]
    if s.prm_labels == "shuffled":  # same label counts, no relation to the steps
        y[valid] = y[valid][torch.randperm(int(valid.sum()), generator=g)]
    return y


def split_for(s: Settings, k: int) -> Split:
    return make_split(k, 0, s.n_dev, s.n_test, s.data_seed)


def rng(*parts: int) -> torch.Generator:
    """A generator seeded from several integers (seed, K, purpose), so streams never overlap."""
    seed = 0
    for part in parts:
        seed = seed * 1_000_003 + part
    return torch.Generator().manual_seed(seed % 2**63)


# ---------------------------------------------------------------------------
# Candidates: N sampled chains per problem, scored once, selected many ways


@dataclass
class Candidates:
    """N sampled chains per problem with their correctness, verifier scores and the compute they took."""

    problems: Problems
    chains: torch.Tensor  # (P, N, K)
    correct: torch.Tensor  # (P, N) bool: the chain's answer is right
    prm: torch.Tensor  # (P, N) PRM score: product of step probabilities
    orm: torch.Tensor  # (P, N) ORM score: probability at the last step
    spent: dict[str, float]  # per problem: "generated" steps, "prm"/"orm" steps each verifier judged

    def groups(self, n: int) -> Candidates:
        """The pool cut into disjoint groups of n: (P * N/n, n, ...), problems repeated per group.

        Averaging a method over all groups estimates its accuracy at budget n with
        far less noise than drawing n chains once. Each group costs n/N of a problem's pool.
        """
        P, N, K = self.chains.shape
        g = N // n
        return Candidates(
            self.problems.expand(g),
            self.chains.reshape(P * g, n, K),
            self.correct.reshape(P * g, n),
            self.prm.reshape(P * g, n),
            self.orm.reshape(P * g, n),
            {k: v * n / N for k, v in self.spent.items()},
        )


def sample_candidates(models: Models, problems: Problems, n: int, temperature: float, g: torch.Generator,
                      leak: float = 0.0) -> Candidates:
    """N chains per problem, scored by both verifiers, with the compute counted where it is spent.

    ``leak`` is the broken arm that lets the PRM see whether each chain's answer is
    right: that share of its score is the answer's correctness (a side channel, not
    something it read in the chain).
    """
    generated, prm_spent, orm_spent = search.Budget(), search.Budget(), search.Budget()
    chains = search.sample_chains(models.generator, problems, n, temperature, g, generated)  # (P, N, K)
    correct = answer_correct(problems.expand(n), chains.flatten(0, 1)).view(len(problems), n)
    prm = search.prm_score(models.prm, problems, chains, prm_spent)
    if leak:
        prm = (1.0 - leak) * prm + leak * correct.float()
    orm = search.orm_score(models.orm, problems, chains, orm_spent)
    P = len(problems)
    spent = {"generated": generated.generated / P, "prm": prm_spent.verified / P, "orm": orm_spent.verified / P}
    return Candidates(problems, chains, correct, prm, orm, spent)


def vote_scores(c: Candidates, vote: str, g: torch.Generator) -> torch.Tensor:
    """Majority vote's scores (each chain's answer's vote share), or the random broken arm's, (P, N)."""
    if vote == "random":
        return torch.rand(c.correct.shape, generator=g)
    return search.vote_share(c.chains)


def unrelated_prm_gain(models: Models, pool: Candidates, leak: float, n: int = 16) -> float:
    """PRM best-of-n accuracy when the PRM reads another problem's chains instead of these, minus random.

    The leakage probe: a PRM that learned from the chains then scores candidates by
    text unrelated to them, so its pick is a random one and its gain is 0 (an
    unbiased zero: shuffling chains within a problem would never let it pick the chain
    it read, which is worse than random); a PRM that sees the answer some other way
    keeps its gain. The pool is cut into groups of n=16 (4 picks per problem): one
    PRM pass over the pool; the null's spread over seeds is in check.py.
    """
    P, N, _ = pool.chains.shape
    other = torch.roll(torch.arange(P), 1)  # every problem reads the next problem's chains
    scores = search.prm_score(models.prm, Problems(pool.problems.start[other], pool.problems.ops[other]),
                              pool.chains[other])
    if leak:
        scores = (1.0 - leak) * scores + leak * pool.correct.float()
    n = min(n, N)
    correct, scores = pool.correct.reshape(-1, n), scores.reshape(-1, n)  # (P * N/n, n): groups of one problem
    return accuracy(correct, search.best_of_n(scores)) - correct.float().mean().item()


# Each verifier method scores every candidate, (P, n) -> (P, n), and picks the highest (ties: the
# first); majority vote is ``vote_scores``. VERIFIER says whose judged steps a method's budget counts.
SCORERS: dict[str, Callable[[Candidates], torch.Tensor]] = {
    "orm": lambda c: c.orm,
    "prm": lambda c: c.prm,
    "pass": lambda c: c.correct.float(),  # oracle: a correct chain whenever there is one
}
VERIFIER = {"maj": None, "orm": "orm", "prm": "prm"}


def record_budget(metrics: dict[str, float], method: str, k: int, n: int, spent: dict[str, float],
                  verifier: str | None) -> None:
    """A method's compute per problem at (K, N): sampled steps, and steps its verifier judged."""
    metrics[f"budget/generated/{method}/k{k}/n{n}"] = spent["generated"]
    metrics[f"budget/verified/{method}/k{k}/n{n}"] = spent[verifier] if verifier else 0.0


def accuracy(correct: torch.Tensor, index: torch.Tensor) -> float:
    return correct.gather(1, index[:, None]).float().mean().item()


# ---------------------------------------------------------------------------
# Records: a few worked examples per (K, method, N), for browsing what each method picks


def chain_text(chain: torch.Tensor) -> str:
    return " ".join(str(int(v)) for v in chain)


def chains_summary(chains: torch.Tensor, shown: int = 6) -> str:
    """The distinct candidate chains, most common first, with counts: ``"14x 1 0 | 2x 4 3 | +1 more"``."""
    counts = Counter(chain_text(chain) for chain in chains).most_common()
    text = " | ".join(f"{count}x {chain}" for chain, count in counts[:shown])
    return text + (f" | +{len(counts) - shown} more" if len(counts) > shown else "")


def records(
    k: int, method: str, n: int, c: Candidates, scores: torch.Tensor, index: torch.Tensor, rows: range
) -> list[dict[str, Any]]:
    """Per-example records for some groups: the problem, its candidates, the pick, right or not."""
    out = []
    for row in rows:
        j = int(index[row])
        out.append(
            {
                "id": f"k{k}-{method}-n{n}-p{row // rows.step}",
                "input": c.problems.describe(row),
                "output": chain_text(c.chains[row, j]),
                "target": chain_text(solve(c.problems[row : row + 1])[0]),
                "correct": bool(c.correct[row, j]),
                "score": float(scores[row, j]),
                "k": k,
                "method": method,
                "n": n,
                "chains": chains_summary(c.chains[row]),
            }
        )
    return out


def example_rows(s: Settings, n: int) -> range:
    """The first group of each of the first few problems (groups of one problem are adjacent)."""
    per_problem = max(s.n_values) // n
    return range(0, s.examples_per_cell * per_problem, per_problem)


@dataclass
class Result:
    metrics: dict[str, float]  # summary metrics of one seed
    records: list[dict[str, Any]]  # per-example records
    choices: dict[str, str] = field(default_factory=dict)  # compute-optimal strategy per "k{K}/n{N}"


TEST, DEV = 1, 2  # purposes for rng(): the same test samples in both studies, fresh ones on dev


# ---------------------------------------------------------------------------
# Study 1: self-consistency, and process vs outcome verification


def self_consistency_table(s: Settings, models: Models, seed: int) -> Result:
    """Single-sample accuracy, majority@N, ORM and PRM best-of-N and pass@N for every K and N, on test.

    Also the compute each method spent (all pick from the same chains; the two
    verifiers judge every step of every candidate) and the leakage probe at the largest N.
    """
    metrics: dict[str, float] = {}
    recs: list[dict[str, Any]] = []
    for k in s.k_values:
        g = rng(seed, k, TEST)
        pool = sample_candidates(models, split_for(s, k).test, max(s.n_values), s.temperature, g, s.prm_leak)
        metrics[f"acc/single/k{k}"] = pool.correct.float().mean().item()
        for n in s.n_values:
            c = pool.groups(n)
            majority: Callable[[Candidates], torch.Tensor] = partial(vote_scores, vote=s.vote, g=g)
            scorers = {"maj": majority, **SCORERS}
            for method, scorer in scorers.items():
                scores = scorer(c)
                index = search.best_of_n(scores)
                metrics[f"acc/{method}/k{k}/n{n}"] = accuracy(c.correct, index)
                recs += records(k, method, n, c, scores, index, example_rows(s, n))
                if method in VERIFIER:
                    record_budget(metrics, method, k, n, c.spent, VERIFIER[method])
            metrics[f"gap/maj_minus_single/k{k}/n{n}"] = metrics[f"acc/maj/k{k}/n{n}"] - metrics[f"acc/single/k{k}"]
            metrics[f"gap/prm_minus_maj/k{k}/n{n}"] = metrics[f"acc/prm/k{k}/n{n}"] - metrics[f"acc/maj/k{k}/n{n}"]
            metrics[f"gap/prm_minus_orm/k{k}/n{n}"] = metrics[f"acc/prm/k{k}/n{n}"] - metrics[f"acc/orm/k{k}/n{n}"]
        orm = [metrics[f"acc/orm/k{k}/n{n}"] for n in s.n_values]
        metrics[f"orm_drop_from_peak/k{k}"] = max(orm) - orm[-1]  # reward over-optimisation as N grows
        metrics[f"leak/prm_gain_unrelated_chains/k{k}"] = unrelated_prm_gain(models, pool, s.prm_leak)
    return Result(metrics, recs)


# ---------------------------------------------------------------------------
# Study 2: which search wins depends on difficulty and budget

STRATEGIES = ("maj", "bon", "beam")  # what the compute-optimal policy may choose from, per K and N


def search_table(s: Settings, models: Models, seed: int) -> Result:
    """Majority, PRM best-of-N weighted and PRM beam search for every K and N, and the compute-optimal policy.

    The compute-optimal policy takes, per K and N, the strategy that is best on
    the dev split and is scored on test (Snell et al. 2024 choose per
    difficulty bin the same way). Budgets are generation budgets, as in Snell
    et al.: N chains for best-of-N and majority, N samples per step for beam
    search. Beam search at a small N is repeated on copies of each problem, as
    best-of-N is averaged over groups, so both are measured equally precisely.
    """
    n_max = max(s.n_values)
    acc: dict[tuple[str, int, str, int], float] = {}
    recs: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    for k in s.k_values:
        split = split_for(s, k)
        for name, purpose, problems in (("dev", DEV, split.dev), ("test", TEST, split.test)):
            g = rng(seed, k, purpose)
            pool = sample_candidates(models, problems, n_max, s.temperature, g, s.prm_leak)
            if purpose == TEST:
                metrics[f"acc/single/k{k}"] = pool.correct.float().mean().item()
                metrics[f"leak/prm_gain_unrelated_chains/k{k}"] = unrelated_prm_gain(models, pool, s.prm_leak)
            for n in s.n_values:
                c = pool.groups(n)
                acc[name, k, "maj", n] = accuracy(c.correct, search.best_of_n(vote_scores(c, s.vote, g)))
                weighted = search.answer_weight(c.chains, c.prm)
                acc[name, k, "bon", n] = accuracy(c.correct, search.best_of_n(weighted))
                beam = beam_candidates(models, c.problems, n * s.beam_budget, s, rng(seed, k, purpose, n))  # same copies
                beam_weighted = search.answer_weight(beam.chains, beam.prm)
                beam_index = search.best_of_n(beam_weighted if s.beam_keep == "highest" else -beam_weighted)
                acc[name, k, "beam", n] = accuracy(beam.correct, beam_index)
                if purpose == TEST:
                    rows = example_rows(s, n)
                    recs += records(k, "bon", n, c, weighted, search.best_of_n(weighted), rows)
                    recs += records(k, "beam", n, beam, beam_weighted, beam_index, rows)
                    record_budget(metrics, "bon", k, n, c.spent, "prm")
                    record_budget(metrics, "beam", k, n, beam.spent, "prm")

    for (split_name, k, strategy, n), value in acc.items():
        if split_name == "test":
            metrics[f"acc/{strategy}/k{k}/n{n}"] = value
    for k in s.k_values:
        for n in s.n_values:
            metrics[f"beam_minus_bon/k{k}/n{n}"] = acc["test", k, "beam", n] - acc["test", k, "bon", n]

    choices = {
        f"k{k}/n{n}": max(STRATEGIES, key=lambda strategy: acc["dev", k, strategy, n])
        for k in s.k_values
        for n in s.n_values
    }
    for n in s.n_values:
        for strategy in ("bon", "beam"):
            metrics[f"acc/{strategy}/all/n{n}"] = mean(acc["test", k, strategy, n] for k in s.k_values)
        metrics[f"acc/compute_optimal/n{n}"] = mean(acc["test", k, choices[f"k{k}/n{n}"], n] for k in s.k_values)
    metrics["compute_optimal/savings"] = savings(metrics, s.n_values)
    return Result(metrics, recs, choices)


def beam_candidates(models: Models, problems: Problems, n: int, s: Settings, g: torch.Generator) -> Candidates:
    """The N final chains of a PRM beam search on each problem, scored like sampled candidates.

    Its compute per problem is what the search counted: N sampled steps and N PRM
    judgements per step (the final ORM scores are not part of the method).
    """
    spent = search.Budget()
    chains, scores = search.beam_search(
        models.generator, models.prm, problems, n, s.beam_width, s.temperature, g, s.beam_keep, spent
    )
    correct = answer_correct(problems.expand(n), chains.flatten(0, 1)).view(len(problems), n)
    P = len(problems)
    return Candidates(problems, chains, correct, scores, search.orm_score(models.orm, problems, chains),
                      {"generated": spent.generated / P, "prm": spent.verified / P, "orm": 0.0})


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values)


def mean_metrics(results: list[Result]) -> dict[str, float]:
    """Each metric averaged over seeds."""
    return {name: mean(r.metrics[name] for r in results) for name in results[0].metrics}


def savings(metrics: dict[str, float], n_values: tuple[int, ...]) -> float:
    """How many times less compute the compute-optimal policy needs to match best-of-N at the largest budget.

    ``N_max / N*``, where N* is the budget at which the compute-optimal test
    accuracy (all K together) first reaches best-of-N's at N_max, interpolated
    linearly in log2(N) between measured budgets, as one reads it off Snell et
    al.'s curves; 0 when it never does.
    """
    n = sorted(n_values)
    target = metrics[f"acc/bon/all/n{n[-1]}"]
    acc = [metrics[f"acc/compute_optimal/n{x}"] for x in n]
    for i, a in enumerate(acc):
        if a >= target:
            if i == 0:
                return n[-1] / n[0]
            frac = (target - acc[i - 1]) / (a - acc[i - 1])
            return n[-1] / 2 ** (math.log2(n[i - 1]) + frac * (math.log2(n[i]) - math.log2(n[i - 1])))
    return 0.0
