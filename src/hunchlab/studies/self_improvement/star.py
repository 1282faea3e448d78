"""STaR on the chain world: sample your own chains, keep those with the right answer, retrain, repeat.

Zelikman et al. 2022 (Algorithm 1, without rationalization): a model writes a
rationale and an answer for every training problem; the rationales whose answer
is right are kept; the *original* model is fine-tuned on them; the new model
writes the next round's rationales. Here:

- the policy is the test-time-compute generator trained on half of the step
  table (``holdout_frac`` 0.5): it has never seen the other half, and on those
  steps it samples the right value about 6% of the time;
- a round samples ``samples`` chains of ``star_k`` steps per training problem
  (the same ``star_problems`` problems every round, as STaR reuses its data
  set), keeps them by ``filter``, and fine-tunes the base policy for
  ``finetune_iters`` on every step of every kept chain;
- the only signal about the unseen steps is the final answer. A chain that got
  an unseen step right by chance, and the other steps too, ends on the right
  answer and is kept, so the next policy samples that step right more often:
  the bootstrap.

``filter`` is the broken arm: ``none`` keeps every chain (the policy imitates
itself, errors included), ``shuffled`` keeps the chains whose answer matches
another problem's answer (a filter against wrong answers). ``star_k`` is the
curriculum knob: one chain length per round, the last repeated, so ``[4]``
trains on long chains from the start and ``[1, 2, 4]`` grows them.

Every number is exact from the policy's step table (``policy.py``), measured
after every round on fixed test problems, so the seed-to-seed spread is the
spread of STaR itself, not of the evaluation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from hunchlab.errors import SpecError
from hunchlab.studies.params import from_params
from hunchlab.studies.self_improvement import policy as pol
from hunchlab.studies.test_time_compute import search
from hunchlab.studies.test_time_compute.experiment import build_generator, chain_text, rng
from hunchlab.studies.test_time_compute.model import Generator, GeneratorConfig
from hunchlab.studies.test_time_compute.world import (
    MAX_STEPS,
    Problems,
    answer_correct,
    make_split,
    seen_table,
    solve,
    step_correct,
    step_features,
)
from hunchlab.studies.training import Callback, TrainConfig, cached, train

AREA = "self_improvement"  # the model cache's subfolder
WHERE = "star study"
FILTERS = ("answer", "none", "shuffled")
SAMPLE, SHUFFLE = 1, 2  # purposes for rng(): the round's samples, the shuffled answers


@dataclass(frozen=True)
class StarSettings:
    """Every knob of the STaR study; a spec's ``params`` override these defaults.

    Measured behind the defaults: holding out half the table puts round 0 at
    step accuracy 0.44 (held-out steps 0.06), room to grow; 3,000 problems a
    round give a gain of 0.17 +- 0.013 after 3 rounds (5 runs), where 1,000 gave
    0.10-0.14 (2 seeds), since each round's lucky right steps scale with the
    problems; 600 + 5 x 300 training iterations take 2.5-4 s of CPU per seed;
    5 seeds give a 95% interval of about +-0.03 on step accuracy after round 5.
    """

    holdout_frac: float = 0.5  # share of the 200 steps the base policy never sees
    data_seed: int = 0  # fixes the held-out steps and the problems
    generator_iters: int = 600  # training of the base policy on the seen steps
    rounds: int = 5  # sample -> filter -> fine-tune iterations
    star_k: tuple[int, ...] = (2,)  # chain length sampled in round r (the last repeats): the curriculum knob
    star_problems: int = 3000  # training problems per chain length, the same every round
    samples: int = 1  # chains sampled per training problem per round
    temperature: float = 1.0  # sampling temperature of the policy
    finetune_iters: int = 300  # fine-tuning of the base policy on each round's kept chains
    filter: str = "answer"  # "answer" (STaR); broken arms: "none", "shuffled"
    test_k: tuple[int, ...] = (2, 4)  # chain lengths of the test problems for answer accuracy
    n_test: int = 1000  # test problems per test length
    seeds: int = 5  # STaR runs in one run (run.seed, run.seed + 1000, ...): the intervals are over these
    examples_per_round: int = 6  # sampled chains kept as per-example records per round (first seed)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StarSettings:
        """Settings from a run's params, failing with a SpecError on unknown names or bad values."""
        return from_params(cls, config, WHERE).validated()

    def validated(self) -> StarSettings:
        def bad(what: str, fix: str) -> SpecError:
            return SpecError(what, where=WHERE, fix=fix)

        for name, ks in (("star_k", self.star_k), ("test_k", self.test_k)):
            if not ks or any(k < 1 or k > MAX_STEPS for k in ks):
                raise bad(f"{name} {list(ks)} out of range", f"use chain lengths from 1 to {MAX_STEPS}")
        if self.filter not in FILTERS:
            raise bad(f"filter '{self.filter}'", f"use one of {', '.join(FILTERS)}")
        if min(self.rounds, self.star_problems, self.samples, self.n_test, self.seeds, self.finetune_iters) < 1:
            raise bad("a count param is below 1", "rounds, star_problems, samples, n_test, seeds, finetune_iters >= 1")
        if not 0 <= self.holdout_frac < 1:
            raise bad(f"holdout_frac {self.holdout_frac}", "use a share in [0, 1)")
        if self.temperature <= 0:
            raise bad(f"temperature {self.temperature}", "use a temperature above 0")
        return self

    def k_at(self, round_: int) -> int:
        """The chain length sampled in round ``round_`` (0-based)."""
        return self.star_k[min(round_, len(self.star_k) - 1)]


@dataclass
class StarResult:
    metrics: dict[str, float]  # summary metrics of one seed: per round (``.../r{r}``) and the gains
    records: list[dict[str, Any]]  # sampled chains, kept or not, per round


@dataclass
class Sampled:
    """One round's chains: ``problems`` repeated per sample, (M,), and their chains, (M, K)."""

    problems: Problems
    chains: torch.Tensor
    keep: torch.Tensor  # (M,) bool: the filter kept the chain


def run_star(s: StarSettings, seed: int, log: Callable[[str], Callback] | None = None) -> StarResult:
    """The base policy, then ``rounds`` rounds of STaR, measured before the first and after every round.

    ``log(name)`` gives the callback for a model's training loss: ``"policy"``
    for the base policy, ``"finetune/r{r}"`` for round r's (not called for a
    model that came from the cache).
    """
    base, spec = build_generator(s.holdout_frac, s.data_seed, s.generator_iters, seed, _cb(log, "policy"))
    seen = seen_table(s.holdout_frac, s.data_seed)
    tests = {k: make_split(k, 0, 0, s.n_test, s.data_seed).test for k in s.test_k}
    metrics: dict[str, float] = {}
    records: list[dict[str, Any]] = []
    current = base
    for r in range(s.rounds + 1):
        metrics |= {f"{name}/r{r}": value for name, value in measure(current, seen, tests, s.temperature).items()}
        if r == s.rounds:
            break
        sampled = sample_round(current, s, r, seed)
        metrics |= {f"{name}/r{r}": value for name, value in filter_stats(sampled).items()}
        records += round_records(sampled, r, s.examples_per_round)
        spec = {"from": spec, "round": r, "k": s.k_at(r), "problems": s.star_problems, "samples": s.samples,
                "temperature": s.temperature, "filter": s.filter, "train": TrainConfig(iters=s.finetune_iters),
                "seed": seed}
        current = finetune(base, spec, sampled, seed + 1 + r, _cb(log, f"finetune/r{r}"))
    return StarResult(metrics | gains(metrics, s), records)


def _cb(log: Callable[[str], Callback] | None, name: str) -> Callback | None:
    return None if log is None else log(name)


def measure(current: Generator, seen: torch.Tensor, tests: dict[int, Problems], temperature: float) -> dict[str, float]:
    """Step accuracy (all, seen and held-out steps) and answer accuracy per test length, exactly."""
    table = pol.step_table(current, temperature)
    out = {
        "step_acc": pol.step_accuracy(table),
        "step_acc_seen": pol.step_accuracy(table, seen),
        "step_acc_unseen": pol.step_accuracy(table, ~seen) if (~seen).any() else float("nan"),
    }
    out |= {f"answer_acc/k{k}": pol.answer_accuracy(table, problems) for k, problems in tests.items()}
    return out


def sample_round(current: Generator, s: StarSettings, r: int, seed: int) -> Sampled:
    """The policy's chains on the round's training problems, and which the filter keeps."""
    k = s.k_at(r)
    problems = make_split(k, s.star_problems, 0, 0, s.data_seed).train
    chains = search.sample_chains(current, problems, s.samples, s.temperature, rng(seed, r, SAMPLE))  # (P, S, K)
    flat = problems.expand(s.samples)
    chains = chains.view(len(flat), k)  # (M, K)
    if s.filter == "answer":
        keep = answer_correct(flat, chains)
    elif s.filter == "none":
        keep = torch.ones(len(flat), dtype=torch.bool)
    else:  # "shuffled": the answer of another problem, drawn per training problem
        perm = torch.randperm(len(problems), generator=rng(seed, r, SHUFFLE))
        wrong = solve(problems)[perm, -1].repeat_interleave(s.samples)  # (M,)
        keep = chains[:, -1] == wrong
    return Sampled(flat, chains, keep)


def filter_stats(sampled: Sampled) -> dict[str, float]:
    """What the filter let through: its yield, its precision (every step right), and wrong answers kept."""
    kept = sampled.keep
    all_right = step_correct(sampled.problems, sampled.chains).all(dim=1)  # (M,)
    right_answer = answer_correct(sampled.problems, sampled.chains)  # (M,)
    n_kept = int(kept.sum())
    return {
        "kept": n_kept / len(kept),
        "kept_all_steps_right": all_right[kept].float().mean().item() if n_kept else float("nan"),
        "kept_wrong_answer": float((kept & ~right_answer).sum()),
        "trained": float(n_kept > 0),
    }


def finetune(
    base: Generator, spec: dict[str, Any], sampled: Sampled, seed: int, callback: Callback | None
) -> Generator:
    """The base policy fine-tuned on every step of the kept chains (from the cache when trained before).

    With nothing kept there is nothing to learn from, and the round returns the
    base policy unchanged.
    """
    problems = Problems(sampled.problems.start[sampled.keep], sampled.problems.ops[sampled.keep])
    chains = sampled.chains[sampled.keep]  # (M', K)
    if len(chains) == 0:
        return base
    x = step_features(problems, chains, verifier=False).reshape(-1, 1, 2)  # (M' * K, 1, 2): one step each
    y = chains.reshape(-1, 1)  # (M' * K, 1)
    model, _ = cached(AREA, "star-policy", spec, lambda: copy.deepcopy(base),
                      lambda m: train(m, x, y, spec["train"], seed, callback))
    return model


def round_records(sampled: Sampled, r: int, n: int) -> list[dict[str, Any]]:
    """The round's first ``n`` sampled chains: the problem, the chain, right or not, kept or not."""
    steps_right = step_correct(sampled.problems, sampled.chains).sum(dim=1)  # (M,)
    right = answer_correct(sampled.problems, sampled.chains)
    truth = solve(sampled.problems[:n])
    return [
        {
            "id": f"r{r}-p{i}",
            "input": sampled.problems.describe(i),
            "output": chain_text(sampled.chains[i]),
            "target": chain_text(truth[i]),
            "correct": bool(right[i]),
            "score": float(sampled.keep[i]),
            "round": r,
            "k": sampled.problems.k,
            "kept": bool(sampled.keep[i]),
            "steps_right": int(steps_right[i]),
        }
        for i in range(min(n, len(sampled.chains)))
    ]


def step_cap() -> float:
    """The highest step accuracy the policy's loss allows: label smoothing keeps 10% off the right value.

    With smoothing e over 10 values the loss is lowest at 1 - e + e/10 (0.91 for
    the generator's e = 0.1); a policy above it learned from something else.
    """
    e = GeneratorConfig.label_smoothing
    return 1 - e + e / 10


def gains(metrics: dict[str, float], s: StarSettings) -> dict[str, float]:
    """Last round minus round 0, for every accuracy; the share of the reachable gap closed; the filter's tally."""
    last = s.rounds
    out = {}
    for name in ("step_acc", "step_acc_seen", "step_acc_unseen", *(f"answer_acc/k{k}" for k in s.test_k)):
        out[f"gain/{name}"] = metrics[f"{name}/r{last}"] - metrics[f"{name}/r0"]
    out["gain/answer_acc"] = out[f"gain/answer_acc/k{max(s.test_k)}"]  # the longest test chains
    room = step_cap() - metrics["step_acc_unseen/r0"]
    out["gap_closed/step_acc_unseen"] = out["gain/step_acc_unseen"] / room
    out["kept_wrong_answer"] = sum(metrics[f"kept_wrong_answer/r{r}"] for r in range(last))
    out["rounds_trained"] = sum(metrics[f"trained/r{r}"] for r in range(last))
    out["rounds"] = float(last)
    return out
